//! Access-log writes of one worker: each line straight to its file, or, under mod_log_config's
//! `BufferedLogs On`, gathered per log and written a buffer at a time.
//!
//! The engine owns every access-log write of the worker (Python's lines and the static
//! plans' alike), so one log's lines leave in the order the requests were answered, whichever
//! side wrote them. The buffering reproduces httpd's `ap_buffered_log_writer`: a buffer of
//! `PIPE_BUF` bytes per log, written out when the next line would not fit, a line as large as
//! the buffer written on its own after what was held. httpd writes what is left only when the
//! child exits; the worker also calls `flush` at its ticks and before it reopens the logs.

use std::os::fd::RawFd;

use crate::sys;

/// httpd's LOG_BUFSIZE: PIPE_BUF, so one buffer written to a piped log never interleaves with
/// another process's.
pub const LOG_BUFSIZE: usize = libc::PIPE_BUF;

#[derive(Default)]
pub struct LogWriter {
    buffered: bool,
    /// (log fd, the lines held for it), in the order the logs were first written.
    held: Vec<(RawFd, Vec<u8>)>,
}

impl LogWriter {
    /// `BufferedLogs On` or Off; turning it off writes what is held first.
    pub fn set_buffered(&mut self, on: bool) {
        if !on {
            self.flush();
        }
        self.buffered = on;
    }

    pub fn buffered(&self) -> bool {
        self.buffered
    }

    /// One whole line (ending in its newline) for the log open on `fd`. Errors are ignored
    /// here, as for an unbuffered line: a full disk must not fail a request already answered.
    pub fn write(&mut self, fd: RawFd, line: &[u8]) {
        if !self.buffered {
            let _ = sys::append(fd, line);
            return;
        }
        let held = self.held_for(fd);
        if held.len() + line.len() > LOG_BUFSIZE {
            let _ = sys::append(fd, held);
            held.clear();
        }
        if line.len() >= LOG_BUFSIZE {
            let _ = sys::append(fd, line);
        } else {
            held.extend_from_slice(line);
        }
    }

    /// Write every log's held lines (a tick, a reopen, the worker's exit).
    pub fn flush(&mut self) {
        for (fd, held) in &mut self.held {
            if !held.is_empty() {
                let _ = sys::append(*fd, held);
                held.clear();
            }
        }
    }

    /// Bytes held, over every log.
    pub fn held_bytes(&self) -> usize {
        self.held.iter().map(|(_, held)| held.len()).sum()
    }

    fn held_for(&mut self, fd: RawFd) -> &mut Vec<u8> {
        let at = match self.held.iter().position(|(held_fd, _)| *held_fd == fd) {
            Some(at) => at,
            None => {
                self.held.push((fd, Vec::with_capacity(LOG_BUFSIZE)));
                self.held.len() - 1
            }
        };
        &mut self.held[at].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn pipe() -> (std::fs::File, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe(2) returns.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) }, 0);
        // SAFETY: both descriptors were just opened and are owned here alone.
        unsafe { (std::fs::File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn available(reader: &mut std::fs::File) -> Vec<u8> {
        let mut got = vec![0; 4 * LOG_BUFSIZE];
        match reader.read(&mut got) {
            Ok(n) => got.truncate(n),
            Err(_) => got.clear(), // EAGAIN: nothing written
        }
        got
    }

    #[test]
    fn unbuffered_lines_go_out_at_once() {
        let (mut reader, fd) = pipe();
        let mut logs = LogWriter::default();
        logs.write(fd.as_raw_fd(), b"one\n");
        assert_eq!(available(&mut reader), b"one\n");
    }

    #[test]
    fn buffered_lines_wait_until_the_buffer_is_full_or_flushed() {
        let (mut reader, fd) = pipe();
        let mut logs = LogWriter::default();
        logs.set_buffered(true);
        logs.write(fd.as_raw_fd(), b"one\n");
        logs.write(fd.as_raw_fd(), b"two\n");
        assert!(available(&mut reader).is_empty());
        assert_eq!(logs.held_bytes(), 8);
        logs.flush();
        assert_eq!(available(&mut reader), b"one\ntwo\n");
        assert_eq!(logs.held_bytes(), 0);
    }

    #[test]
    fn a_line_that_does_not_fit_sends_what_was_held_first() {
        let (mut reader, fd) = pipe();
        let mut logs = LogWriter::default();
        logs.set_buffered(true);
        let line = [b'a'; 1000];
        for _ in 0..4 {
            logs.write(fd.as_raw_fd(), &line);
        }
        assert!(available(&mut reader).is_empty(), "4000 bytes fit in the buffer");
        let next = [b'n'; 100]; // 4100 bytes: more than LOG_BUFSIZE
        logs.write(fd.as_raw_fd(), &next);
        assert_eq!(available(&mut reader).len(), 4000);
        assert_eq!(logs.held_bytes(), 100);
    }

    #[test]
    fn a_line_as_large_as_the_buffer_goes_alone_after_the_held_ones() {
        let (mut reader, fd) = pipe();
        let mut logs = LogWriter::default();
        logs.set_buffered(true);
        logs.write(fd.as_raw_fd(), b"small\n");
        let big = vec![b'b'; LOG_BUFSIZE];
        logs.write(fd.as_raw_fd(), &big);
        let got = available(&mut reader);
        assert_eq!(&got[..6], b"small\n");
        assert_eq!(got.len(), 6 + LOG_BUFSIZE);
        assert_eq!(logs.held_bytes(), 0);
    }

    #[test]
    fn each_log_has_its_own_buffer_and_turning_buffering_off_flushes() {
        let (mut first, fd1) = pipe();
        let (mut second, fd2) = pipe();
        let mut logs = LogWriter::default();
        logs.set_buffered(true);
        logs.write(fd1.as_raw_fd(), b"1\n");
        logs.write(fd2.as_raw_fd(), b"2\n");
        logs.set_buffered(false);
        assert_eq!(available(&mut first), b"1\n");
        assert_eq!(available(&mut second), b"2\n");
        logs.write(fd1.as_raw_fd(), b"3\n");
        assert_eq!(available(&mut first), b"3\n");
    }
}
