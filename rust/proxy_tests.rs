//! Table tests of the PROXY protocol parser: v1 and v2, complete, partial and malformed.

use super::*;

fn v4(a: [u8; 4], port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::new(Ipv4Addr::from(a).into(), port))
}

/// A v2 header: command, family, address block (and whatever TLVs follow it).
fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x20 | command);
    out.push(family);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn tcp4_block() -> Vec<u8> {
    let mut b = vec![203, 0, 113, 7, 127, 0, 0, 1];
    b.extend_from_slice(&4711u16.to_be_bytes());
    b.extend_from_slice(&80u16.to_be_bytes());
    b
}

#[test]
fn v1_table() {
    let line = b"PROXY TCP4 203.0.113.7 127.0.0.1 4711 80\r\n";
    let cases: Vec<(&[u8], Parsed)> = vec![
        (line, Parsed::Done { len: line.len(), source: v4([203, 0, 113, 7], 4711) }),
        (
            b"PROXY TCP6 2001:db8::1 ::1 65535 443\r\nGET / HTTP/1.1\r\n",
            Parsed::Done {
                len: 38,
                source: Some(SocketAddr::new("2001:db8::1".parse().unwrap(), 65535)),
            },
        ),
        (b"PROXY UNKNOWN\r\n", Parsed::Done { len: 15, source: None }),
        (b"PROXY UNKNOWN ffff::1 ::1 1 2\r\n", Parsed::Done { len: 31, source: None }),
        (b"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", Parsed::Done { len: 32, source: v4([0; 4], 0) }),
        // Partial: a prefix of the signature, of the line, or a CR without its LF yet.
        (b"", Parsed::Incomplete),
        (b"P", Parsed::Incomplete),
        (b"PROXY", Parsed::Incomplete),
        (b"PROXY TCP4 203.0.113.7 127.0.0.1 4711 8", Parsed::Incomplete),
        (b"PROXY TCP4 203.0.113.7 127.0.0.1 4711 80\r", Parsed::Incomplete),
        // Malformed.
        (b"GET / HTTP/1.1\r\n\r\n", Parsed::Invalid("not a PROXY protocol header")),
        (b"PROXYTCP4", Parsed::Invalid("not a PROXY protocol header")),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", Parsed::Invalid("PROXY v1 line not ended by CRLF")),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input), expected, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn v1_malformed_fields_are_invalid() {
    for line in [
        "PROXY TCP4 203.0.113.7 127.0.0.1 4711\r\n",
        "PROXY TCP4 203.0.113.7 127.0.0.1 4711 80 extra\r\n",
        "PROXY TCP4  203.0.113.7 127.0.0.1 4711 80\r\n",
        "PROXY TCP4 2001:db8::1 127.0.0.1 4711 80\r\n",
        "PROXY TCP6 203.0.113.7 ::1 4711 80\r\n",
        "PROXY TCP4 203.0.113.256 127.0.0.1 4711 80\r\n",
        "PROXY TCP4 203.0.113.7 127.0.0.1 65536 80\r\n",
        "PROXY TCP4 203.0.113.7 127.0.0.1 04711 80\r\n",
        "PROXY TCP4 203.0.113.7 127.0.0.1 +4711 80\r\n",
        "PROXY TCP4 203.0.113.7 127.0.0.1 4711 -1\r\n",
        "PROXY UDP4 203.0.113.7 127.0.0.1 4711 80\r\n",
        "PROXY tcp4 203.0.113.7 127.0.0.1 4711 80\r\n",
        "PROXY \r\n",
    ] {
        assert!(matches!(parse(line.as_bytes()), Parsed::Invalid(_)), "{line:?}");
    }
    let endless = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 120]].concat();
    assert_eq!(parse(&endless), Parsed::Invalid("PROXY v1 line longer than 107 bytes"));
    // Exactly at the limit: a 107-byte line is fine.
    let longest = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 91], b"\r\n"].concat();
    assert_eq!(longest.len(), 107);
    assert_eq!(parse(&longest), Parsed::Done { len: 107, source: None });
    assert!(matches!(parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xff\r\n"), Parsed::Invalid(_)));
}

#[test]
fn v2_table() {
    let tcp4 = v2(1, 0x11, &tcp4_block());
    let mut with_tlv = tcp4_block();
    with_tlv.extend_from_slice(&[0x04, 0x00, 0x03, b'a', b'b', b'c']); // a NOOP TLV
    let with_tlv = v2(1, 0x11, &with_tlv);
    let mut tcp6 = Vec::new();
    tcp6.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
    tcp6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    tcp6.extend_from_slice(&[0x12, 0x34, 0, 80]);
    let tcp6 = v2(1, 0x21, &tcp6);
    let local = v2(0, 0x00, &[]);
    let local_with_addresses = v2(0, 0x11, &tcp4_block());
    let unix = v2(1, 0x31, &[0; 216]);
    let cases: Vec<(Vec<u8>, Parsed)> = vec![
        (tcp4.clone(), Parsed::Done { len: 28, source: v4([203, 0, 113, 7], 4711) }),
        (with_tlv, Parsed::Done { len: 34, source: v4([203, 0, 113, 7], 4711) }),
        (
            tcp6,
            Parsed::Done {
                len: 52,
                source: Some(SocketAddr::new("2001:db8::7".parse().unwrap(), 0x1234)),
            },
        ),
        (local, Parsed::Done { len: 16, source: None }),
        (local_with_addresses, Parsed::Done { len: 28, source: None }),
        (unix, Parsed::Done { len: 232, source: None }),
        // Partial at every length short of the whole header.
        (tcp4[..1].to_vec(), Parsed::Incomplete),
        (tcp4[..12].to_vec(), Parsed::Incomplete),
        (tcp4[..15].to_vec(), Parsed::Incomplete),
        (tcp4[..27].to_vec(), Parsed::Incomplete),
        // Malformed.
        (
            b"\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c".to_vec(),
            Parsed::Invalid("not a PROXY protocol header"),
        ),
        (
            v2(2, 0x11, &tcp4_block()),
            Parsed::Invalid("PROXY v2 command is neither LOCAL nor PROXY"),
        ),
        (
            v2(1, 0x11, &tcp4_block()[..8]),
            Parsed::Invalid("PROXY v2 address block shorter than its family needs"),
        ),
        (
            v2(1, 0x21, &tcp4_block()),
            Parsed::Invalid("PROXY v2 address block shorter than its family needs"),
        ),
        (
            v2(1, 0x41, &tcp4_block()),
            Parsed::Invalid("PROXY v2 address family or protocol unknown"),
        ),
        (
            v2(1, 0x13, &tcp4_block()),
            Parsed::Invalid("PROXY v2 address family or protocol unknown"),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(&input), expected, "{input:?}");
    }
    let mut version1 = tcp4.clone();
    version1[12] = 0x11;
    assert_eq!(parse(&version1), Parsed::Invalid("PROXY v2 header of another version"));
    for cut in 1..tcp4.len() {
        assert_eq!(parse(&tcp4[..cut]), Parsed::Incomplete, "cut at {cut}");
    }
}

#[test]
fn strip_header_keeps_what_follows() {
    let socket: SocketAddr = "127.0.0.1:5555".parse().unwrap();
    let mut buf = b"PROXY TCP4 198.51.100.2 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\n".to_vec();
    let mut peer = socket;
    assert_eq!(strip_header(&mut buf, &mut peer), Step::Go);
    assert_eq!(buf, b"GET / HTTP/1.1\r\n");
    assert_eq!(peer, "198.51.100.2:1234".parse().unwrap());

    let mut buf = v2(0, 0, &[]);
    buf.extend_from_slice(b"GET");
    let mut peer = socket;
    assert_eq!(strip_header(&mut buf, &mut peer), Step::Go);
    assert_eq!((buf.as_slice(), peer), (b"GET".as_slice(), socket));

    let mut partial = b"PROXY TCP4".to_vec();
    assert_eq!(strip_header(&mut partial, &mut peer), Step::Wait);
    assert_eq!(partial, b"PROXY TCP4");
    assert_eq!(strip_header(&mut b"GET / HTTP/1.1\r\n".to_vec(), &mut peer), Step::Close);
    assert_eq!(peer, socket);
}
