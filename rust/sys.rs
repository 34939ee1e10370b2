//! Every system call of the engine, and nothing else: accept, read, write (sendmsg),
//! sendfile, poll, shutdown, FIONREAD, TCP_INFO, fcntl, open/fstat/pread, epoll, close.
//!
//! Invariants the callers keep, on which each `unsafe` block below relies:
//! - a descriptor passed in is one the caller owns (or borrows from its owner) for the
//!   duration of the call; a bad one is reported by the kernel as an error, never UB;
//! - buffers are live Rust slices or vectors and the length passed is theirs, so the
//!   kernel writes only inside them; a `Vec`'s length grows only by what the kernel wrote;
//! - C structs (sockaddr_storage, stat, tcp_info, msghdr) are plain data, zeroed before
//!   the kernel fills them, and read as the kind their family field names.
//!
//! The blocking helpers wait with poll(2) until a given instant; callers run them with the
//! GIL released and in slices (≤ 1 s) so that Python signal handlers still run. `EINTR` is
//! returned to the caller, never retried here (pread, which never blocks on a socket,
//! retries it).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

pub fn close(fd: RawFd) {
    // SAFETY: the caller owns fd and never uses it again.
    unsafe {
        libc::close(fd);
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

/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC); returns (fd, peer). The caller sets the socket
/// options and learns the local address (see `engine::ListenerFacts`).
pub fn accept(listen_fd: RawFd) -> io::Result<(RawFd, SocketAddr)> {
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
        Ok((fd, sockaddr_to_std(&ss)))
    }
}

/// The local address of a socket (getsockname); 0.0.0.0:0 for one that is not TCP/IP.
pub fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // SAFETY: sockaddr_storage is plain data, zeroed; the kernel writes at most `len` bytes.
    unsafe {
        let mut ls: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, &mut ls as *mut _ as *mut libc::sockaddr, &mut len) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sockaddr_to_std(&ls))
    }
}

