//! Per-connection state and the socket system calls around it (pure Rust, no Python).
//!
//! `Conn` owns one client socket (closed on drop) with its receive buffer, head scanner,
//! phase and deadline; `Conn::advance` is its state machine (idle → head → optional body
//! pre-read → ready; discard of an unread body; lingering close). A `StageClock` is the
//! mod_reqtimeout-style deadline of a head or a body: an initial timeout, extended by the
//! bytes received at a minimum rate, up to a cap. While a request is being
//! answered the `Conn` is lent to the `RawRequest` through a `Loan`; giving it back pushes
//! it onto the `Shared` return queue, which the engine absorbs at its next call. The I/O
//! helpers here block with poll(2) until a given instant; callers run them with the GIL
//! released and in slices (≤ 1 s) so that Python signal handlers still run. `EINTR` is
//! returned to the caller, never retried here.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::parse::{parse_complete, Framing, Head, HeadLimits, HeadScanner, Scan};

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
    /// epoll_ctl calls per request; closing the fd removes it from the set.
    pub registered: bool,
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
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the Conn owns fd; it is closed exactly once, here.
        unsafe {
            libc::close(self.fd);
        }
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
        if let Some(c) = self.conn.as_ref() {
            shutdown_write(c.fd);
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

pub fn shutdown_write(fd: RawFd) {
    // SAFETY: plain syscall on an fd we own; errors are irrelevant here.
    unsafe {
        libc::shutdown(fd, libc::SHUT_WR);
    }
}

/// Bytes waiting in the socket's receive queue (FIONREAD); 0 on error.
pub fn pending_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n as *mut libc::c_int) };
    if r < 0 {
        0
    } else {
        usize::try_from(n).unwrap_or(0)
    }
}

/// Connections waiting in a listening socket's accept queue: Linux TCP_INFO, where a
/// listener's `tcpi_unacked` is the current accept-queue length; 0 on error.
pub fn accept_queue_len(fd: RawFd) -> usize {
    // SAFETY: tcp_info is plain data; getsockopt writes at most `len` bytes into it.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let p = &mut info as *mut libc::tcp_info as *mut libc::c_void;
        if libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, p, &mut len) < 0 {
            return 0;
        }
        info.tcpi_unacked as usize
    }
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a caller-provided descriptor; failure is reported.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl < 0 || libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn sockaddr_to_std(ss: &libc::sockaddr_storage) -> SocketAddr {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            SocketAddr::new(IpAddr::V4(ip), u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            SocketAddr::new(IpAddr::V6(ip), u16::from_be(a.sin6_port))
        }
        _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
    }
}

/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) + TCP_NODELAY; returns (fd, peer, local).
pub fn accept(listen_fd: RawFd) -> io::Result<(RawFd, SocketAddr, SocketAddr)> {
    // SAFETY: sockaddr_storage is plain data; lengths are passed correctly.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let fd = libc::accept4(
            listen_fd,
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let peer = sockaddr_to_std(&ss);
        let mut ls: libc::sockaddr_storage = std::mem::zeroed();
        let mut llen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let local =
            if libc::getsockname(fd, &mut ls as *mut _ as *mut libc::sockaddr, &mut llen) == 0 {
                sockaddr_to_std(&ls)
            } else {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            };
        Ok((fd, peer, local))
    }
}

