//! `Engine`: one per worker process. Multiplexes the inherited listening sockets and all of
//! this worker's client connections on one level-triggered epoll set: accepts (balanced
//! across workers with EPOLLEXCLUSIVE), reads, finds and parses request heads, pre-reads
//! small bodies, enforces header / keep-alive / body timeouts, answers refusals itself
//! (error page, `Connection: close`, lingering close) and hands complete requests to
//! Python as `RawRequest`s, keeping a small queue of its own refusals for the access log.
//! Connections live in an fd-indexed slab; a connection lent to a request stays in the
//! epoll set (see `Conn::registered`) but out of the slab until the request gives it back.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

use crate::conn::{self, after, Action, Conn, ConnLimits, Loan, Phase, Shared};
use crate::handoff::{Handoff, Parked, MESSAGE_MAX};
use crate::logbuf::LogWriter;
use crate::proxy::{self, Step};
use crate::pyapi::Limits;
use crate::pyio::{latin1_bytes, latin1_str};
use crate::rawconn::{RawAddresses, RawConnection};
use crate::request::RawRequest;
use crate::response::{error_response, Reasons};
use crate::staticplan::{self, LogLine, Piece, Plan, Plans};
use crate::sys;
use crate::tls::{self, Got, TlsContext};

const LISTENER_BIT: u64 = 1 << 63;
/// The epoll token of the hand-over socket (connections other workers hand to this one).
const HANDOFF_TOKEN: u64 = 1 << 62;
/// Connections taken from the hand-over socket per readiness event.
const HANDOFF_BATCH: usize = 64;
/// Connections accepted per readiness event of a listener while requests are quick: a
/// batch saves an epoll_wait (and the GIL round trip around it) per connection when
/// connections queue up. Bounded, so that the ones a batch holds wait a few quick requests
/// at most; a request that turns out slow lets the hand-over watcher pass them on.
const ACCEPT_BATCH: usize = 4;
/// A request that ran longer than this makes the engine accept one connection at a time
/// (a prefork child's share), until requests are quick again.
const QUICK_REQUEST: Duration = Duration::from_millis(1);
const READ_CHUNK: usize = 64 * 1024;
const MAX_EVENTS: usize = 256;
/// How long (s) a closing connection is read and drained before it is closed anyway.
const LINGER_SECS: f64 = 2.0;
/// How long an idle connection half-closed by `close_idle` is read before it is closed.
const IDLE_LINGER_SECS: f64 = 1.0;
/// Refusals kept for `take_refusals` (the oldest are dropped beyond this).
const REFUSALS_MAX: usize = 256;
/// Longest request-line prefix kept with a refusal.
const REFUSAL_LINE_MAX: usize = 1024;

/// A request the engine answered itself (4xx/5xx), for the access log.
struct Refusal {
    peer: std::net::SocketAddr,
    local: std::net::SocketAddr,
    line: Vec<u8>,
    status: u16,
    bytes: usize,
    time: f64,
}
const SLICE: Duration = Duration::from_secs(1);

/// What the engine knows of a listening socket's connections without asking the kernel
/// again for each one.
struct ListenerFacts {
    fd: RawFd,
    /// The address the listener is bound to, when it is a specific one: the local address
    /// of every connection it accepts (getsockname(2) per connection only for a wildcard).
    local: Option<std::net::SocketAddr>,
    nodelay: Nodelay,
}

/// How an accepted socket gets TCP_NODELAY.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Nodelay {
    /// The listener has it (server/listeners.py sets it before listen(2), so no queued
    /// connection predates it), and Linux copies it to every socket accepted from it:
    /// nothing to do per connection.
    Inherited,
    /// Set on every connection (a listener made elsewhere: systemd, tests).
    PerConnection,
}

impl ListenerFacts {
    fn new(fd: RawFd) -> Self {
        let local = sys::local_addr(fd).ok().filter(|a| !a.ip().is_unspecified() && a.port() != 0);
        let nodelay = match sys::nodelay(fd) {
            Ok(true) => Nodelay::Inherited,
            _ => Nodelay::PerConnection,
        };
        ListenerFacts { fd, local, nodelay }
    }

    /// A connection this listener just accepted: TCP_NODELAY on, and its local address.
    fn adopt(&self, fd: RawFd) -> std::net::SocketAddr {
        if self.nodelay == Nodelay::PerConnection {
            let _ = sys::set_nodelay(fd);
        }
        self.local.unwrap_or_else(|| {
            sys::local_addr(fd).unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
        })
    }
}