/// Turn Nagle's algorithm off (TCP_NODELAY): a response's pieces leave at once.
pub fn set_nodelay(fd: RawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads one int through the pointer, of the length given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether TCP_NODELAY is on.
pub fn nodelay(fd: RawFd) -> io::Result<bool> {
    let mut on: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into the int we own.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &mut on as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(on != 0)
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

/// A socket as an `io::Write` (non-blocking `send` with MSG_NOSIGNAL), for rustls'
/// `write_tls`, which sends a TLS session's records.
pub struct FdWriter(pub RawFd);

impl io::Write for FdWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // SAFETY: plain send from a live slice on a descriptor the caller owns.
        let n = unsafe {
            libc::send(self.0, data.as_ptr() as *const libc::c_void, data.len(), libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
    /// All of rustls' pending records in one sendmsg(2).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut iov: Vec<libc::iovec> = bufs
            .iter()
            .map(|b| libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() })
            .collect();
        // SAFETY: msghdr zeroed then pointed at live iovecs over live slices; the kernel
        // only reads them.
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            libc::sendmsg(self.0, &msg, libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
    while !write_nowait(fd, parts, sent, more)? {
        if !poll_fd(fd, libc::POLLOUT, until)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Write what the socket takes now of `parts` (after the first `*sent` bytes) without
/// waiting. Ok(true): all written; Ok(false): the socket is full. `*sent` advances.
pub fn write_nowait(fd: RawFd, parts: &[&[u8]], sent: &mut usize, more: bool) -> io::Result<bool> {
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
        return Ok(false);
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

/// Open a file read-only (close-on-exec). A NUL in the path is `InvalidInput`.
pub fn open_read(path: &std::path::Path) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in file name"))?;
    open_read_c(&c)
}

/// `open_read` of a path already NUL-terminated (kept so by its owner: no copy per open).
pub fn open_read_c(c: &std::ffi::CStr) -> io::Result<OwnedFd> {
    // SAFETY: a NUL-terminated path; the descriptor is owned from here on.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Size of a regular file; None for other kinds (they cannot go through sendfile(2)).
pub fn regular_file_size(fd: RawFd) -> io::Result<Option<u64>> {
    Ok(file_version(fd)?.map(|version| version.size))
}

/// What identifies one version of a file: a different value means another file or the
/// same file changed (the ctime moves with every write, chmod, chown or rename of it, and
/// cannot be set back by its owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileVersion {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

/// fstat(2) of an open regular file as a `FileVersion`; None for other kinds.
pub fn file_version(fd: RawFd) -> io::Result<Option<FileVersion>> {
    // SAFETY: a zeroed stat is a valid value of a plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into the struct we own; a bad fd is reported as an error.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(None);
    }
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    Ok(Some(FileVersion {
        dev: st.st_dev,
        ino: st.st_ino,
        size: u64::try_from(st.st_size).unwrap_or(0),
        mtime_ns: ns(st.st_mtime, st.st_mtime_nsec),
        ctime_ns: ns(st.st_ctime, st.st_ctime_nsec),
    }))
}

/// One write(2) of a whole log line to an `O_APPEND` file or a pipe (a line of a pipe's
/// atomic size never interleaves with another process's). Errors are the caller's to
/// ignore: a full disk must not fail a request already answered.
pub fn append(fd: RawFd, line: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: the slice is valid for its length; a bad fd is reported as an error.
        let n = unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The local time of `secs` (localtime_r(3), the process's TZ as Python's time.localtime
/// sees it): (year, month 1-12, day, hour, minute, second, offset east of UTC in seconds).
pub fn local_time(secs: i64) -> Option<(i64, u32, u32, u32, u32, u32, i64)> {
    let t: libc::time_t = secs;
    // SAFETY: a zeroed tm is a valid value of a plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to values we own; NULL return means failure.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    let field = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
    Some((
        i64::from(tm.tm_year) + 1900,
        field(tm.tm_mon) + 1,
        field(tm.tm_mday),
        field(tm.tm_hour),
        field(tm.tm_min),
        field(tm.tm_sec),
        tm.tm_gmtoff,
    ))
}

/// openat2(2) (Linux 5.6+): `path` relative to `dir_fd` (or AT_FDCWD) opened with `flags`,
/// its resolution constrained by `resolve` (RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH...). The
/// caller owns the descriptor. Errors keep their errno (ENOSYS on an older kernel, ELOOP /
/// EXDEV when the constraint refused the resolution).
pub fn openat2(
    dir_fd: RawFd,
    path: &std::ffi::CStr,
    flags: u64,
    resolve: u64,
) -> io::Result<RawFd> {
    // SAFETY: open_how is plain data; zeroed then filled, so every field is defined.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags;
    how.resolve = resolve;
    loop {
        // SAFETY: a NUL-terminated path and a live open_how of the size passed.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir_fd,
                path.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            return Ok(fd as RawFd);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Exactly `count` bytes of `fd` from `offset` (pread, no position change).
pub fn pread_exact(fd: RawFd, offset: u64, count: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; count];
    let mut got = 0;
    while got < count {
        let off = libc::off_t::try_from(offset + got as u64)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        // SAFETY: reading into the unfilled tail of a live buffer.
        let n = unsafe {
            libc::pread(fd, out[got..].as_mut_ptr() as *mut libc::c_void, count - got, off)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file ended before the length promised to the client",
            ));
        }
        got += n as usize;
    }
    Ok(out)
}

/// A new epoll set (close-on-exec).
pub fn epoll_create() -> io::Result<RawFd> {
    // SAFETY: plain syscall without pointers.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epfd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(epfd)
}

/// Add, change or remove `fd` in the epoll set `epfd`, with `data` as its token.
pub fn epoll_ctl(
    epfd: RawFd,
    op: libc::c_int,
    fd: RawFd,
    events: u32,
    data: u64,
) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: data };
    // SAFETY: valid epoll fd and a live event struct.
    if unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Wait up to `ms` milliseconds; the ready events fill the front of `events`.
pub fn epoll_wait(epfd: RawFd, events: &mut [libc::epoll_event], ms: i32) -> io::Result<usize> {
    let max = libc::c_int::try_from(events.len()).unwrap_or(libc::c_int::MAX);
    // SAFETY: the kernel writes at most `max` entries into the live slice.
    let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), max, ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// The peer and local addresses of a connected socket (one handed over by another worker).
pub fn socket_addrs(fd: RawFd) -> io::Result<(SocketAddr, SocketAddr)> {
    // SAFETY: sockaddr_storage is plain data, zeroed; the kernel writes at most `len` bytes.
    unsafe {
        let mut peer: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getpeername(fd, &mut peer as *mut _ as *mut libc::sockaddr, &mut len) < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut local: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, &mut local as *mut _ as *mut libc::sockaddr, &mut len) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((sockaddr_to_std(&peer), sockaddr_to_std(&local)))
    }
}

/// Room for one SCM_RIGHTS message carrying one descriptor, as u64 words (cmsghdr needs
/// the alignment of size_t, which a byte buffer would not guarantee).
fn fd_control_buffer() -> (Vec<u64>, usize) {
    // SAFETY: CMSG_SPACE is arithmetic on its argument.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    (vec![0u64; space.div_ceil(8)], space)
}

/// Send `fd` (SCM_RIGHTS) with `parts` as one message on the Unix socket `sock`, without
/// blocking. The receiver gets its own descriptor for the same connection; ours stays open.
pub fn send_fd(sock: RawFd, fd: RawFd, parts: &[&[u8]]) -> io::Result<()> {
    let iov: Vec<libc::iovec> = parts
        .iter()
        .map(|p| libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() })
        .collect();
    let (mut control, space) = fd_control_buffer();
    // SAFETY: msghdr is zeroed plain data pointing at live buffers of the lengths given; the
    // control buffer has CMSG_SPACE(sizeof fd) aligned bytes, so CMSG_FIRSTHDR is non-null
    // and its data has room for one descriptor; the kernel only reads these buffers.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = iov.len() as _;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        if libc::sendmsg(sock, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What one non-blocking receive on the hand-over socket gave.
pub enum Received {
    /// A descriptor (close-on-exec) and the message's first `n` bytes in the buffer.
    Fd(RawFd, usize),
    /// A message without a descriptor, or cut short (the descriptor, if any, is closed).
    Junk,
    /// Nothing waiting.
    Empty,
}

/// Receive one message sent by `send_fd` into `buf`, without blocking.
pub fn recv_fd(sock: RawFd, buf: &mut [u8]) -> io::Result<Received> {
    let (mut control, space) = fd_control_buffer();
    let mut iov =
        libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
    // SAFETY: msghdr is zeroed plain data pointing at live buffers of the lengths given; the
    // kernel writes at most those lengths; the control messages are walked with the CMSG
    // macros within `msg_controllen`, and each descriptor is read unaligned from its data.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(Received::Empty)
            } else {
                Err(e)
            };
        }
        let mut got: Option<RawFd> = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const RawFd);
                match got {
                    None => got = Some(fd),
                    Some(_) => close(fd),
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        let cut = msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0;
        Ok(match got {
            Some(fd) if !cut => Received::Fd(fd, n as usize),
            Some(fd) => {
                close(fd);
                Received::Junk
            }
            None => Received::Junk,
        })
    }
}

/// Block every signal in the calling thread (a helper thread of the engine), so that the
/// process's signals reach the main thread, where Python runs its handlers and where they
/// interrupt the blocking call in progress (EINTR).
pub fn block_signals_in_this_thread() {
    // SAFETY: sigset_t is plain data filled by sigfillset; pthread_sigmask only reads it
    // and changes the calling thread's mask.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}
