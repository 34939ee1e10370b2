//! Request-body state (pure Rust, no Python): what remains of a Content-Length body, or
//! the chunked decoder, plus the non-blocking decisions taken on it when a response is
//! written or a request finishes: throw away what is already buffered, and whether the
//! unread rest of the body lets the connection stay alive.

use crate::chunked::ChunkedDecoder;
use crate::conn::Phase;
use crate::parse::{Framing, HttpError};

/// Unread request bodies up to this size are discarded by the engine to keep the
/// connection alive; larger ones close it.
pub const DRAIN_MAX: u64 = 64 * 1024;

pub enum Body {
    Length(u64),
    Chunked(Box<ChunkedDecoder>),
    Done,
}

impl Body {
    /// `limit`: largest chunked body (0 = no limit); Content-Length was checked already.
    pub fn new(framing: Framing, limit: u64) -> Self {
        match framing {
            Framing::None | Framing::Length(0) => Body::Done,
            Framing::Length(n) => Body::Length(n),
            Framing::Chunked => Body::Chunked(Box::new(ChunkedDecoder::new(limit))),
        }
    }

    /// Consume the body bytes at the front of `buf` without blocking.
    pub fn drain_buffered(&mut self, buf: &mut Vec<u8>) -> Result<(), HttpError> {
        match self {
            Body::Length(rem) => {
                let k = usize::try_from(*rem).unwrap_or(usize::MAX).min(buf.len());
                buf.drain(..k);
                *rem -= k as u64;
                if *rem == 0 {
                    *self = Body::Done;
                }
            }
            Body::Chunked(dec) => {
                let mut sink = Vec::new();
                let n = dec.decode(buf, &mut sink, usize::MAX)?;
                buf.drain(..n);
                if dec.is_done() {
                    *self = Body::Done;
                }
            }
            Body::Done => {}
        }
        Ok(())
    }

    /// Whether the unread rest of the body prevents keeping the connection alive. Looks at
    /// `buf` without consuming it (the handler may still read the body).
    /// `expect_pending`: the client expects 100-continue and it was never sent; whether it
    /// sent the body is then unknown (the bytes after the head may be the body or the next
    /// request), so the connection closes.
    pub fn blocks_keepalive(&self, buf: &[u8], expect_pending: bool) -> bool {
        match self {
            Body::Done => false,
            Body::Length(rem) => expect_pending || ((buf.len() as u64) < *rem && *rem > DRAIN_MAX),
            Body::Chunked(dec) => {
                let mut probe = dec.clone();
                let mut sink = Vec::new();
                !(probe.decode(buf, &mut sink, usize::MAX).is_ok() && probe.is_done())
            }
        }
    }

    /// After the response: the phase to give the connection back in, or None to close.
    pub fn after_finish(&self) -> Option<Phase> {
        match self {
            Body::Done => Some(Phase::Idle),
            Body::Length(rem) if *rem <= DRAIN_MAX => Some(Phase::Discard(*rem)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bodies() {
        let mut b = Body::new(Framing::Length(5), 0);
        let mut buf = b"hel".to_vec();
        assert!(b.blocks_keepalive(&buf, true));
        assert!(!b.blocks_keepalive(&buf, false));
        b.drain_buffered(&mut buf).unwrap();
        assert!(buf.is_empty());
        assert_eq!(b.after_finish(), Some(Phase::Discard(2)));
        let mut buf = b"loGET /".to_vec();
        b.drain_buffered(&mut buf).unwrap();
        assert_eq!((&buf[..], b.after_finish()), (&b"GET /"[..], Some(Phase::Idle)));
        let big = Body::new(Framing::Length(DRAIN_MAX + 1), 0);
        assert!(big.blocks_keepalive(b"", false));
        assert_eq!(big.after_finish(), None);
        assert!(matches!(Body::new(Framing::Length(0), 0), Body::Done));
        assert!(matches!(Body::new(Framing::None, 0), Body::Done));
    }

    #[test]
    fn chunked_bodies() {
        let b = Body::new(Framing::Chunked, 0);
        let whole = b"5\r\nhello\r\n0\r\n\r\nGET /";
        assert!(!b.blocks_keepalive(whole, false));
        assert!(b.blocks_keepalive(&whole[..8], false));
        assert!(b.blocks_keepalive(b"5 \r\nhello\r\n0\r\n\r\n", false));
        let mut b = Body::new(Framing::Chunked, 0);
        let mut buf = whole.to_vec();
        b.drain_buffered(&mut buf).unwrap();
        assert_eq!((&buf[..], b.after_finish()), (&b"GET /"[..], Some(Phase::Idle)));
        let mut b = Body::new(Framing::Chunked, 3);
        assert_eq!(b.drain_buffered(&mut whole.to_vec()).unwrap_err().status, 413);
        let mut b = Body::new(Framing::Chunked, 0);
        let mut part = b"5\r\nhe".to_vec();
        b.drain_buffered(&mut part).unwrap();
        assert!(part.is_empty() && b.after_finish().is_none());
    }
}
