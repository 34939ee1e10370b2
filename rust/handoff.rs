//! Handing connections over between workers, so that a worker busy in Python does not hold
//! other clients' requests (head-of-line blocking across keep-alive connections).
//!
//! The master creates one `SOCK_SEQPACKET` socket pair before forking; every worker holds
//! both ends. When the engine hands a request to Python it *parks* its connections (the
//! slab and the ready queue are moved, not copied, into `Handoff`). A watcher thread of
//! the engine wakes when the request has run for `HANDOFF_AFTER`, and then every
//! `SCAN_PERIOD` while it runs: it sends each connection that has a request waiting (a
//! complete one in the ready queue, or new bytes the kernel reports with a non-blocking
//! `epoll_wait` on the engine's set) down the pair (the descriptor as SCM_RIGHTS, with the
//! bytes already read from it: the raw head and the rest of the buffer), takes it out of
//! the engine's epoll set and closes its own copy. Quiet keep-alive connections stay, so
//! an overloaded machine (where any request may take 20 ms) does not shuffle them around. Any worker waiting in `epoll_wait` receives it (the receiving
//! end is watched with EPOLLEXCLUSIVE, like the listening sockets) and serves it as if it
//! had accepted it. When Python returns, the engine takes back what was not handed over.
//! Fast requests never reach `HANDOFF_AFTER`: they pay two uncontended mutex operations.
//! The watcher touches parked connections only while Python runs (the engine is then
//! outside its loop); the mutex makes that exclusive.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::conn::{Conn, Phase, Shared as Lending};
use crate::sys;

/// How long a request runs before the worker hands its other connections over.
pub const HANDOFF_AFTER: Duration = Duration::from_millis(20);
/// How often the watcher looks again while the request goes on.
pub const SCAN_PERIOD: Duration = Duration::from_millis(10);
/// epoll tokens at or above this are the engine's listening and hand-over sockets.
const CONNECTION_TOKENS: u64 = 1 << 32;
/// Largest message: 4 bytes of keep-alive count plus the bytes already read (a head of at
/// most 64 KiB and a pre-read body of at most `preread_body`); a larger one is not handed.
pub const MESSAGE_MAX: usize = 192 * 1024;

/// What the engine leaves with the watcher while Python serves a request.
pub struct Parked {
    pub slab: Vec<Option<Box<Conn>>>,
    pub ready: VecDeque<RawFd>,
    pub count: usize,
    since: Instant,
}

impl Parked {
    pub fn new(slab: Vec<Option<Box<Conn>>>, ready: VecDeque<RawFd>, count: usize) -> Self {
        Parked { slab, ready, count, since: Instant::now() }
    }
}

#[derive(Default)]
struct State {
    parked: Option<Parked>,
    /// The watcher waits without a deadline (nothing parked): a park must wake it.
    sleeping: bool,
    stop: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The two ends of the master's socket pair and the watcher thread.
pub struct Handoff {
    /// The receiving end, watched by the engine (the sending end is the watcher's).
    pub recv_fd: RawFd,
    shared: Shared,
    thread: Option<JoinHandle<()>>,
    /// Connections this worker handed over (for tests and the status of the engine).
    pub handed: Arc<AtomicU64>,
}

impl Handoff {
    /// Start the watcher for the engine whose epoll set is `epfd`; `lending` tells whether
    /// the engine is draining (then nothing is handed over: every other worker may be
    /// draining too, and the engine closes its idle connections itself).
    pub fn new(
        send_fd: RawFd,
        recv_fd: RawFd,
        epfd: RawFd,
        lending: Arc<Lending>,
    ) -> std::io::Result<Self> {
        let shared: Shared = Arc::default();
        let handed = Arc::new(AtomicU64::new(0));
        let (s, h) = (shared.clone(), handed.clone());
        let thread = std::thread::Builder::new()
            .name("handoff".into())
            .spawn(move || watch(&s, send_fd, epfd, &h, &lending))?;
        Ok(Handoff { recv_fd, shared, thread: Some(thread), handed })
    }

    /// Python is about to run a request: the watcher may hand these connections over.
    pub fn park(&self, parked: Parked) {
        let (m, cv) = &*self.shared;
        let mut g = lock(m);
        g.parked = Some(parked);
        if g.sleeping {
            cv.notify_one();
        }
    }