/// One per worker process. Multiplexes the listening sockets and all client
/// connections of this worker on one epoll set.
#[pyclass(module = "prefork_modpy._core")]
pub struct Engine {
    epfd: RawFd,
    listeners: Vec<RawFd>,
    /// One per listener, in the same order.
    listener_facts: Vec<ListenerFacts>,
    /// Listeners whose connections start with a PROXY protocol header.
    proxy_listeners: Vec<RawFd>,
    listening: bool,
    accept_paused_until: Option<Instant>,
    /// When the last request went to Python (None: none since).
    lent_at: Option<Instant>,
    /// Connections to accept per readiness event: `ACCEPT_BATCH` after a quick request, 1
    /// after a slow one.
    accept_batch: usize,
    slab: Vec<Option<Box<Conn>>>,
    count: usize,
    ready: VecDeque<RawFd>,
    events: Vec<libc::epoll_event>,
    limits: Limits,
    cl: ConnLimits,
    /// The status line's reason phrases (Python's table).
    reasons: Arc<Reasons>,
    /// `error_page(status, method) -> bytes`: the page of a refusal (Python's errorpages).
    error_page: Py<PyAny>,
    shared: Arc<Shared>,
    rejected: u64,
    refusals: VecDeque<Refusal>,
    next_sweep: Instant,
    scratch: Vec<u8>,
    /// Local addresses whose connections go to a PythonConnectionHandler.
    raw_addresses: RawAddresses,
    /// Hand-over of connections between workers (handoff.rs); None without the master's
    /// socket pair (an engine built alone, as in tests).
    handoff: Option<Handoff>,
    /// The slab and ready queue are parked with `handoff` while Python runs a request.
    parked: bool,
    /// -- TLS -- listeners whose connections are TLS, with their context.
    tls_listeners: Vec<(RawFd, Py<TlsContext>)>,
    /// The 400 page for plain HTTP sent to a TLS port (sent unencrypted, as mod_ssl does).
    plain_http_page: Vec<u8>,
    /// Static-file requests the engine answers itself (staticplan.rs).
    plans: Plans,
    /// Every access-log line of this worker, Python's and the plans' (logbuf.rs).
    logs: LogWriter,
}

