//! Per-connection state (pure Rust, no Python; its system calls are in `sys`).
//!
//! `Conn` owns one client socket (closed on drop) with its receive buffer, head scanner,
//! phase and deadline; `Conn::advance` is its state machine (idle → head → optional body
//! pre-read → ready; discard of an unread body; lingering close). A `StageClock` is the
//! mod_reqtimeout-style deadline of a head or a body: an initial timeout, extended by the
//! bytes received at a minimum rate, up to a cap. While a request is being
//! answered the `Conn` is lent to the `RawRequest` through a `Loan`; giving it back pushes
//! it onto the `Shared` return queue, which the engine absorbs at its next call.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::parse::{parse_complete, Framing, Head, HeadLimits, HeadScanner, Scan};
use crate::sys;
use crate::tls::Session;

/// Where a connection is in its life, as seen by the engine loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No byte of the next request yet (fresh or kept alive).
    Idle,
    /// Reading a head (deadline: the header clock, started at its first byte).
    Head,
    /// Head parsed; pre-reading a small Content-Length body.
    Body(u64),
    /// A complete request is waiting in the ready queue.
    Ready,
    /// Throwing away this many bytes of an unread body before the next request.
    Discard(u64),
    /// Write side shut down; reading until the client closes (lingering close).
    Linger,
}

pub struct Conn {
    pub fd: RawFd,
    pub buf: Vec<u8>,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Requests already handed out on this connection.
    pub served: u32,
    pub phase: Phase,
    /// When the engine acts on this connection if nothing happens (408, close).
    pub deadline: Instant,
    /// The rate-extended deadline of the head or pre-read body being received.
    pub clock: StageClock,
    pub scanner: HeadScanner,
    pub head: Option<Head>,
    /// Epoch seconds when `head` was complete.
    pub head_time: f64,
    /// Bytes thrown away while lingering.
    pub lingered: usize,
    /// In the engine's epoll set. A connection stays registered while it is lent to a
    /// request (nothing waits on epoll then: one request at a time), which saves two
    /// epoll_ctl calls per request; closing the fd removes it from the set. A fresh one
    /// whose whole request came with the handshake is lent before it was ever registered
    /// (and a `Connection: close` one then never is).
    pub registered: bool,
    /// -- PythonConnectionHandler / body timeouts (see rawconn.rs, Engine::sweep) --
    /// Handed to Python whole as a `RawConnection` (no HTTP on it).
    pub raw: bool,
    /// The pre-read body stalled: the request went to Python anyway, and its first body
    /// read past the buffered bytes raises the read timeout.
    pub body_timed_out: bool,
    /// Accepted on a `proxy-protocol` listener and its PROXY header not read yet.
    pub proxy_header: bool,
    /// Accepted on a `proxy-protocol` listener: its client address comes (or will come) from
    /// the PROXY header, which lives only in this process, so it is never handed over.
    pub proxied: bool,
    /// -- TLS (tls.rs) -- the session of a connection accepted on an `SSLEngine on`
    /// address; None for plain HTTP (the one branch plain connections pay).
    pub tls: Option<Box<Session>>,
    /// The engine's last read from the socket was shorter than the room it had, so the
    /// kernel held nothing more then (nginx's `rev->ready`, cleared by a short recv); false
    /// after any other read. One of the conditions for closing without lingering.
    pub queue_empty: bool,
}

impl Conn {
    pub fn new(fd: RawFd, peer: SocketAddr, local: SocketAddr, deadline: Instant) -> Self {
        Conn {
            fd,
            buf: Vec::new(),
            peer,
            local,
            served: 0,
            registered: false,
            phase: Phase::Idle,
            deadline,
            clock: StageClock::none(deadline),
            scanner: HeadScanner::new(),
            head: None,
            head_time: 0.0,
            lingered: 0,
            raw: false,
            body_timed_out: false,
            proxy_header: false,
            proxied: false,
            tls: None,
            queue_empty: false,
        }
    }
}

impl Conn {
    /// Shut down the write side; a TLS session says close_notify first.
    pub fn shutdown_write(&mut self) {
        if let Some(s) = self.tls.as_deref_mut() {
            s.close_notify(self.fd);
        }
        sys::shutdown_write(self.fd);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The Conn owns fd; it is closed exactly once, here.
        sys::close(self.fd);
    }
}

/// Bytes a lingering connection may still send before it is closed at once.
pub const LINGER_MAX: usize = 1 << 20;

