//! Unit tests for the engine's per-connection state machine (`advance`) and the blocking
//! I/O helpers of conn.rs, over socketpairs; no Python involved.

use super::*;
use crate::conn::LINGER_MAX;
use crate::sys::{read_until, write_until, ReadOutcome};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

fn pair() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: plain syscall with a valid array.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0);
    (fds[0], fds[1])
}

fn close(fd: RawFd) {
    // SAFETY: test-owned fd.
    unsafe { libc::close(fd) };
}

fn conn_with(buf: &[u8]) -> (Conn, RawFd) {
    let (a, b) = pair();
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
    let mut c = Conn::new(a, addr, addr, Instant::now());
    c.buf.extend_from_slice(buf);
    (c, b)
}

fn lim() -> ConnLimits {
    Limits::default().conn_limits()
}

#[test]
fn pipelined_requests_come_out_one_by_one() {
    let l = lim();
    let now = Instant::now();
    let data = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHo";
    let (mut c, peer) = conn_with(data);
    assert!(matches!(c.advance(&l, now), Action::Ready));
    assert_eq!(c.head.take().map(|h| h.target().to_string()).as_deref(), Some("/a"));
    // The engine hands the request out; the request gives the connection back Idle.
    c.phase = Phase::Idle;
    assert!(matches!(c.advance(&l, now), Action::Ready));
    let h = c.head.take().unwrap();
    assert_eq!((h.target(), h.content_length()), ("/b", Some(3)));
    // Body pre-read: it is at the front of the buffer.
    assert!(c.buf.starts_with(b"xyz"));
    c.buf.drain(..3);
    c.phase = Phase::Idle;
    // Partial third head: waits with the header deadline.
    assert!(matches!(c.advance(&l, now), Action::Wait));
    assert_eq!(c.phase, Phase::Head);
    c.buf.extend_from_slice(b"st: x\r\n\r\n");
    assert!(matches!(c.advance(&l, now), Action::Ready));
    assert_eq!(c.head.as_ref().unwrap().target(), "/c");
    close(peer);
}