impl Engine {
    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        sys::epoll_ctl(self.epfd, op, fd, events, data)
    }

    /// Watch one listener with EPOLLEXCLUSIVE (one worker woken per connection); plain
    /// EPOLLIN where the kernel refuses the flag.
    fn add_listener(&self, fd: RawFd) -> io::Result<()> {
        self.add_watched(fd, LISTENER_BIT | fd as u64)
    }

    fn add_watched(&self, fd: RawFd, data: u64) -> io::Result<()> {
        let ev = (libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32;
        match self.ctl(libc::EPOLL_CTL_ADD, fd, ev, data) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, data)
            }
            r => r,
        }
    }

    fn register_listeners(&mut self) {
        for &fd in &self.listeners {
            let _ = self.add_listener(fd);
        }
        if let Some(h) = &self.handoff {
            let _ = self.add_watched(h.recv_fd, HANDOFF_TOKEN);
        }
        self.listening = true;
    }

    /// Listening sockets and the hand-over socket go together: a worker that cannot or
    /// must not take new connections takes none from other workers either.
    fn unregister_listeners(&mut self) {
        for &fd in &self.listeners {
            let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
        }
        if let Some(h) = &self.handoff {
            let _ = self.ctl(libc::EPOLL_CTL_DEL, h.recv_fd, 0, 0);
        }
        self.listening = false;
    }

    /// Park the connections with the hand-over watcher while Python runs a request (only
    /// when there are any: nothing else could wait behind the request).
    fn park(&mut self) {
        if let Some(h) = &self.handoff {
            if self.count > 0 {
                let slab = std::mem::take(&mut self.slab);
                let ready = std::mem::take(&mut self.ready);
                h.park(Parked::new(slab, ready, self.count));
                self.parked = true;
            }
        }
    }

    /// Take back what the watcher did not hand over.
    fn unpark(&mut self) {
        if !self.parked {
            return;
        }
        self.parked = false;
        if let Some(p) = self.handoff.as_ref().and_then(Handoff::unpark) {
            self.slab = p.slab;
            self.ready = p.ready;
            self.count = p.count;
        }
    }

    /// Connections other workers handed over: served as if accepted here, with the bytes
    /// they had already read and their keep-alive count.
    fn receive_handoffs(&mut self, now: Instant) {
        let Some(recv_fd) = self.handoff.as_ref().map(|h| h.recv_fd) else { return };
        let mut message = vec![0u8; MESSAGE_MAX];
        for _ in 0..HANDOFF_BATCH {
            let (fd, n) = match sys::recv_fd(recv_fd, &mut message) {
                Ok(sys::Received::Fd(fd, n)) => (fd, n),
                Ok(sys::Received::Junk) => continue,
                Ok(sys::Received::Empty) | Err(_) => return,
            };
            let addrs = sys::socket_addrs(fd);
            let (Ok((peer, local)), Some(count)) = (addrs, message.get(..4)) else {
                sys::close(fd);
                continue;
            };
            let d = after(now, self.limits.keepalive_timeout);
            let mut c = Box::new(Conn::new(fd, peer, local, d));
            c.served = u32::from_le_bytes([count[0], count[1], count[2], count[3]]);
            c.buf.extend_from_slice(&message[4..n.max(4)]);
            if let Some(fd) = self.insert(c) {
                self.run(fd, now);
            }
        }
    }

    fn note_deadline(&mut self, d: Instant) {
        if d < self.next_sweep {
            self.next_sweep = d;
        }
    }

    /// Add a connection to the epoll set and the slab (closes it if that fails).
    fn insert(&mut self, c: Box<Conn>) -> Option<RawFd> {
        self.insert_with(c, true)
    }

    /// `insert`, leaving the epoll set alone unless `watch`.
    fn insert_with(&mut self, mut c: Box<Conn>, watch: bool) -> Option<RawFd> {
        let fd = c.fd;
        let idx = usize::try_from(fd).ok()?;
        if watch && !c.registered {
            if self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, fd as u64).is_err() {
                return None;
            }
            c.registered = true;
        }
        if self.slab.len() <= idx {
            self.slab.resize_with(idx + 1, || None);
        }
        self.note_deadline(c.deadline);
        if self.slab[idx].replace(c).is_none() {
            self.count += 1;
        }
        Some(fd)
    }

    /// A connection still in the slab that waits for bytes joins the epoll set (one with a
    /// complete request does not need it until it comes back from Python: `insert`).
    fn watch_if_waiting(&mut self, fd: RawFd) {
        let Some(c) = self.slot(fd) else { return };
        if c.registered || c.phase == Phase::Ready {
            return;
        }
        if self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, fd as u64).is_err() {
            return self.close(fd);
        }
        if let Some(c) = self.slot(fd) {
            c.registered = true;
        }
    }

    /// Take a connection out of the slab, leaving it in the epoll set (see
    /// `Conn::registered`): for lending it to a request.
    fn detach(&mut self, fd: RawFd) -> Option<Box<Conn>> {
        let c = self.slab.get_mut(usize::try_from(fd).ok()?)?.take()?;
        self.count -= 1;
        Some(c)
    }

    /// Closing the fd also takes it out of the epoll set (connection fds are never
    /// duplicated), so no epoll_ctl is needed.
    fn close(&mut self, fd: RawFd) {
        drop(self.detach(fd));
    }

    fn slot(&mut self, fd: RawFd) -> Option<&mut Conn> {
        self.slab.get_mut(usize::try_from(fd).ok()?)?.as_deref_mut()
    }

    /// Answer with an error page and Connection: close, then linger-close.
    fn reject(&mut self, fd: RawFd, status: u16, now: Instant) {
        self.rejected += 1;
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let line = match &c.head {
            Some(h) => h.request_line().as_bytes().to_vec(),
            None => first_line(&c.buf),
        };
        let body = page_of(&self.error_page, status, &line);
        let page = error_response(status, self.reasons.get(status), &body);
        match c.tls.as_deref_mut() {
            None => sys::send_nowait(c.fd, &page),
            Some(s) => s.send_nowait(c.fd, &page),
        }
        c.shutdown_write();
        if self.refusals.len() >= REFUSALS_MAX {
            self.refusals.pop_front();
        }
        self.refusals.push_back(Refusal {
            peer: c.peer,
            local: c.local,
            line,
            status,
            bytes: body.len(),
            time: conn::epoch_now(),
        });
        c.buf.clear();
        c.head = None;
        c.phase = Phase::Linger;
        c.deadline = after(now, LINGER_SECS);
        let d = c.deadline;
        self.note_deadline(d);
    }

    fn run(&mut self, fd: RawFd, now: Instant) {
        let cl = self.cl;
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        if c.proxy_header {
            match proxy::strip_header(&mut c.buf, &mut c.peer) {
                Step::Wait => return,
                Step::Close => return self.close(fd),
                Step::Go => c.proxy_header = false,
            }
        }
        let action = c.advance(&cl, now);
        let d = c.deadline;
        match action {
            Action::Wait => self.note_deadline(d),
            Action::Ready => self.ready.push_back(fd),
            Action::Reject(status) => self.reject(fd, status, now),
            Action::Close => self.close(fd),
        }
    }

    fn on_readable(&mut self, fd: RawFd, now: Instant) {
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        if c.phase == Phase::Ready {
            return;
        }
        if c.tls.is_some() {
            return self.on_readable_tls(fd, now);
        }
        // Read through the shared scratch buffer so that connection buffers grow only by
        // what actually arrived.
        match sys::read_slice(c.fd, &mut self.scratch) {
            Ok(0) => return self.close(fd),
            Ok(n) => {
                c.buf.extend_from_slice(&self.scratch[..n]);
                c.queue_empty = n < self.scratch.len();
                c.note_read(n, &self.cl, now);
            }
            Err(e)
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
            {
                return
            }
            Err(_) => return self.close(fd),
        }
        self.run(fd, now);
    }

    /// -- TLS -- `on_readable` for a TLS connection: handshake progress and decrypted bytes
    /// (the head deadline runs from the accept, so a stalled handshake is closed at it).
    fn on_readable_tls(&mut self, fd: RawFd, now: Instant) {
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let Some(s) = c.tls.as_deref_mut() else { return };
        let handshaking = s.is_handshaking();
        s.last_read = 0;
        match s.read_nowait(c.fd, &mut self.scratch, &mut c.buf) {
            Got::Data(n) => c.note_read(n, &self.cl, now),
            Got::Blocked => {}
            Got::Eof | Got::Failed => return self.close(fd),
            Got::PlainHttp => return self.refuse_plain_http(fd, now),
        }
        if handshaking && self.cl.handshake.initial > 0.0 && c.phase == Phase::Idle {
            // mod_reqtimeout's handshake stage: extended by the bytes received; once done,
            // the first byte of the request is awaited as on a fresh connection.
            let (still, raw) =
                c.tls.as_deref().map_or((false, 0), |s| (s.is_handshaking(), s.last_read));
            if still {
                c.clock.extend(raw);
                c.deadline = c.clock.end().min(after(now, self.cl.timeout));
            } else {
                c.deadline = after(now, first_byte_secs(&self.limits));
            }
        }
        self.watch_tls_output(fd);
        self.run(fd, now);
    }

    /// Watch a TLS connection for writability while its session has records the socket
    /// did not take (a handshake flight), and stop once they are sent.
    fn watch_tls_output(&mut self, fd: RawFd) {
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let Some(s) = c.tls.as_deref_mut() else { return };
        let wants = s.wants_write();
        if wants == s.out_armed {
            return;
        }
        s.out_armed = wants;
        let events = if wants { libc::EPOLLIN | libc::EPOLLOUT } else { libc::EPOLLIN } as u32;
        let _ = sys::epoll_ctl(self.epfd, libc::EPOLL_CTL_MOD, fd, events, fd as u64);
    }

    /// mod_ssl's answer to plain HTTP on a TLS port: a 400 page in plain text, then close.
    fn refuse_plain_http(&mut self, fd: RawFd, now: Instant) {
        self.rejected += 1;
        let Some(c) = self.slab.get_mut(fd as usize).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let line = first_line(&self.scratch);
        let page = error_response(400, self.reasons.get(400), &self.plain_http_page);
        sys::send_nowait(c.fd, &page);
        sys::shutdown_write(c.fd);
        c.tls = None; // what follows is plain bytes to drop
        if self.refusals.len() >= REFUSALS_MAX {
            self.refusals.pop_front();
        }
        self.refusals.push_back(Refusal {
            peer: c.peer,
            local: c.local,
            line,
            status: 400,
            bytes: self.plain_http_page.len(),
            time: conn::epoch_now(),
        });
        c.buf.clear();
        c.phase = Phase::Linger;
        c.deadline = after(now, LINGER_SECS);
        let d = c.deadline;
        self.note_deadline(d);
    }

    fn tls_context(&self, lfd: RawFd) -> Option<&Py<TlsContext>> {
        self.tls_listeners.iter().find(|(fd, _)| *fd == lfd).map(|(_, ctx)| ctx)
    }

    fn accept_batch(&mut self, lfd: RawFd, now: Instant) {
        let Some(li) = self.listener_facts.iter().position(|l| l.fd == lfd) else { return };
        for _ in 0..self.accept_batch {
            match sys::accept(lfd) {
                Ok((fd, peer)) => {
                    let local = self.listener_facts[li].adopt(fd);
                    let d = after(now, self.first_byte_secs());
                    let mut c = Box::new(Conn::new(fd, peer, local, d));
                    if !self.tls_listeners.is_empty() {
                        if let Some(ctx) = self.tls_context(lfd) {
                            let Some(session) = tls::Session::new(ctx.get()) else {
                                continue; // drops (closes) the connection
                            };
                            c.tls = Some(session);
                            if self.cl.handshake.initial > 0.0 {
                                c.clock = conn::StageClock::start(&self.cl.handshake, now, 0);
                                c.deadline = c.clock.end().min(after(now, self.cl.timeout));
                            }
                        }
                    }
                    // The configuration never makes a TLS address raw or proxied.
                    let raw = c.tls.is_none()
                        && !self.raw_addresses.is_empty()
                        && self.raw_addresses.wants(&local);
                    // -- PROXY protocol: a raw connection's bytes are the handler's --
                    c.proxy_header = !raw && self.proxy_listeners.contains(&lfd);
                    c.proxied = c.proxy_header;
                    if raw {
                        c.raw = true;
                        c.phase = Phase::Ready;
                    }
                    // A plain connection joins the epoll set only if it has to wait: the
                    // request usually arrives with the handshake and is read at once.
                    // (A TLS one joins first: its handshake may arm EPOLLOUT.)
                    let watch_now = c.tls.is_some();
                    if let Some(fd) = self.insert_with(c, watch_now) {
                        if raw {
                            self.ready.push_back(fd);
                        } else {
                            self.on_readable(fd, now);
                            self.watch_if_waiting(fd);
                        }
                    }
                }
                Err(e) => {
                    // Out of descriptors or memory, or a broken listener: stop watching the
                    // listeners for a moment instead of spinning on a readable one.
                    let pause = match e.raw_os_error() {
                        Some(libc::EAGAIN) => return,
                        Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO | libc::EPERM) => {
                            continue
                        }
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => 100,
                        _ => 1000,
                    };
                    self.unregister_listeners();
                    self.accept_paused_until = Some(now + Duration::from_millis(pause));
                    return;
                }
            }
        }
    }

    /// Enforce deadlines: 408 for stalled heads, silent close for idle, discarding and
    /// lingering connections. A stalled pre-read body goes to its handler, whose read then
    /// fails (httpd lets the handler meet the timeout: mod_python's IOError).
    fn sweep(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut next = now + Duration::from_secs(3600);
        for c in self.slab.iter().flatten() {
            if c.phase == Phase::Ready {
                continue;
            }
            if c.deadline <= now {
                expired.push((c.fd, c.phase));
            } else if c.deadline < next {
                next = c.deadline;
            }
        }
        self.next_sweep = next;
        for (fd, phase) in expired {
            match phase {
                Phase::Head => self.reject(fd, 408, now),
                Phase::Body(_) => {
                    if let Some(c) = self.slot(fd) {
                        c.body_timed_out = true;
                        c.phase = Phase::Ready;
                        self.ready.push_back(fd);
                    }
                }
                _ => self.close(fd),
            }
        }
    }

    /// Take back connections that finished requests returned.
    fn absorb(&mut self, now: Instant) {
        for mut c in self.shared.take_returned() {
            conn::trim_buffer(&mut c.buf);
            c.deadline = match c.phase {
                Phase::Linger => after(now, LINGER_SECS),
                Phase::Discard(_) => after(now, self.limits.timeout),
                _ => after(now, self.limits.keepalive_timeout),
            };
            let tls = c.tls.is_some();
            if let Some(fd) = self.insert(c) {
                if tls {
                    self.watch_tls_output(fd);
                }
                self.run(fd, now);
            }
        }
    }

    /// One epoll_wait (until `until` at most) and the work it reports. Runs without the GIL.
    fn wait_once(&mut self, until: Instant) -> io::Result<()> {
        let now = Instant::now();
        if let Some(p) = self.accept_paused_until {
            if now >= p {
                self.accept_paused_until = None;
                self.register_listeners();
            }
        }
        let mut wake = until.min(self.next_sweep);
        if let Some(p) = self.accept_paused_until {
            wake = wake.min(p);
        }
        let d = wake.saturating_duration_since(now);
        let ms = (d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0)).min(1000) as i32;
        let n = sys::epoll_wait(self.epfd, &mut self.events, ms)?;
        let now = Instant::now();
        for i in 0..n {
            let ev = self.events[i];
            let data = ev.u64;
            if data & LISTENER_BIT != 0 {
                if self.listening {
                    self.accept_batch((data & !LISTENER_BIT) as RawFd, now);
                }
            } else if data == HANDOFF_TOKEN {
                if self.listening {
                    self.receive_handoffs(now);
                }
            } else {
                self.on_readable(data as RawFd, now);
            }
        }
        if now >= self.next_sweep {
            self.sweep(now);
        }
        Ok(())
    }

    /// How long a fresh connection may stay silent: the header timeout, or `Timeout` when
    /// the header stage has no deadline.
    fn first_byte_secs(&self) -> f64 {
        first_byte_secs(&self.limits)
    }

    /// Half-close an idle connection: the client sees a clean end of stream, and whatever
    /// it sends meanwhile is read and dropped (no reset) until it closes or the linger ends.
    fn half_close(&mut self, fd: RawFd, now: Instant) {
        let Some(c) = self.slot(fd) else { return };
        c.shutdown_write();
        c.phase = Phase::Linger;
        c.lingered = 0;
        c.deadline = after(now, IDLE_LINGER_SECS);
        let d = c.deadline;
        self.note_deadline(d);
    }

    fn take_ready(&mut self) -> Option<Box<Conn>> {
        while let Some(fd) = self.ready.pop_front() {
            if self.slot(fd).is_some_and(|c| c.phase == Phase::Ready) {
                return self.detach(fd);
            }
        }
        None
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.unpark();
        self.handoff = None; // joins the watcher
        self.slab.clear();
        sys::close(self.epfd); // the engine owns its epoll fd
    }
}