/// The limits the per-connection state machine needs.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub head: HeadLimits,
    pub header: ReadTimeout,
    pub body: ReadTimeout,
    /// -- TLS -- the handshake stage (initial 0: none).
    pub handshake: ReadTimeout,
    pub keepalive_timeout: f64,
    pub timeout: f64,
    pub preread_body: u64,
}

/// One stage of mod_reqtimeout's `RequestReadTimeout` (`header=20-40,MinRate=500`): at
/// least `initial` seconds, plus one second per `min_rate` bytes received, at most `max`
/// seconds in all. `initial` 0: no stage deadline (only `Timeout` applies); `min_rate` 0:
/// no extension; `max` 0: no cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadTimeout {
    pub initial: f64,
    pub max: f64,
    pub min_rate: u32,
}

/// The running deadline of one stage (see `ReadTimeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageClock {
    end: Instant,
    cap: Instant,
    /// Nanoseconds of extension per byte received; 0 = none.
    ns_per_byte: u64,
}

/// "Never" for deadlines: about 30 years away.
const FAR: f64 = 1e9;

impl StageClock {
    /// A clock that never runs out (no stage deadline).
    pub fn none(now: Instant) -> Self {
        let far = after(now, FAR);
        StageClock { end: far, cap: far, ns_per_byte: 0 }
    }

    /// Start a stage at `now`, counting the `received` bytes already at hand.
    pub fn start(rt: &ReadTimeout, now: Instant, received: usize) -> Self {
        if rt.initial <= 0.0 || rt.initial.is_nan() {
            return StageClock::none(now);
        }
        let end = after(now, rt.initial);
        let ns_per_byte = if rt.min_rate > 0 { 1_000_000_000 / u64::from(rt.min_rate) } else { 0 };
        let cap = if rt.max > rt.initial {
            after(now, rt.max)
        } else if rt.max <= 0.0 && ns_per_byte > 0 {
            after(now, FAR)
        } else {
            end
        };
        let mut c = StageClock { end, cap, ns_per_byte };
        c.extend(received);
        c
    }

    /// `n` more bytes arrived.
    pub fn extend(&mut self, n: usize) {
        if self.ns_per_byte > 0 && n > 0 {
            let ns = self.ns_per_byte.saturating_mul(n as u64);
            self.end =
                self.end.checked_add(Duration::from_nanos(ns)).unwrap_or(self.cap).min(self.cap);
        }
    }

    pub fn end(&self) -> Instant {
        self.end
    }
}

/// What the engine must do with a connection after `advance`.
pub enum Action {
    Wait,
    Ready,
    Reject(u16),
    Close,
}

pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Conn {
    /// Run the connection's state machine over the bytes it holds.
    pub fn advance(&mut self, lim: &ConnLimits, now: Instant) -> Action {
        let c = self;
        let hl = &lim.head;
        loop {
            match c.phase {
                Phase::Ready => return Action::Ready,
                Phase::Linger => {
                    c.lingered += c.buf.len();
                    c.buf.clear();
                    return if c.lingered > LINGER_MAX { Action::Close } else { Action::Wait };
                }
                Phase::Discard(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(c.buf.len());
                    c.buf.drain(..k);
                    let left = n - k as u64;
                    if left > 0 {
                        c.phase = Phase::Discard(left);
                        return Action::Wait;
                    }
                    c.phase = Phase::Idle;
                    c.deadline = after(now, lim.keepalive_timeout);
                }
                Phase::Body(n) => {
                    if c.buf.len() as u64 >= n {
                        c.phase = Phase::Ready;
                        return Action::Ready;
                    }
                    return Action::Wait;
                }
                Phase::Idle | Phase::Head => {
                    if c.buf.is_empty() {
                        return Action::Wait;
                    }
                    if c.phase == Phase::Idle {
                        c.phase = Phase::Head;
                        c.clock = StageClock::start(&lim.header, now, c.buf.len());
                        c.deadline = c.clock.end().min(after(now, lim.timeout));
                        c.scanner = HeadScanner::new();
                    }
                    let end = match c.scanner.feed(&c.buf, hl) {
                        Err(e) => return Action::Reject(e.status),
                        Ok(Scan::Partial) => return Action::Wait,
                        Ok(Scan::Complete(end)) => end,
                    };
                    let head = match parse_complete(&c.buf[..end], hl) {
                        Err(e) => return Action::Reject(e.status),
                        Ok(h) => h,
                    };
                    c.buf.drain(..end);
                    c.scanner = HeadScanner::new();
                    c.head_time = epoch_now();
                    let preread = match head.framing {
                        Framing::Length(n)
                            if n > 0 && n <= lim.preread_body && !head.expect_continue =>
                        {
                            Some(n)
                        }
                        _ => None,
                    };
                    c.head = Some(head);
                    match preread {
                        Some(n) => {
                            c.phase = Phase::Body(n);
                            let have = c.buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                            c.clock = StageClock::start(&lim.body, now, have);
                            c.deadline = c.clock.end().min(after(now, lim.timeout));
                        }
                        None => {
                            c.phase = Phase::Ready;
                            return Action::Ready;
                        }
                    }
                }
            }
        }
    }
}

