//! The PROXY protocol header (HAProxy's `send-proxy` v1 text and `send-proxy-v2` binary),
//! read first on listeners configured with `Listen ... proxy-protocol` (pure Rust).
//!
//! Owns recognising one header at the start of a connection's bytes, deciding whether it is
//! complete, and the client address it names. Strict, as the specification asks of a
//! receiver: a connection whose first bytes are not a valid header is closed. A v2 `LOCAL`
//! command (the balancer's own health check), v1 `UNKNOWN` and address families other than
//! TCP over IPv4/IPv6 keep the socket's address; v2 TLVs are skipped.
//! Must not read past the header: what follows is the first request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The twelve bytes every v2 header starts with.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_PREFIX: &[u8] = b"PROXY ";
/// The longest v1 line, CRLF included (the specification's 107 bytes).
const V1_MAX: usize = 107;
/// The fixed part of a v2 header: signature, version/command, family, length.
const V2_FIXED: usize = 16;

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A valid beginning of a header: wait for more bytes.
    Incomplete,
    /// Not a PROXY header (or a malformed one): close the connection.
    Invalid(&'static str),
    /// A header of `len` bytes; `source` is the client it names, None to keep the socket's.
    Done { len: usize, source: Option<SocketAddr> },
}

/// Recognise a v1 or v2 header at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
    if buf.first() == Some(&b'P') {
        parse_v1(buf)
    } else {
        parse_v2(buf)
    }
}

fn is_prefix_of(buf: &[u8], whole: &[u8]) -> bool {
    buf.len() < whole.len() && whole.starts_with(buf)
}

fn parse_v1(buf: &[u8]) -> Parsed {
    if is_prefix_of(buf, V1_PREFIX) {
        return Parsed::Incomplete;
    }
    if !buf.starts_with(V1_PREFIX) {
        return Parsed::Invalid("not a PROXY protocol header");
    }
    let window = &buf[..buf.len().min(V1_MAX)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        return if buf.len() >= V1_MAX {
            Parsed::Invalid("PROXY v1 line longer than 107 bytes")
        } else {
            Parsed::Incomplete
        };
    };
    match buf.get(cr + 1) {
        None => return Parsed::Incomplete,
        Some(b'\n') => {}
        Some(_) => return Parsed::Invalid("PROXY v1 line not ended by CRLF"),
    }
    let Ok(line) = std::str::from_utf8(&buf[V1_PREFIX.len()..cr]) else {
        return Parsed::Invalid("PROXY v1 line is not ASCII");
    };
    match v1_source(line) {
        Ok(source) => Parsed::Done { len: cr + 2, source },
        Err(why) => Parsed::Invalid(why),
    }
}

/// `TCP4 src dst sport dport`, `TCP6 ...` or `UNKNOWN[ anything]`.
fn v1_source(line: &str) -> Result<Option<SocketAddr>, &'static str> {
    if line == "UNKNOWN" || line.starts_with("UNKNOWN ") {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split(' ').collect();
    let [family, src, dst, sport, dport] = fields[..] else {
        return Err("PROXY v1 line needs protocol, two addresses and two ports");
    };
    // Both addresses and both ports must be valid; only the source is used.
    let source: IpAddr = match family {
        "TCP4" => {
            parse_ip::<Ipv4Addr>(dst)?;
            parse_ip::<Ipv4Addr>(src)?.into()
        }
        "TCP6" => {
            parse_ip::<Ipv6Addr>(dst)?;
            parse_ip::<Ipv6Addr>(src)?.into()
        }
        _ => return Err("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN"),
    };
    parse_port(dport)?;
    Ok(Some(SocketAddr::new(source, parse_port(sport)?)))
}

fn parse_ip<T: std::str::FromStr>(text: &str) -> Result<T, &'static str> {
    text.parse().map_err(|_| "PROXY v1 address is not valid for its protocol")
}

/// Decimal 0..=65535 without a sign or a leading zero.
fn parse_port(text: &str) -> Result<u16, &'static str> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match text.parse::<u16>() {
        Ok(port) if canonical => Ok(port),
        _ => Err("PROXY v1 port is not a number from 0 to 65535"),
    }
}

fn parse_v2(buf: &[u8]) -> Parsed {
    if buf.is_empty() || is_prefix_of(buf, V2_SIGNATURE) {
        return Parsed::Incomplete;
    }
    if !buf.starts_with(V2_SIGNATURE) {
        return Parsed::Invalid("not a PROXY protocol header");
    }
    if buf.len() < V2_FIXED {
        return Parsed::Incomplete;
    }
    let (version, command) = (buf[12] >> 4, buf[12] & 0x0f);
    if version != 2 {
        return Parsed::Invalid("PROXY v2 header of another version");
    }
    let len = V2_FIXED + usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if buf.len() < len {
        return Parsed::Incomplete;
    }
    let body = &buf[V2_FIXED..len];
    match command {
        0 => Parsed::Done { len, source: None }, // LOCAL: the proxy speaking for itself
        1 => match v2_source(buf[13], body) {
            Ok(source) => Parsed::Done { len, source },
            Err(why) => Parsed::Invalid(why),
        },
        _ => Parsed::Invalid("PROXY v2 command is neither LOCAL nor PROXY"),
    }
}

/// The source address of a PROXY command; TLVs after the addresses are skipped.
fn v2_source(family: u8, body: &[u8]) -> Result<Option<SocketAddr>, &'static str> {
    let short = "PROXY v2 address block shorter than its family needs";
    match family {
        // TCP over IPv4: src, dst (4 bytes each), sport, dport.
        0x11 => {
            let a: &[u8; 12] = body.get(..12).and_then(|s| s.try_into().ok()).ok_or(short)?;
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            Ok(Some(SocketAddr::new(ip.into(), u16::from_be_bytes([a[8], a[9]]))))
        }
        // TCP over IPv6: src, dst (16 bytes each), sport, dport.
        0x21 => {
            let a: &[u8; 36] = body.get(..36).and_then(|s| s.try_into().ok()).ok_or(short)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&a[..16]);
            let port = u16::from_be_bytes([a[32], a[33]]);
            Ok(Some(SocketAddr::new(Ipv6Addr::from(octets).into(), port)))
        }
        // UNSPEC, UDP, AF_UNIX: nothing a TCP request can use; keep the socket's address.
        0x00 | 0x12 | 0x22 | 0x31 | 0x32 => Ok(None),
        _ => Err("PROXY v2 address family or protocol unknown"),
    }
}

/// What the engine does with a connection still owing its header.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Wait,
    Close,
    /// Header consumed: go on with the request that follows.
    Go,
}

/// Consume the header at the start of `buf`; the client it names replaces `peer`.
pub fn strip_header(buf: &mut Vec<u8>, peer: &mut SocketAddr) -> Step {
    match parse(buf) {
        Parsed::Incomplete => Step::Wait,
        Parsed::Invalid(_) => Step::Close,
        Parsed::Done { len, source } => {
            buf.drain(..len);
            if let Some(source) = source {
                *peer = source;
            }
            Step::Go
        }
    }
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