    /// Python returned: what is left of the parked connections.
    pub fn unpark(&self) -> Option<Parked> {
        lock(&self.shared.0).parked.take()
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        {
            let (m, cv) = &*self.shared;
            lock(m).stop = true;
            cv.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The watcher thread: sleeps until something is parked, then until it has been parked
/// for `HANDOFF_AFTER`, then hands over the connections with a request waiting, again
/// every `SCAN_PERIOD` until the engine takes its connections back.
fn watch(shared: &Shared, send_fd: RawFd, epfd: RawFd, handed: &AtomicU64, lending: &Lending) {
    sys::block_signals_in_this_thread();
    let (m, cv) = &**shared;
    let mut g = lock(m);
    loop {
        if g.stop {
            return;
        }
        let wait = match g.parked.as_mut() {
            Some(p) if p.count > 0 => {
                let age = p.since.elapsed();
                if age >= HANDOFF_AFTER {
                    if !lending.draining.load(Ordering::Relaxed) {
                        let n = hand_over(p, send_fd, epfd);
                        handed.fetch_add(n, Ordering::Relaxed);
                    }
                    Some(SCAN_PERIOD)
                } else {
                    Some(HANDOFF_AFTER - age)
                }
            }
            _ => None,
        };
        g = match wait {
            Some(d) => match cv.wait_timeout(g, d) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            },
            None => {
                g.sleeping = true;
                let mut g = match cv.wait(g) {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                g.sleeping = false;
                g
            }
        };
    }
}

/// Send the parked connections that have a request waiting: the complete ones in the
/// ready queue, then those the kernel reports readable (a non-blocking `epoll_wait` on the
/// engine's set, which the engine is not waiting on while Python runs). Returns how many
/// went. The request's own connection (not parked), lingering and discarding ones stay.
fn hand_over(p: &mut Parked, send_fd: RawFd, epfd: RawFd) -> u64 {
    let queued = p.ready.len();
    let mut waiting: Vec<RawFd> = p.ready.drain(..).collect();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    if let Ok(n) = sys::epoll_wait(epfd, &mut events, 0) {
        waiting.extend(
            events[..n]
                .iter()
                .map(|e| e.u64)
                .filter(|&t| t < CONNECTION_TOKENS)
                .map(|t| t as RawFd),
        );
    }
    let (mut sent, mut full) = (0, false);
    for (i, fd) in waiting.into_iter().enumerate() {
        // Once the pair's queue is full (every worker busy) the rest stay here.
        let outcome = if full { Ok(false) } else { send_conn(p, fd, send_fd, epfd) };
        match outcome {
            Ok(true) => {
                sent += 1;
                continue;
            }
            Ok(false) => {}
            Err(()) => full = true,
        }
        if i < queued {
            p.ready.push_back(fd); // still this engine's to serve
        }
    }
    sent
}

/// Hand the parked connection `fd` over if it can be served elsewhere (Ok(false): it
/// cannot, or is not parked); Err when the socket pair's queue is full.
fn send_conn(p: &mut Parked, fd: RawFd, send_fd: RawFd, epfd: RawFd) -> Result<bool, ()> {
    let Some(slot) = usize::try_from(fd).ok().and_then(|i| p.slab.get_mut(i)) else {
        return Ok(false);
    };
    let Some(c) = slot.as_deref() else { return Ok(false) };
    // A TLS session's state, a PROXY header's client address (read or still to come: the
    // receiver would parse the binary header as HTTP and answer 400) and a raw connection
    // (PythonConnectionHandler) live in this process: never handed over.
    if c.tls.is_some()
        || c.proxied
        || c.raw
        || !matches!(c.phase, Phase::Idle | Phase::Head | Phase::Body(_) | Phase::Ready)
    {
        return Ok(false);
    }
    let served = c.served.to_le_bytes();
    let head: &[u8] = c.head.as_ref().map_or(&[], |h| &h.raw);
    if served.len() + head.len() + c.buf.len() > MESSAGE_MAX {
        return Ok(false);
    }
    match sys::send_fd(send_fd, c.fd, &[&served, head, &c.buf]) {
        Ok(()) => {
            // Out of our epoll set first: the connection stays open in the receiver, and a
            // registration of a descriptor we closed would go on reporting it.
            let _ = sys::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, c.fd, 0, 0);
            drop(slot.take()); // closes our copy only
            p.count -= 1;
            Ok(true)
        }
        Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => Ok(false),
        Err(_) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Action;
    use crate::pyapi::Limits;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    fn pair(kind: libc::c_int) -> (RawFd, RawFd) {
        let mut fds = [0; 2];
        // SAFETY: plain syscall with a valid array.
        let r = unsafe {
            libc::socketpair(libc::AF_UNIX, kind | libc::SOCK_NONBLOCK, 0, fds.as_mut_ptr())
        };
        assert_eq!(r, 0);
        (fds[0], fds[1])
    }

    fn conn(bytes: &[u8], phase: Phase) -> (Box<Conn>, RawFd) {
        let (ours, client) = pair(libc::SOCK_STREAM);
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
        let mut c = Box::new(Conn::new(ours, addr, addr, Instant::now()));
        c.buf.extend_from_slice(bytes);
        c.phase = phase;
        c.served = 7;
        (c, client)
    }

    /// A connection holding a complete request (ready queue) and an idle one whose next
    /// request arrived go over the socket pair with their bytes and keep-alive count; a
    /// quiet idle one and a lingering one stay; the receiver's state machine finds the
    /// same request again.
    #[test]
    fn parked_connections_go_over_with_their_bytes() {
        let lim = Limits::default().conn_limits();
        let (send_fd, recv_fd) = pair(libc::SOCK_SEQPACKET);
        let epfd = sys::epoll_create().unwrap();
        let request = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\nGET /after";
        let (mut ready, _c1) = conn(request, Phase::Idle);
        assert!(matches!(ready.advance(&lim, Instant::now()), Action::Ready));
        let (idle, c2) = conn(b"", Phase::Idle);
        let (quiet, _c3) = conn(b"", Phase::Idle);
        let (linger, c4) = conn(b"", Phase::Linger);
        let fds = [ready.fd, idle.fd, quiet.fd, linger.fd];
        for &fd in &fds {
            sys::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, fd as u64).unwrap();
        }
        sys::send_nowait(c2, b"GET /x HTTP/1.1\r\n\r\n");
        sys::send_nowait(c4, b"late");
        let mut slab: Vec<Option<Box<Conn>>> = Vec::new();
        slab.resize_with(fds.iter().max().map_or(0, |&m| m as usize + 1), || None);
        let ready_fd = ready.fd;
        for c in [ready, idle, quiet, linger] {
            let i = c.fd as usize;
            slab[i] = Some(c);
        }
        let mut parked = Parked::new(slab, VecDeque::from([ready_fd]), 4);
        assert_eq!(hand_over(&mut parked, send_fd, epfd), 2);
        assert_eq!(parked.count, 2);
        let left = |i: usize| parked.slab[fds[i] as usize].is_some();
        assert_eq!([left(0), left(1), left(2), left(3)], [false, false, true, true]);

        let mut message = vec![0u8; MESSAGE_MAX];
        let sys::Received::Fd(fd, n) = sys::recv_fd(recv_fd, &mut message).unwrap() else {
            panic!("no descriptor received")
        };
        assert_eq!(&message[..4], &7u32.to_le_bytes());
        assert_eq!(&message[4..n], request);
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
        let mut again = Conn::new(fd, addr, addr, Instant::now());
        again.buf.extend_from_slice(&message[4..n]);
        assert!(matches!(again.advance(&lim, Instant::now()), Action::Ready));
        assert_eq!(again.head.as_ref().map(|h| h.target()), Some("/next"));
        assert_eq!(again.buf, b"GET /after");

        let sys::Received::Fd(idle_fd, n) = sys::recv_fd(recv_fd, &mut message).unwrap() else {
            panic!("no descriptor received")
        };
        assert_eq!(n, 4);
        sys::close(idle_fd);
        assert!(matches!(sys::recv_fd(recv_fd, &mut message), Ok(sys::Received::Empty)));
        for fd in [send_fd, recv_fd, epfd] {
            sys::close(fd);
        }
    }

    /// A connection from a `proxy-protocol` listener stays, whether its PROXY header has
    /// been read (the client address lives here) or is still in the kernel (the receiver
    /// would read the binary header as a request line: the 400 the cluster test once saw);
    /// so does a raw (PythonConnectionHandler) one.
    #[test]
    fn proxied_and_raw_connections_stay() {
        let (send_fd, recv_fd) = pair(libc::SOCK_SEQPACKET);
        let epfd = sys::epoll_create().unwrap();
        let (mut pending, c1) = conn(b"", Phase::Idle);
        pending.proxy_header = true;
        pending.proxied = true;
        let (mut read, _c2) = conn(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", Phase::Ready);
        read.proxied = true;
        let (mut raw, _c3) = conn(b"", Phase::Ready);
        raw.raw = true;
        let fds = [pending.fd, read.fd, raw.fd];
        for &fd in &fds {
            sys::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, fd as u64).unwrap();
        }
        sys::send_nowait(c1, b"\r\n\r\n\0\r\nQUIT\n");
        let mut slab: Vec<Option<Box<Conn>>> = Vec::new();
        slab.resize_with(fds.iter().max().map_or(0, |&m| m as usize + 1), || None);
        let ready = VecDeque::from([fds[1], fds[2]]);
        for c in [pending, read, raw] {
            let i = c.fd as usize;
            slab[i] = Some(c);
        }
        let mut parked = Parked::new(slab, ready, 3);
        assert_eq!(hand_over(&mut parked, send_fd, epfd), 0);
        assert_eq!(parked.count, 3);
        assert_eq!(parked.ready, VecDeque::from([fds[1], fds[2]]));
        let mut message = vec![0u8; MESSAGE_MAX];
        assert!(matches!(sys::recv_fd(recv_fd, &mut message), Ok(sys::Received::Empty)));
        for fd in [send_fd, recv_fd, epfd] {
            sys::close(fd);
        }
    }
}