#[test]
fn preread_waits_for_the_whole_small_body() {
    let l = lim();
    let now = Instant::now();
    let (mut c, peer) = conn_with(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    assert!(matches!(c.advance(&l, now), Action::Wait));
    assert_eq!(c.phase, Phase::Body(10));
    c.buf.extend_from_slice(b"6789");
    assert!(matches!(c.advance(&l, now), Action::Wait));
    c.buf.extend_from_slice(b"0");
    assert!(matches!(c.advance(&l, now), Action::Ready));
    close(peer);
    // Expect: 100-continue and large bodies are not pre-read.
    for req in [
        &b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let (mut c, peer) = conn_with(req);
        assert!(matches!(c.advance(&l, now), Action::Ready));
        close(peer);
    }
}

#[test]
fn refusals_and_discard() {
    let l = lim();
    let now = Instant::now();
    let (mut c, peer) = conn_with(b"GET / HTTP/1.1\nHost: x\n\n");
    assert!(matches!(c.advance(&l, now), Action::Reject(400)));
    close(peer);
    let (mut c, peer) = conn_with(b"GET / HTTP/3.0\r\n\r\n");
    assert!(matches!(c.advance(&l, now), Action::Reject(505)));
    close(peer);
    // An unread 5-byte body is thrown away before the next request.
    let (mut c, peer) = conn_with(b"hel");
    c.phase = Phase::Discard(5);
    assert!(matches!(c.advance(&l, now), Action::Wait));
    assert_eq!(c.phase, Phase::Discard(2));
    c.buf.extend_from_slice(b"loGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(matches!(c.advance(&l, now), Action::Ready));
    close(peer);
    // Lingering connections throw everything away, up to a cap.
    let (mut c, peer) = conn_with(&[b'x'; 1000]);
    c.phase = Phase::Linger;
    assert!(matches!(c.advance(&l, now), Action::Wait));
    assert!(c.buf.is_empty());
    c.buf.resize(LINGER_MAX, b'y');
    assert!(matches!(c.advance(&l, now), Action::Close));
    close(peer);
}

#[test]
fn blocking_helpers_time_out_and_report_eof() {
    let (a, b) = pair();
    let mut buf = Vec::new();
    let t = Instant::now();
    let r = read_until(a, &mut buf, 100, t + Duration::from_millis(50)).unwrap();
    assert!(matches!(r, ReadOutcome::Waiting));
    assert!(t.elapsed() >= Duration::from_millis(45));
    // Fill the socket buffer: write_until gives up at its deadline with partial progress.
    let big = vec![7u8; 8 << 20];
    let mut sent = 0;
    let done =
        write_until(b, &[&big], &mut sent, Instant::now() + Duration::from_millis(50), false);
    assert!(!done.unwrap());
    assert!(sent > 0 && sent < big.len());
    // Data then EOF.
    let r = read_until(a, &mut buf, 10, Instant::now() + Duration::from_secs(1)).unwrap();
    assert!(matches!(r, ReadOutcome::Data(10)));
    close(b);
    let mut sink = Vec::new();
    loop {
        match read_until(a, &mut sink, 1 << 20, Instant::now() + Duration::from_secs(1)).unwrap() {
            ReadOutcome::Data(_) => continue,
            ReadOutcome::Eof => break,
            ReadOutcome::Waiting => panic!("no EOF"),
        }
    }
    assert_eq!(buf.len() + sink.len(), sent);
    // Writing to a closed peer is an error, not a signal.
    let (c, d) = pair();
    close(d);
    let mut sent = 0;
    let e = write_until(c, &[b"x"], &mut sent, Instant::now() + Duration::from_secs(1), false);
    assert!(e.is_err());
    close(a);
    close(c);
}

#[test]
fn write_until_handles_several_parts() {
    let (a, b) = pair();
    let mut sent = 0;
    let parts: [&[u8]; 4] = [b"ab", b"", b"cde", b"f"];
    assert!(
        write_until(a, &parts, &mut sent, Instant::now() + Duration::from_secs(1), true).unwrap()
    );
    let mut buf = Vec::new();
    read_until(b, &mut buf, 100, Instant::now() + Duration::from_secs(1)).unwrap();
    assert_eq!(buf, b"abcdef");
    close(a);
    close(b);
}

/// A listening TCP socket on 127.0.0.1 (or the wildcard), its port, and a connected client.
fn tcp_pair(wildcard: bool, nodelay: bool) -> (RawFd, std::net::TcpStream, RawFd) {
    use std::os::fd::IntoRawFd;
    let bind = if wildcard { "0.0.0.0:0" } else { "127.0.0.1:0" };
    let listener = std::net::TcpListener::bind(bind).unwrap();
    let port = listener.local_addr().unwrap().port();
    let lfd = listener.into_raw_fd();
    if nodelay {
        sys::set_nodelay(lfd).unwrap();
    }
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (fd, peer) = sys::accept(lfd).unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (lfd, client, fd)
}

/// Linux copies TCP_NODELAY from a listener to the sockets it accepts (what lets the
/// engine skip a setsockopt per connection), and only when the listener has it.
#[test]
fn accepted_sockets_inherit_the_listeners_tcp_nodelay() {
    for on in [true, false] {
        let (lfd, _client, fd) = tcp_pair(false, on);
        assert_eq!(sys::nodelay(fd).unwrap(), on);
        close(fd);
        close(lfd);
    }
}

/// `ListenerFacts`: the local address of a connection to a specific address is the
/// listener's, to a wildcard one the kernel's; TCP_NODELAY is on either way: inherited
/// from a listener that has it, set per connection otherwise.
#[test]
fn listener_facts_give_each_connection_its_address_and_nodelay() {
    for wildcard in [false, true] {
        for listener_nodelay in [false, true] {
            let (lfd, client, fd) = tcp_pair(wildcard, listener_nodelay);
            let facts = ListenerFacts::new(lfd);
            assert_eq!(facts.local.is_some(), !wildcard);
            let expected =
                if listener_nodelay { Nodelay::Inherited } else { Nodelay::PerConnection };
            assert_eq!(facts.nodelay, expected);
            assert_eq!(facts.adopt(fd), client.peer_addr().unwrap());
            assert!(sys::nodelay(fd).unwrap());
            close(fd);
            close(lfd);
        }
    }
}