/// One non-blocking read into `dst`. Ok(0) is end of stream (or an empty `dst`).
pub fn read_slice(fd: RawFd, dst: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading into a live, writable slice of the given length.
    let n = unsafe { libc::read(fd, dst.as_mut_ptr() as *mut libc::c_void, dst.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Free a large buffer that holds nothing (idle connections keep no big allocations).
pub fn trim_buffer(buf: &mut Vec<u8>) {
    if buf.is_empty() && buf.capacity() > 16 * 1024 {
        *buf = Vec::new();
    }
}

/// One non-blocking read appending up to `max` bytes to `buf`. Ok(0) is end of stream.
pub fn read_some(fd: RawFd, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.reserve(max);
    let spare = buf.spare_capacity_mut();
    let want = spare.len().min(max);
    // SAFETY: reading into the vector's spare capacity, then extending len by what the
    // kernel wrote.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr() as *mut libc::c_void, want) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: the kernel initialised n bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Best-effort single non-blocking send (used for engine error pages).
pub fn send_nowait(fd: RawFd, data: &[u8]) {
    // SAFETY: plain send on an owned fd; MSG_NOSIGNAL avoids SIGPIPE.
    unsafe {
        libc::send(fd, data.as_ptr() as *const libc::c_void, data.len(), libc::MSG_NOSIGNAL);
    }
}

fn ms_until(until: Instant) -> libc::c_int {
    let d = until.saturating_duration_since(Instant::now());
    // Round up so a wait never ends just before its deadline and spins.
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    ms.min(i32::MAX as u128) as libc::c_int
}

/// poll(2) one fd until `until`. Ok(true): ready (or error/hang-up pending);
/// Ok(false): time is up. EINTR comes back as Err(Interrupted).
pub fn poll_fd(fd: RawFd, events: libc::c_short, until: Instant) -> io::Result<bool> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms_until(until)) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r > 0)
}

/// Outcome of a blocking read slice.
pub enum ReadOutcome {
    Data(usize),
    Eof,
    /// `until` passed with nothing to read.
    Waiting,
}

/// Read up to `max` bytes into `buf`, waiting for readability until `until`.
pub fn read_until(
    fd: RawFd,
    buf: &mut Vec<u8>,
    max: usize,
    until: Instant,
) -> io::Result<ReadOutcome> {
    loop {
        match read_some(fd, buf, max) {
            Ok(0) => return Ok(ReadOutcome::Eof),
            Ok(n) => return Ok(ReadOutcome::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !poll_fd(fd, libc::POLLIN, until)? {
                    return Ok(ReadOutcome::Waiting);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Write all of `parts` (after the first `*sent` bytes), waiting for writability until
/// `until`. Ok(true): all written; Ok(false): `until` passed first. `*sent` advances.
/// With `more`, MSG_MORE tells the kernel more data follows at once (a response head
/// before a sendfile(2) body leaves in the same segment).
pub fn write_until(
    fd: RawFd,
    parts: &[&[u8]],
    sent: &mut usize,
    until: Instant,
    more: bool,
) -> io::Result<bool> {
    let flags = libc::MSG_NOSIGNAL | if more { libc::MSG_MORE } else { 0 };
    let total: usize = parts.iter().map(|p| p.len()).sum();
    while *sent < total {
        let mut skip = *sent;
        let mut iov: Vec<libc::iovec> = Vec::with_capacity(parts.len());
        for p in parts {
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            let rest = &p[skip..];
            skip = 0;
            iov.push(libc::iovec {
                iov_base: rest.as_ptr() as *mut libc::c_void,
                iov_len: rest.len(),
            });
        }
        // SAFETY: msghdr zeroed then pointed at live iovecs over live slices.
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            libc::sendmsg(fd, &msg, flags)
        };
        if n >= 0 {
            *sent += n as usize;
            continue;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(e);
        }
        if !poll_fd(fd, libc::POLLOUT, until)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// sendfile(2) from `file` at `*offset` to the socket until `*left` is 0, waiting for
/// writability until `until`. Ok(true): all sent; Ok(false): `until` passed first (also
/// while data still flows, so that callers get to check signals). `*offset` and `*left`
/// advance. A file that ends before `*left` bytes is an `UnexpectedEof` error.
pub fn sendfile_until(
    sock: RawFd,
    file: RawFd,
    offset: &mut u64,
    left: &mut u64,
    until: Instant,
) -> io::Result<bool> {
    while *left > 0 {
        let mut off = libc::off_t::try_from(*offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file offset too large"))?;
        let want = usize::try_from((*left).min(1 << 30)).unwrap_or(1 << 30);
        // SAFETY: two descriptors and a live offset variable; the kernel copies file → socket.
        let n = unsafe { libc::sendfile(sock, file, &mut off, want) };
        if n > 0 {
            *offset += n as u64;
            *left -= n as u64;
            if Instant::now() >= until {
                return Ok(*left == 0);
            }
            continue;
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file ended before the length promised to the client",
            ));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(e);
        }
        if !poll_fd(sock, libc::POLLOUT, until)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `now + secs`, saturating for huge or invalid values.
pub fn after(now: Instant, secs: f64) -> Instant {
    // NaN and negatives mean "now"; +inf and huge values are capped at ~30 years.
    let secs = if secs > 0.0 { secs.min(1e9) } else { 0.0 };
    now + Duration::from_secs_f64(secs)
}