impl Conn {
    /// `n` bytes were just read: heads and pre-read bodies extend their stage clock (and
    /// reset the `Timeout` for a stall); discarding connections reset the stall timer.
    pub fn note_read(&mut self, n: usize, lim: &ConnLimits, now: Instant) {
        match self.phase {
            Phase::Head | Phase::Body(_) => {
                self.clock.extend(n);
                self.deadline = self.clock.end().min(after(now, lim.timeout));
            }
            Phase::Discard(_) => self.deadline = after(now, lim.timeout),
            _ => {}
        }
    }
}

/// State shared between the engine and the requests it lent connections to.
/// (Connections stay boxed as they move between slab, queue and request.)
#[derive(Default)]
#[allow(clippy::vec_box)]
pub struct Shared {
    pub returned: Mutex<Vec<Box<Conn>>>,
    pub lent: AtomicUsize,
    /// Graceful stop/reload: every response says `Connection: close` and every connection
    /// closes after its response.
    pub draining: AtomicBool,
}

impl Shared {
    #[allow(clippy::vec_box)]
    pub fn take_returned(&self) -> Vec<Box<Conn>> {
        match self.returned.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
    pub fn returned_len(&self) -> usize {
        match self.returned.lock() {
            Ok(g) => g.len(),
            Err(p) => p.into_inner().len(),
        }
    }
}

/// A connection lent to one request. Dropping it closes the connection.
pub struct Loan {
    conn: Option<Box<Conn>>,
    shared: Arc<Shared>,
}

impl Loan {
    pub fn new(conn: Box<Conn>, shared: Arc<Shared>) -> Self {
        shared.lent.fetch_add(1, Ordering::Relaxed);
        Loan { conn: Some(conn), shared }
    }
    pub fn get(&mut self) -> Option<&mut Conn> {
        self.conn.as_deref_mut()
    }
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }
    /// The engine is draining (see `Shared::draining`).
    pub fn draining(&self) -> bool {
        self.shared.draining.load(Ordering::Relaxed)
    }
    /// Give the connection back to the engine in `phase`.
    pub fn give_back(&mut self, phase: Phase) {
        if Arc::strong_count(&self.shared) == 1 {
            // The engine is gone: nobody would ever serve this connection again.
            return self.close();
        }
        if let Some(mut c) = self.conn.take() {
            c.phase = phase;
            self.shared.lent.fetch_sub(1, Ordering::Relaxed);
            match self.shared.returned.lock() {
                Ok(mut g) => g.push(c),
                Err(p) => p.into_inner().push(c),
            }
        }
    }
    /// Shut down the write side and let the engine linger-close it.
    pub fn close_gracefully(&mut self) {
        if let Some(c) = self.conn.as_deref_mut() {
            c.shutdown_write();
        }
        self.give_back(Phase::Linger);
    }
    /// Close at once.
    pub fn close(&mut self) {
        if self.conn.take().is_some() {
            self.shared.lent.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        self.close();
    }
}

/// Free a large buffer that holds nothing (idle connections keep no big allocations).
pub fn trim_buffer(buf: &mut Vec<u8>) {
    if buf.is_empty() && buf.capacity() > 16 * 1024 {
        *buf = Vec::new();
    }
}

/// `now + secs`, saturating for huge or invalid values.
pub fn after(now: Instant, secs: f64) -> Instant {
    // NaN and negatives mean "now"; +inf and huge values are capped at ~30 years.
    let secs = if secs > 0.0 { secs.min(1e9) } else { 0.0 };
    now + Duration::from_secs_f64(secs)
}
