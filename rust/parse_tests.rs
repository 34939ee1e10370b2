//! Unit tests for parse.rs: accepted and refused heads (vectors of shared/http-vectors.md
//! sections 1-2), limits, and a split-at-every-byte property test of the scanner.

use super::*;

const G: &str = "GET / HTTP/1.1\r\nHost: a\r\n";
const P: &str = "POST / HTTP/1.1\r\nHost: a\r\n";

fn lim() -> HeadLimits {
    HeadLimits::default()
}

fn parse(s: &[u8]) -> Result<Option<Head>, HttpError> {
    parse_head(s, &lim())
}

fn status(s: &[u8]) -> u16 {
    match parse(s) {
        Ok(Some(_)) => 200,
        Ok(None) => 0,
        Err(e) => e.status,
    }
}

fn ok(s: &[u8]) -> Head {
    match parse(s) {
        Ok(Some(h)) => h,
        other => {
            panic!("{:?} -> {:?}", String::from_utf8_lossy(s), other.map(|h| h.map(|h| h.head_len)))
        }
    }
}

fn cat(a: &str, b: &[u8]) -> Vec<u8> {
    let mut v = a.as_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

#[test]
fn refused_heads() {
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        // 2.1 request line
        ("RL1", b"GET HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("RL2", b"GET  HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL3", b"GET\n/\nHTTP/1.1\r\n\r\n".to_vec(), 400),
        ("RL4", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL4t", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL5", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL5b", b"GET / HTTP/1.0 x\r\n\r\n".to_vec(), 400),
        ("RL6", b"bla:rgh /foo HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL6b", b"GET: / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL7", b"GET\0 /foo HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL8", b"GET\xc3\x9f /germans HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL9", b"get / HTTP/1.0\r\n\r\n".to_vec(), 501),
        ("RL10", b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 501),
        ("RL11a", b"GET /foo FTP/1.1\r\n\r\n".to_vec(), 400),
        ("RL11b", b"GET /foo HTTP/1.1x\r\n\r\n".to_vec(), 400),
        ("RL11c", b"GET /foo HTTP/111\r\n\r\n".to_vec(), 400),
        ("RL11d", b"GET /foo HTTP/1.11\r\n\r\n".to_vec(), 400),
        ("RL11e", b"GET /foo HTTP/10.0\r\n\r\n".to_vec(), 400),
        ("RL11f", b"GET /foo http/1.1\r\n\r\n".to_vec(), 400),
        ("RL12", b"GET /foo HTTP/2.0\r\n\r\n".to_vec(), 505),
        ("RL13", b"GET /foo HTTP/0.99\r\n\r\n".to_vec(), 400),
        ("RL13b", b"GET /foo HTTP/0.9\r\n\r\n".to_vec(), 505),
        ("RL14", b"GET /\r\n\r\n".to_vec(), 400),
        ("RL16", b"GET / HTTP/1.0\r\r".to_vec(), 400),
        ("RL16b", b"GET / HTTP/1.1\rLine: 1\r\n\r\n".to_vec(), 400),
        ("RL18", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL20", b"GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL21", b"CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 501),
        ("RL22", b"GET foo/bar HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24a", b"GET http://foo@localhost:80/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24b", b"GET http://localhost:80x/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24c", b"GET http://localhost::80/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24d", b"GET http://[4712::abcd::/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24e", b"GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24f", b"GET http://0x7f.1/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24g", b"GET http://017700000001/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24h", b"GET http://127.01.0.1/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24i", b"GET http://%3127.0.0.1/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24j", b"GET http://[4712::abcd::]/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL24k", b"GET http://256.1.1.1/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("H18f", b"GET / HTTP/1.1\r\nHost: a..b\r\n\r\n".to_vec(), 400),
        ("H18g", b"GET / HTTP/1.1\r\nHost: .a\r\n\r\n".to_vec(), 400),
        ("H18h", b"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n".to_vec(), 400),
        ("H18i", b"GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n".to_vec(), 400),
        ("RL25", b"GET /#frag HTTP/1.0\r\n\r\n".to_vec(), 400),
        ("RL26a", b"GET /\x01 HTTP/1.0\r\n\r\n".to_vec(), 400),
        ("RL26b", b"GET /\0 HTTP/1.0\r\n\r\n".to_vec(), 400),
        ("RL26c", b"GET /foo\x7fohno HTTP/1.0\r\n\r\n".to_vec(), 400),
        ("RL27", b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("RL28", b"PUT s://]ufd/: HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("lead5", b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("leadLF", b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("PRI", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 505),
        // 2.2 header fields
        ("H1", cat(G, b"ba\0z: bar\r\n\r\n"), 400),
        ("H2", cat(G, b"Content-Length\xc3\x9f: 3\r\n\r\n"), 400),
        ("H3", cat(G, b"Content-Length : 3\r\n\r\n"), 400),
        ("H3b", cat(G, b"Foo :bar\r\n\r\n"), 400),
        ("H4", cat(G, b": x\r\n\r\n"), 400),
        ("H5", cat(G, b"Foo bar\r\n\r\n"), 400),
        ("H6a", cat(G, b"X: plain\x07injected\r\n\r\n"), 400),
        ("H6b", cat(G, b"X: a\x7f\r\n\r\n"), 400),
        ("H6c", cat(G, b"X: a\x01\r\n\r\n"), 400),
        ("H6d", cat(G, b"X: a\x0bb\r\n\r\n"), 400),
        ("H6e", cat(G, b"X: a\x0cb\r\n\r\n"), 400),
        ("H6f", cat(G, b"X: a\0b\r\n\r\n"), 400),
        ("H7", cat(G, b"X: a\rb\r\n\r\n"), 400),
        ("H8", cat(G, b"Newline: a\nContent-Length: 26\r\n\r\nGET / HTTP/1.1\nHost: x\r\n\r\n"), 400),
        ("H9", cat(G, b"Useless:\n\nGET / HTTP/1.1\nHost: a\r\n\r\n"), 400),
        ("H10", b"GET / HTTP/1.1\r\nLong: one\r\n two\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("H11", cat(G, b"Transfer-Encoding: chunked\r\n \x0bchunked\r\n\r\n"), 400),
        ("H12", b"GET / HTTP/1.1\r\n X: a\r\nHost: a\r\n\r\n".to_vec(), 400),
        ("H15", cat(G, b"Host: evil\r\n\r\n"), 400),
        ("H16", b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("H18a", b"GET / HTTP/1.1\r\nHost: abc\xa0\r\n\r\n".to_vec(), 400),
        ("H18b", b"GET / HTTP/1.1\r\nHost: abc\\foo\r\n\r\n".to_vec(), 400),
        ("H18c", b"GET / HTTP/1.1\r\nHost: localhost:80 x\r\n\r\n".to_vec(), 400),
        ("H18d", b"GET / HTTP/1.1\r\nHost: 4714::abcd:8001\r\n\r\n".to_vec(), 400),
        ("H18e", b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n".to_vec(), 400),
        ("bareLF-end", cat(G, b"\n"), 400),
        // 2.3 Content-Length
        ("CL1", cat(P, b"Content-Length: 3\r\nContent-Length: 2\r\n\r\nxyz"), 400),
        ("CL2", cat(P, b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), 400),
        ("CL3", cat(P, b"Content-Length: 5, 5\r\n\r\n"), 400),
        ("CL4a", cat(P, b"Content-Length: -1\r\n\r\n"), 400),
        ("CL4b", cat(P, b"Content-Length: -0\r\n\r\n"), 400),
        ("CL4c", cat(P, b"Content-Length: +1\r\n\r\n"), 400),
        ("CL4d", cat(P, b"Content-Length: 0_1\r\n\r\n"), 400),
        ("CL4e", cat(P, b"Content-Length: bla-bla-bla\r\n\r\n"), 400),
        ("CL4f", cat(P, b"Content-Length: -1E23\r\n\r\n"), 400),
        ("CL4g", cat(P, b"Content-Length: 0x10\r\n\r\n"), 400),
        ("CL4h", cat(P, b"Content-Length:\r\n\r\n"), 400),
        ("CL5a", cat(P, b"Content-Length: 0 1\r\n\r\n"), 400),
        ("CL5b", cat(P, b"Content-Length: 3 1\r\n\r\n"), 400),
        ("CL7", cat(P, b"Content-Length: 1000000000000000000000\r\n\r\n"), 400),
        ("CL10", cat(P, b"Content\rLength: 42\r\n\r\n"), 400),
        ("CL14", cat(P, b"Content-Length: \xd9\xa1\r\n\r\n"), 400),
        // 2.4 Transfer-Encoding
        ("TE1", cat(P, b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400),
        ("TE2", cat(P, b"Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n"), 501),
        ("TE3", cat(P, b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"), 400),
        ("TE4", cat(P, b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n"), 400),
        ("TE5", cat(P, b"Transfer-Encoding: identity, chunked, identity, chunked\r\n\r\n"), 400),
        ("TE6a", cat(P, b"Transfer-Encoding: chunked, identity\r\n\r\n"), 400),
        ("TE6b", cat(P, b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"), 400),
        ("TE7a", cat(P, b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"), 400),
        ("TE7b", cat(P, b"Transfer-Encoding: chunked, deflate\r\n\r\n"), 400),
        ("TE8", cat(P, b"Transfer-Encoding: identity, chunked\r\n\r\n"), 501),
        ("TE9", cat(P, b"Transfer-Encoding: gzip, chunked\r\n\r\n"), 501),
        ("TE10a", cat(P, b"Transfer-Encoding: pigeons\r\n\r\n"), 501),
        ("TE10b", cat(P, b"Transfer-Encoding: chunkedchunked\r\n\r\n"), 501),
        ("TE10c", cat(P, b"Transfer-Encoding: chunked-false\r\n\r\n"), 501),
        ("TE11", cat(P, b"Transfer-Encoding:\r\nContent-Length: 3\r\n\r\n"), 400),
        ("TE11b", cat(P, b"Transfer-Encoding: \r\n\r\n"), 400),
        ("TE12", cat(P, b"Transfer-Encoding: \tchunked\r\nContent-Length: 12\r\n\r\n"), 400),
        ("TE13a", cat(P, b"Transfer-Encoding:\x0bchunked\r\n\r\n"), 400),
        ("TE13b", cat(P, b"Transfer-Encoding: \x85chunked\r\n\r\n"), 400),
        ("TE13c", cat(P, b"Transfer-Encoding: chunked\xa0\r\n\r\n"), 400),
        ("TE14", cat(P, b"Transfer-Encoding: chun\xe2\x84\xaaed\r\n\r\n"), 400),
        ("TE15", cat(P, b"Transfer-Encoding : chunked\r\n\r\n"), 400),
        ("TE17", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 400),
        ("TE-only-empty", cat(P, b"Transfer-Encoding: , ,\r\n\r\n"), 400),
        ("H17-singleton", cat(P, b"Content-Type: a\r\nContent-Type: b\r\n\r\n"), 400),
        ("Expect-list", cat(P, b"Expect: 100-continue, x\r\n\r\n"), 417),
        ("TE-param", cat(P, b"Transfer-Encoding: chunked;q=1\r\n\r\n"), 400),
        // Expect
        ("K11", cat(G, b"Expect: something-else\r\n\r\n"), 417),
        ("K11b", cat(G, b"Expect: 100-continue, foo\r\n\r\n"), 417),
    ];
    let mut failures = Vec::new();
    for (id, bytes, want) in &cases {
        let got = status(bytes);
        if got != *want {
            failures.push(format!("{id}: want {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn accepted_heads() {
    let h = ok(b"GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nX-Y:  z \t\r\n\r\nrest");
    assert_eq!(h.method(), "GET");
    assert_eq!(h.target(), "/a?b=c");
    assert_eq!(h.request_line(), "GET /a?b=c HTTP/1.1");
    assert_eq!(h.proto_num, 1001);
    assert_eq!(h.framing, Framing::None);
    assert!(h.client_keepalive);
    assert_eq!(h.header(b"x-y"), Some(&b"z"[..]));
    assert_eq!(h.header(b"HOST"), Some(&b"example.com:8080"[..]));
    assert_eq!(h.head_len, h.raw.len());
    assert_eq!(h.head_len, 58);

    // RFC 9110 §5.6.1.2: empty list elements are ignored.
    let h = ok(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked, \r\n\r\n");
    assert_eq!(h.framing, Framing::Chunked);
    let h = ok(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue,\r\nContent-Length: 1\r\n\r\n");
    assert!(h.expect_continue);

    // RL17: leading CRLFs skipped, counted in head_len.
    let h = ok(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(h.head_len, 31);
    assert_eq!(h.request_line(), "GET / HTTP/1.1");
    // RL15: HTTP/1.2 handled as 1.1.
    assert_eq!(ok(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n").proto_num, 1001);
    // RL19, RL23, RL30
    assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target(), "*");
    assert_eq!(ok(b"GET http://evil/x HTTP/1.1\r\nHost: good\r\n\r\n").target(), "http://evil/x");
    ok(b"GET HTTPS://[::1]:8443?q HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        ok(b"GET ///keeping_slashes HTTP/1.1\r\nHost: a\r\n\r\n").target(),
        "///keeping_slashes"
    );
    // H13, H14: OWS trimmed, obs-text kept.
    let h = ok(&cat(G, b"Name: \t value \t \r\nX: caf\xc3\xa9\r\n\r\n"));
    assert_eq!(h.header(b"name"), Some(&b"value"[..]));
    assert_eq!(h.header(b"x"), Some(&b"caf\xc3\xa9"[..]));
    // Empty Host, IPv6 Host, HTTP/1.0 without Host.
    ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
    ok(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
    for host in
        ["localhost", "example.com.", "a-b_c.example:8080", "127.0.0.1:80", "10.0.0.255", "x1.b2"]
    {
        ok(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
    }
    ok(b"GET http://127.0.0.1:8080/x HTTP/1.1\r\nHost: a\r\n\r\n");
    let h = ok(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(h.proto_num, 1000);
    assert!(!h.client_keepalive);
    // CL6, CL11
    assert_eq!(ok(&cat(P, b"Content-Length:  42 \r\n\r\n")).framing, Framing::Length(42));
    assert_eq!(ok(&cat(P, b"Content-Length:\t42\t\r\n\r\n")).framing, Framing::Length(42));
    assert_eq!(ok(&cat(G, b"Content-Length: 5\r\n\r\nhello")).framing, Framing::Length(5));
    assert_eq!(ok(&cat(P, b"Content-Length: 000\r\n\r\n")).framing, Framing::Length(0));
    // TE16, TE over two headers is still one list.
    assert_eq!(ok(&cat(P, b"Transfer-Encoding: ChUnKeD\r\n\r\n")).framing, Framing::Chunked);
    // Expect (K8, K10)
    let h = ok(&cat(P, b"Expect: 100-Continue\r\nContent-Length: 10\r\n\r\n"));
    assert!(h.expect_continue);
    let h = ok(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
    assert!(!h.expect_continue);
    assert!(!ok(b"POST / HTTP/1.0\r\nExpect: weird\r\n\r\n").expect_continue);
    // All known methods.
    for m in KNOWN_METHODS.iter().filter(|m| **m != "CONNECT") {
        let req = format!("{m} / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(ok(req.as_bytes()).method(), *m);
    }
}

#[test]
fn connection_semantics() {
    let ka = |s: &[u8]| ok(s).client_keepalive;
    assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert!(!ka(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert!(!ka(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
    assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"));
    assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
    assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    assert!(ka(b"GET / HTTP/1.0\r\nConnection: foo,keep-alive\r\n\r\n"));
    assert!(!ka(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
    assert!(!ka(b"GET / HTTP/1.0\r\nconnection: keep-alive\r\nConnection: close\r\n\r\n"));
}

#[test]
fn limits() {
    let l = HeadLimits { request_line: 20, field_size: 30, fields: 3, body: 100 };
    let st = |s: &[u8]| match parse_head(s, &l) {
        Ok(Some(_)) => 200,
        Ok(None) => 0,
        Err(e) => e.status,
    };
    assert_eq!(st(b"GET /0123456789 HTTP/1.1\r\nHost: a\r\n\r\n"), 414);
    // Detected before the line ends.
    assert_eq!(st(b"GET /01234567890123456789"), 414);
    assert_eq!(st(b"GET /012345 HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
    assert_eq!(st(b"GET / HTTP/1.1\r\nHost: a\r\nX: 012345678901234567890123456789\r\n\r\n"), 431);
    assert_eq!(st(b"GET / HTTP/1.1\r\nHost: a\r\nX: 012345678901234567890123456789"), 431);
    assert_eq!(st(b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), 200);
    assert_eq!(st(b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431);
    assert_eq!(st(b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n"), 431);
    assert_eq!(st(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"), 200);
    assert_eq!(st(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n"), 413);
    // CL8: fits in u64, over the limit.
    let l3 = HeadLimits { body: 100, ..HeadLimits::default() };
    let e = parse_head(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n",
        &l3,
    );
    assert_eq!(e.unwrap_err().status, 413);
    // Without a body limit it is accepted.
    assert_eq!(
        status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"),
        200
    );
    // H22: whole head over the limit although each field is small.
    let l2 = HeadLimits { request_line: 100, field_size: 100, fields: 1000, body: 0 };
    assert_eq!(l2.max_head(), 64 * 1024);
    let mut big = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..800 {
        big.extend_from_slice(format!("X-{i:04}: {}\r\n", "v".repeat(80)).as_bytes());
    }
    let e = parse_head(&big, &l2).unwrap_err();
    assert_eq!(e.status, 431);
    big.extend_from_slice(b"\r\n");
    assert_eq!(parse_head(&big, &l2).unwrap_err().status, 431);
    // Default limits: a 8190-byte request line passes, 8191 is refused.
    let line = format!("GET /{} HTTP/1.1", "a".repeat(8190 - 14));
    assert_eq!(line.len(), 8190);
    assert_eq!(status(format!("{line}\r\nHost: a\r\n\r\n").as_bytes()), 200);
    let line = format!("GET /{} HTTP/1.1", "a".repeat(8191 - 14));
    assert_eq!(status(format!("{line}\r\nHost: a\r\n\r\n").as_bytes()), 414);
}

#[test]
fn incomplete_heads() {
    assert_eq!(status(b""), 0);
    assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\n"), 0);
    assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\n\r"), 0);
    assert_eq!(status(b"\r\n"), 0);
    assert_eq!(status(b"GET / HTTP/1.1\r"), 0);
}

/// Deterministic xorshift generator for the property tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn scan_in_pieces(data: &[u8], cuts: &[usize]) -> Result<Option<usize>, HttpError> {
    let l = lim();
    let mut sc = HeadScanner::new();
    for &c in cuts.iter().chain(std::iter::once(&data.len())) {
        if let Scan::Complete(end) = sc.feed(&data[..c], &l)? {
            return Ok(Some(end));
        }
    }
    Ok(None)
}

#[test]
fn split_at_every_byte_boundary() {
    let mut samples: Vec<Vec<u8>> = vec![
        b"GET /a?b HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nGET /next HTTP/1.1\r\n".to_vec(),
        b"\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"GET / HTTP/1.0\r\n\r\n".to_vec(),
        cat(G, b"Newline: a\nX: b\r\n\r\n"),
        cat(G, b"X: a\rb\r\n\r\n"),
        b"GET / HTTP/1.1\r\nLong: one\r\n two\r\nHost: a\r\n\r\n".to_vec(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let n = rng.below(6);
        let mut s = b"GET /".to_vec();
        for _ in 0..rng.below(20) {
            s.push(b"abc/?=&%-_.~"[rng.below(12)]);
        }
        s.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n");
        for i in 0..n {
            s.extend_from_slice(format!("X-{i}: {}\r\n", "v".repeat(rng.below(30))).as_bytes());
        }
        s.extend_from_slice(b"\r\n");
        samples.push(s);
    }
    for s in &samples {
        let whole = scan_in_pieces(s, &[]);
        let parsed = parse_head(s, &lim()).map(|h| h.map(|h| (h.head_len, h.headers.len())));
        // Every single split point.
        for cut in 0..=s.len() {
            assert_eq!(scan_in_pieces(s, &[cut]), whole, "cut at {cut}");
        }
        // Byte by byte.
        let all: Vec<usize> = (0..=s.len()).collect();
        assert_eq!(scan_in_pieces(s, &all), whole);
        // Random multi-cuts.
        for _ in 0..5 {
            let mut cuts: Vec<usize> = (0..4).map(|_| rng.below(s.len() + 1)).collect();
            cuts.sort_unstable();
            assert_eq!(scan_in_pieces(s, &cuts), whole);
        }
        if let Ok(Some(end)) = whole {
            let p = parse_complete(&s[..end], &lim()).map(|h| (h.head_len, h.headers.len()));
            assert_eq!(p.map(Some), parsed);
        }
    }
}

#[test]
fn never_panics_on_random_bytes() {
    let mut rng = Rng(12345);
    let alphabet = b"GET /HTP1.0\r\n :\t\0\x7f\xff,chunkedContent-Length";
    for _ in 0..20_000 {
        let len = rng.below(80);
        let s: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        let _ = parse_head(&s, &lim());
        let mut with_head = b"GET / HTTP/1.1\r\n".to_vec();
        with_head.extend_from_slice(&s);
        with_head.extend_from_slice(b"\r\n\r\n");
        let _ = parse_head(&with_head, &lim());
    }
}

#[test]
fn heads_with_more_fields_than_the_stack_array() {
    // Field storage is a 32-entry stack array first, a heap one for larger heads.
    let head = |n: usize| {
        let mut h = G.as_bytes().to_vec();
        for i in 0..n {
            h.extend_from_slice(format!("X-F{i}: v{i}\r\n").as_bytes());
        }
        h.extend_from_slice(b"\r\n");
        h
    };
    for n in [30, 31, 32, 33, 64, 99] {
        let h = parse(&head(n)).unwrap().unwrap();
        assert_eq!(h.headers.len(), n + 1);
        assert_eq!(
            h.header(format!("x-f{}", n - 1).as_bytes()),
            Some(format!("v{}", n - 1).as_bytes())
        );
    }
    assert_eq!(status(&head(100)), 431);
    let forty = HeadLimits { fields: 40, ..lim() };
    assert!(parse_head(&head(39), &forty).unwrap().is_some());
    assert_eq!(parse_head(&head(40), &forty).unwrap_err().status, 431);
    let few = HeadLimits { fields: 3, ..lim() };
    assert!(parse_head(&head(2), &few).unwrap().is_some());
    assert_eq!(parse_head(&head(3), &few).unwrap_err().status, 431);
}

#[test]
fn word_at_a_time_scans_match_the_bytewise_rules() {
    // Every byte value at every offset of a 17-byte target / value.
    for b in 0..=255u8 {
        for at in 0..17 {
            let mut t = vec![b'/'; 17];
            t[at] = b;
            let bad = !(0x21..=0x7e).contains(&b) || b == b'#';
            assert_eq!(bad_target(&t), bad, "target byte {b:#x} at {at}");
            let mut v = vec![b'v'; 17];
            v[at] = b;
            assert_eq!(
                has_ctl(&v),
                b < 0x20 && b != b'\t' || b == 0x7f,
                "value byte {b:#x} at {at}"
            );
            let mut l = vec![b'a'; 17];
            l[at] = b;
            let first = l.iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(17);
            assert_eq!(next_cr_or_lf(&l, 0), first, "line byte {b:#x} at {at}");
            assert_eq!(find_byte(&l, b' '), l.iter().position(|&c| c == b' '));
        }
    }
}