#[pymethods]
impl Engine {
    /// Engine(listen_fds, limits, reasons, error_page, raw_connections=[], handoff_fds=None,
    /// proxy_fds=[]):
    /// takes already-bound listening
    /// sockets (set non-blocking here, not closed on drop), the limits to enforce (read by
    /// attribute from the config's `Limits` dataclass), the reason phrase of each status
    /// and `error_page(status, method) -> bytes`, the page of a request the engine refuses;
    /// `raw_connections`: `(ip or "", port, raw)` local addresses whose connections are
    /// handed over whole as `RawConnection`s (PythonConnectionHandler).
    #[new]
    /// `tls`: `[(listen_fd, TlsContext)]`, listeners whose connections are TLS;
    /// `plain_http_page`: the 400 body for plain HTTP sent to one of them.
    #[pyo3(signature = (listen_fds, limits, reasons, error_page, raw_connections = Vec::new(), handoff_fds = None, proxy_fds = Vec::new(), tls = Vec::new(), plain_http_page = Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        listen_fds: Vec<i32>,
        limits: Limits,
        reasons: std::collections::HashMap<u16, String>,
        error_page: Py<PyAny>,
        raw_connections: Vec<(String, u16, bool)>,
        handoff_fds: Option<(i32, i32)>,
        proxy_fds: Vec<i32>,
        tls: Vec<(i32, Py<TlsContext>)>,
        plain_http_page: Vec<u8>,
    ) -> PyResult<Self> {
        let pairs: PyResult<Vec<(u16, Vec<u8>)>> =
            reasons.iter().map(|(&s, r)| Ok((s, latin1_bytes(r, "reason")?))).collect();
        let reasons = Reasons::new(pairs?).map_err(pyo3::exceptions::PyValueError::new_err)?;
        let epfd = sys::epoll_create()?;
        let mut e = Engine {
            epfd,
            listeners: Vec::new(),
            listener_facts: Vec::new(),
            proxy_listeners: proxy_fds,
            listening: false,
            accept_paused_until: None,
            lent_at: None,
            accept_batch: 1,
            slab: Vec::new(),
            count: 0,
            ready: VecDeque::new(),
            events: vec![libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS],
            cl: limits.conn_limits(),
            limits,
            reasons: Arc::new(reasons),
            error_page,
            shared: Arc::new(Shared::default()),
            rejected: 0,
            refusals: VecDeque::new(),
            next_sweep: Instant::now() + Duration::from_secs(3600),
            scratch: vec![0; READ_CHUNK],
            raw_addresses: RawAddresses::parse(raw_connections)?,
            handoff: None,
            parked: false,
            tls_listeners: tls,
            plain_http_page,
            plans: Plans::default(),
            logs: LogWriter::default(),
        };
        if let Some((send_fd, recv_fd)) = handoff_fds {
            sys::set_nonblocking(send_fd)?;
            sys::set_nonblocking(recv_fd)?;
            e.handoff = Some(Handoff::new(send_fd, recv_fd, epfd, e.shared.clone())?);
            e.add_watched(recv_fd, HANDOFF_TOKEN)?;
        }
        for fd in listen_fds {
            sys::set_nonblocking(fd)?;
            e.listeners.push(fd);
            e.listener_facts.push(ListenerFacts::new(fd));
        }
        for &fd in &e.listeners {
            e.add_listener(fd)?;
        }
        e.listening = true;
        Ok(e)
    }

    /// Wait (GIL released) until some connection has a complete request head
    /// (and, when Content-Length <= preread_body and no 100-continue is expected, its
    /// whole body). Returns None when `timeout` seconds pass or a signal arrives
    /// (after running Python's signal handlers, which may raise). Malformed requests
    /// are answered (4xx/5xx + Connection: close) and closed here, never returned.
    /// A connection of `raw_connections` comes back as a `RawConnection` instead.
    fn next_request(&mut self, py: Python<'_>, timeout: f64) -> PyResult<Option<Py<PyAny>>> {
        self.unpark();
        let start = Instant::now();
        if let Some(lent) = self.lent_at.take() {
            let quick = start.saturating_duration_since(lent) < QUICK_REQUEST;
            self.accept_batch = if quick { ACCEPT_BATCH } else { 1 };
        }
        let deadline = after(start, timeout);
        let mut polled = false;
        loop {
            let now = Instant::now();
            self.absorb(now);
            if let Some(mut c) = self.take_ready() {
                if c.raw {
                    let conn =
                        RawConnection::new(Loan::new(c, self.shared.clone()), self.limits.timeout);
                    self.park(); // a connection handler holds the worker as a request does
                    self.lent_at = Some(now);
                    return Ok(Some(Py::new(py, conn)?.into_any()));
                }
                let Some(head) = c.head.take() else { continue };
                c.served += 1;
                // Over TLS only without a client certificate: with one, mod_ssl's checks
                // (SSLVerifyDepth, SSLUserName) may answer otherwise per connection.
                let planned = !self.plans.is_empty()
                    && !c.proxied
                    && c.tls.as_ref().is_none_or(|s| !s.has_client_certificate())
                    && self.plans.select(
                        c.local,
                        &head,
                        c.tls.as_ref().map(|s| s.server_name().unwrap_or("")),
                    );
                let loan = Loan::new(c, self.shared.clone());
                let reasons = self.reasons.clone();
                let mut req = RawRequest::new(loan, head, self.limits.clone(), reasons);
                if planned && self.plans.serve(py, &mut req, &mut self.logs) {
                    // Answered here: the connection is back (or closed); Python gets
                    // control at least once per `timeout` for its ticks and signals.
                    drop(req);
                    py.check_signals()?;
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    continue;
                }
                self.park();
                self.lent_at = Some(now);
                return Ok(Some(Py::new(py, req)?.into_any()));
            }
            if polled && now >= deadline {
                return Ok(None);
            }
            let until = deadline.min(now + SLICE);
            let r = py.detach(|| self.wait_once(until));
            polled = true;
            match r {
                Ok(()) => py.check_signals()?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    py.check_signals()?;
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Deregister and close the listening sockets (graceful stop/reload).
    fn stop_accepting(&mut self) {
        self.unpark();
        self.unregister_listeners();
        for fd in self.listeners.drain(..) {
            sys::close(fd); // the worker's copy of an inherited listening socket
        }
        self.listener_facts.clear();
        self.proxy_listeners.clear();
        self.accept_paused_until = None;
    }

    /// Close keep-alive connections that hold no request: half-close them (the client sees
    /// a clean end of stream, not a reset) and read and drop what they still send for a
    /// moment. A connection whose next request is already waiting in the kernel is read
    /// instead and served. Connections discarding an unread body are half-closed too.
    /// Returns how many connections remain open (lingering ones included).
    fn close_idle(&mut self) -> usize {
        self.unpark();
        let now = Instant::now();
        self.absorb(now);
        let candidates: Vec<(RawFd, Phase)> = self
            .slab
            .iter()
            .flatten()
            .filter(|c| matches!(c.phase, Phase::Idle | Phase::Discard(_)))
            .map(|c| (c.fd, c.phase))
            .collect();
        for (fd, phase) in candidates {
            if phase == Phase::Idle && sys::pending_bytes(fd) > 0 {
                self.on_readable(fd, now);
                if self.slot(fd).is_none_or(|c| c.phase != Phase::Idle) {
                    continue;
                }
            }
            self.half_close(fd, now);
        }
        self.open_connections()
    }

    /// Graceful stop or reload: from now on every response (also of the request running
    /// now) says `Connection: close` and its connection closes after it.
    fn set_draining(&self, on: bool) {
        self.shared.draining.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    #[getter]
    fn draining(&self) -> bool {
        self.shared.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The requests the engine refused itself since the last call, oldest first, as
    /// `((client ip, port), (local ip, port), request line prefix, status, body bytes,
    /// epoch time)`; at most the last 256 are kept.
    #[allow(clippy::type_complexity)]
    fn take_refusals(&mut self) -> Vec<((String, u16), (String, u16), String, u16, usize, f64)> {
        self.refusals
            .drain(..)
            .map(|r| {
                (
                    (r.peer.ip().to_string(), r.peer.port()),
                    (r.local.ip().to_string(), r.local.port()),
                    latin1_str(&r.line),
                    r.status,
                    r.bytes,
                    r.time,
                )
            })
            .collect()
    }

    /// Answer repeats of a static-file request from now on (staticplan.rs): requests to
    /// `local` (ip, port) with this `Host` (None: none sent) and `target`, a plain GET
    /// over HTTP/1.1, get `path` with status 200, `reason` and `headers` (as `send_file`
    /// takes them) while the file is `version` (st_dev, st_ino, st_size, st_mtime_ns,
    /// st_ctime_ns); each is written to every `(fd, pieces)` log, a piece being bytes
    /// (text) or one of "peer", "time", "bytes", "bytes-" or ("header", name).
    /// `tls_sni`: None for plain connections; for TLS ones the SNI name ("" for none).
    #[pyo3(signature = (local, host, target, path, version, reason, headers, logs, tls_sni = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_static_plan(
        &mut self,
        local: (String, u16),
        host: Option<String>,
        target: String,
        path: std::path::PathBuf,
        version: (u64, u64, u64, i64, i64),
        reason: Option<String>,
        headers: Vec<(String, String)>,
        logs: Vec<(i32, Vec<PieceArg>)>,
        tls_sni: Option<String>,
    ) -> PyResult<()> {
        use std::os::unix::ffi::OsStringExt;
        let ip: std::net::IpAddr = local
            .0
            .parse()
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("invalid local address"))?;
        let host = host.map(|h| latin1_bytes(&h, "host")).transpose()?;
        let mut key = Vec::new();
        staticplan::push_key(
            &mut key,
            std::net::SocketAddr::new(ip, local.1),
            host.as_deref(),
            target.as_bytes(),
            tls_sni.as_deref(),
        );
        let path = std::ffi::CString::new(path.into_os_string().into_vec())
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("NUL in file name"))?;
        let (dev, ino, size, mtime_ns, ctime_ns) = version;
        let mut lines = Vec::with_capacity(logs.len());
        for (fd, pieces) in logs {
            let pieces: PyResult<Vec<Piece>> = pieces.into_iter().map(PieceArg::piece).collect();
            lines.push(LogLine { fd, pieces: pieces? });
        }
        let plan = Plan {
            path,
            version: sys::FileVersion { dev, ino, size, mtime_ns, ctime_ns },
            reason,
            headers,
            logs: lines,
        };
        self.plans.insert(key, plan);
        Ok(())
    }

    /// One access-log line (whole, with its newline) for the log open on `fd`: written now,
    /// or held under `BufferedLogs On` (logbuf.rs). Write errors are not raised: a full disk
    /// must not fail a request already answered.
    fn write_log(&mut self, fd: i32, line: &[u8]) {
        self.logs.write(fd, line);
    }

    /// Write the lines held under `BufferedLogs` (the worker's tick, a log reopen, its exit).
    fn flush_logs(&mut self) {
        self.logs.flush();
    }

    /// mod_log_config's `BufferedLogs`: True gathers each log's lines into PIPE_BUF-sized
    /// writes; False writes what is held, then each line as it comes.
    #[setter]
    fn set_buffered_logs(&mut self, on: bool) {
        self.logs.set_buffered(on);
    }

    #[getter]
    fn buffered_logs(&self) -> bool {
        self.logs.buffered()
    }

    /// Bytes of access-log lines held under `BufferedLogs`, over every log.
    #[getter]
    fn held_log_bytes(&self) -> usize {
        self.logs.held_bytes()
    }

    /// Forget every static plan (the log files they write to are about to change).
    fn clear_static_plans(&mut self) {
        self.plans.clear();
    }

    /// Static plans held now.
    #[getter]
    fn static_plans(&self) -> usize {
        self.plans.len()
    }

    /// (requests, body bytes, (client ip, target) of the last one or None) the engine
    /// answered from static plans since the last call, for the scoreboard.
    fn take_static_counts(&mut self) -> (u64, u64, Option<(String, String)>) {
        let last = self.plans.last.take().map(|(ip, target)| (ip.to_string(), latin1_str(&target)));
        let counts = (self.plans.served, self.plans.bytes, last);
        self.plans.served = 0;
        self.plans.bytes = 0;
        counts
    }

    /// Client connections open in this worker (idle, reading, queued or lent to a
    /// request).
    #[getter]
    fn open_connections(&self) -> usize {
        self.count
            + self.shared.lent.load(std::sync::atomic::Ordering::Relaxed)
            + self.shared.returned_len()
    }

    /// Connections waiting in the accept queues of the listening sockets this engine still
    /// owns (0 after `stop_accepting`: the sockets are closed, their numbers may be reused).
    fn queued_connections(&self) -> usize {
        self.listeners.iter().map(|&fd| sys::accept_queue_len(fd)).sum()
    }

    /// Connections this worker handed over to other workers while it was busy in Python.
    #[getter]
    fn handed_over(&self) -> u64 {
        self.handoff.as_ref().map_or(0, |h| h.handed.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// How many requests the engine answered itself with an error status.
    #[getter]
    fn rejected_requests(&self) -> u64 {
        self.rejected
    }
}

/// How long a fresh connection may stay silent: the header timeout, or `Timeout` when
/// the header stage has no deadline.
fn first_byte_secs(limits: &Limits) -> f64 {
    if limits.header_timeout > 0.0 {
        limits.header_timeout
    } else {
        limits.timeout
    }
}

/// The body of a refusal's page: Python's `error_page(status, method)`, the method being
/// the request line's first word. Runs with the GIL taken back (refusals are rare); a
/// failing page function is reported as unraisable and the page is left empty.
fn page_of(error_page: &Py<PyAny>, status: u16, line: &[u8]) -> Vec<u8> {
    let method = line.split(|&b| b == b' ').next().unwrap_or_default();
    Python::attach(|py| {
        let page = error_page.bind(py).call1((status, latin1_str(method)));
        match page.and_then(|p| Ok(p.extract::<PyBackedBytes>()?)) {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => {
                e.write_unraisable(py, Some(error_page.bind(py)));
                Vec::new()
            }
        }
    })
}

/// The request line (or what arrived of it) at the start of `buf`, after any empty lines,
/// capped at `REFUSAL_LINE_MAX` bytes.
/// A log piece as `add_static_plan` takes it.
#[derive(FromPyObject)]
pub enum PieceArg {
    Text(Vec<u8>),
    Field(String),
    Header((String, String)),
}

impl PieceArg {
    fn piece(self) -> PyResult<Piece> {
        let bad =
            |what: &str| pyo3::exceptions::PyValueError::new_err(format!("log piece {what:?}"));
        Ok(match self {
            PieceArg::Text(t) => Piece::Text(t),
            PieceArg::Field(f) => match f.as_str() {
                "peer" => Piece::PeerIp,
                "time" => Piece::ClfTime,
                "bytes" => Piece::Bytes { dash_for_zero: false },
                "bytes-" => Piece::Bytes { dash_for_zero: true },
                _ => return Err(bad(&f)),
            },
            PieceArg::Header((kind, name)) if kind == "header" => {
                Piece::Header(latin1_bytes(&name, "header name")?)
            }
            PieceArg::Header((kind, _)) => return Err(bad(&kind)),
        })
    }
}

fn first_line(buf: &[u8]) -> Vec<u8> {
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
    let rest = &buf[start..];
    let end = rest.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(rest.len());
    rest[..end.min(REFUSAL_LINE_MAX)].to_vec()
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
