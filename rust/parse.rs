//! Request-head parsing and body-framing decisions (pure Rust, no Python).
//!
//! Two stages. `HeadScanner` runs in the read loop over bytes as they arrive: it finds the
//! end of the head, refuses bare LF / bare CR early and enforces the length limits that
//! httparse does not (request line → 414, one field or the whole head → 431, field count →
//! 431). `parse_complete` then parses a complete head strictly: the request line by hand
//! (so `HTTP/2.0` can be told from garbage), the header fields with `httparse`, and the
//! framing rules (Content-Length, Transfer-Encoding, Host, Expect, Connection). Everything
//! ambiguous is refused with an `HttpError` carrying the status to answer; nothing is
//! repaired. Byte scans (line ends, spaces, forbidden bytes) test eight bytes at a time.
//! The chunked body decoder lives in `chunked.rs`.

use std::ops::Range;

/// Limits for one head (a subset of the Python `Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request line, without CRLF.
    pub request_line: usize,
    /// Longest header line, name and value, without CRLF.
    pub field_size: usize,
    /// Most header fields.
    pub fields: usize,
    /// Largest body in bytes; 0 means no limit.
    pub body: u64,
}

/// Test fixture (httpd's LimitRequest* defaults); the server's limits come from the config.
#[cfg(test)]
impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits { request_line: 8190, field_size: 8190, fields: 100, body: 0 }
    }
}

impl HeadLimits {
    /// Largest whole head: every field at its limit, but at most 64 KiB (or one request
    /// line plus one field when those limits alone are larger).
    pub fn max_head(&self) -> usize {
        let all = self
            .fields
            .saturating_mul(self.field_size.saturating_add(2))
            .saturating_add(self.request_line)
            .saturating_add(4);
        let floor =
            (64 * 1024).max(self.request_line.saturating_add(self.field_size).saturating_add(6));
        all.min(floor)
    }
}

/// A refusal: the status to answer (the connection is closed after it) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub msg: &'static str,
}

pub const fn err(status: u16, msg: &'static str) -> HttpError {
    HttpError { status, msg }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No Content-Length and no Transfer-Encoding: no body.
    None,
    Length(u64),
    Chunked,
}

/// A parsed, validated request head. Ranges index into `raw`.
#[derive(Debug, Clone)]
pub struct Head {
    pub raw: Vec<u8>,
    pub line: Range<usize>,
    pub method: Range<usize>,
    pub target: Range<usize>,
    /// 1000 or 1001 (HTTP/1.2 .. 1.9 are handled as 1.1).
    pub proto_num: u16,
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    pub framing: Framing,
    pub client_keepalive: bool,
    pub expect_continue: bool,
    /// Bytes consumed, leading empty lines and the final CRLF CRLF included.
    pub head_len: usize,
}

impl Head {
    pub fn bytes(&self, r: &Range<usize>) -> &[u8] {
        &self.raw[r.clone()]
    }
    /// Method, target and request line are ASCII (checked by the parser).
    pub fn ascii(&self, r: &Range<usize>) -> &str {
        std::str::from_utf8(self.bytes(r)).unwrap_or("")
    }
    pub fn method(&self) -> &str {
        self.ascii(&self.method)
    }
    pub fn target(&self) -> &str {
        self.ascii(&self.target)
    }
    pub fn request_line(&self) -> &str {
        self.ascii(&self.line)
    }
    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }
    /// First value of header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| self.raw[n.clone()].eq_ignore_ascii_case(name))
            .map(|(_, v)| &self.raw[v.clone()])
    }
}

/// At most this many empty lines (CRLF) are skipped before a request line (RFC 9112 §2.2).
const MAX_LEADING_CRLF: usize = 4;

/// Result of feeding the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Partial,
    /// The head ends at this offset (just after CRLF CRLF).
    Complete(usize),
}

/// Incremental head-boundary finder and limit checker; keeps its position between calls
/// so each byte is examined once.
#[derive(Debug, Clone, Default)]
pub struct HeadScanner {
    pos: usize,
    line_start: usize,
    lines: usize,
    leading: usize,
}

impl HeadScanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether any byte of a request has been seen (leading CRLFs count).
    pub fn started(&self) -> bool {
        self.pos > 0
    }

    /// Scan `buf` (the whole buffer so far, same start as in earlier calls).
    pub fn feed(&mut self, buf: &[u8], lim: &HeadLimits) -> Result<Scan, HttpError> {
        while self.pos < buf.len() {
            let i = self.pos;
            let b = buf[i];
            if b == b'\n' {
                if i == self.line_start || buf[i - 1] != b'\r' {
                    return Err(err(400, "bare LF in request head"));
                }
                let len = i - 1 - self.line_start;
                self.pos = i + 1;
                self.line_start = i + 1;
                if len == 0 {
                    if self.lines == 0 {
                        self.leading += 1;
                        if self.leading > MAX_LEADING_CRLF {
                            return Err(err(400, "too many empty lines before the request"));
                        }
                        continue;
                    }
                    if i + 1 > lim.max_head() + 2 * self.leading {
                        return Err(err(431, "request header section too large"));
                    }
                    return Ok(Scan::Complete(i + 1));
                }
                self.check_line(len, lim)?;
                self.lines += 1;
                if self.lines - 1 > lim.fields {
                    return Err(err(431, "too many header fields"));
                }
                continue;
            }
            if i > self.line_start && buf[i - 1] == b'\r' {
                return Err(err(400, "bare CR in request head"));
            }
            // After a byte other than CR, only the next CR or LF can end the line or be
            // refused: jump to it.
            self.pos = if b == b'\r' { i + 1 } else { next_cr_or_lf(buf, i + 1) };
        }
        let mut partial = buf.len() - self.line_start;
        if buf.last() == Some(&b'\r') && partial > 0 {
            partial -= 1;
        }
        self.check_line(partial, lim)?;
        if buf.len() > lim.max_head() + 2 * self.leading {
            return Err(err(431, "request header section too large"));
        }
        Ok(Scan::Partial)
    }

    fn check_line(&self, len: usize, lim: &HeadLimits) -> Result<(), HttpError> {
        if self.lines == 0 {
            if len > lim.request_line {
                return Err(err(414, "request line too long"));
            }
        } else if len > lim.field_size {
            return Err(err(431, "header field too long"));
        }
        Ok(())
    }
}

// Word-at-a-time byte tests (SWAR): exact answers to "is there such a byte in these 8".
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Some byte of `x` is zero.
#[inline]
fn has_zero(x: u64) -> bool {
    x.wrapping_sub(LO) & !x & HI != 0
}

/// Some byte of `x` equals `b`.
#[inline]
fn has_byte(x: u64, b: u8) -> bool {
    has_zero(x ^ (LO * u64::from(b)))
}

/// Some byte of `x` is below `n` (n <= 128).
#[inline]
fn has_less(x: u64, n: u8) -> bool {
    x.wrapping_sub(LO * u64::from(n)) & !x & HI != 0
}

/// Index of the first CR or LF in `buf` at or after `i` (`buf.len()` if none).
pub fn next_cr_or_lf(buf: &[u8], mut i: usize) -> usize {
    while i + 8 <= buf.len() {
        let x = word(buf, i);
        if has_byte(x, b'\r') || has_byte(x, b'\n') {
            break;
        }
        i += 8;
    }
    while i < buf.len() && buf[i] != b'\r' && buf[i] != b'\n' {
        i += 1;
    }
    i
}

/// Index of the first `b` in `hay`.
fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    let mut i = 0;
    while i + 8 <= hay.len() {
        if has_byte(word(hay, i), b) {
            break;
        }
        i += 8;
    }
    hay[i..].iter().position(|&c| c == b).map(|p| p + i)
}

/// A field value holds a control character other than HTAB, or DEL.
fn has_ctl(v: &[u8]) -> bool {
    let bad = |b: &u8| *b < 0x20 && *b != b'\t' || *b == 0x7f;
    let mut i = 0;
    while i + 8 <= v.len() {
        let x = word(v, i);
        if (has_less(x, 0x20) || has_byte(x, 0x7f)) && v[i..i + 8].iter().any(bad) {
            return true;
        }
        i += 8;
    }
    v[i..].iter().any(bad)
}

/// A request-target holds a byte outside VCHAR (CTL, SP, DEL, non-ASCII) or `#`.
fn bad_target(t: &[u8]) -> bool {
    let bad = |b: &u8| !(0x21..=0x7e).contains(b) || *b == b'#';
    let mut i = 0;
    while i + 8 <= t.len() {
        let x = word(t, i);
        if has_less(x, 0x21) || x & HI != 0 || has_byte(x, 0x7f) || has_byte(x, b'#') {
            return true;
        }
        i += 8;
    }
    t[i..].iter().any(bad)
}

/// tchar of RFC 9110 §5.6.2.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Methods the server knows; any other token is answered 501.
#[rustfmt::skip]
pub const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE",
    "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
];

fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |p| p + 1);
    &s[start..end]
}

/// Scan `buf` from the start and, when the head is complete, parse it.
/// `Ok(None)`: incomplete.
pub fn parse_head(buf: &[u8], lim: &HeadLimits) -> Result<Option<Head>, HttpError> {
    let mut sc = HeadScanner::new();
    match sc.feed(buf, lim)? {
        Scan::Partial => Ok(None),
        Scan::Complete(end) => parse_complete(&buf[..end], lim).map(Some),
    }
}

/// Parse a complete head (as delimited by `HeadScanner`: CRLF line endings checked, ends
/// with an empty line, may start with up to four empty lines).
pub fn parse_complete(buf: &[u8], lim: &HeadLimits) -> Result<Head, HttpError> {
    let mut start = 0;
    while buf[start..].starts_with(b"\r\n") {
        start += 2;
    }
    // The scanner saw every CR followed by LF: the first CR ends the request line.
    let line_end = next_cr_or_lf(buf, start);
    if line_end + 1 >= buf.len() || buf[line_end] != b'\r' || buf[line_end + 1] != b'\n' {
        return Err(err(400, "no request line"));
    }
    let line = start..line_end;
    let (method, target, proto_num) = parse_request_line(buf, line.clone())?;

    let fields_at = line.end + 2;
    // Most heads have a few dozen fields: parse into a stack array first, and only a head
    // with more (allowed by LimitRequestFields) into a heap one.
    let mut small = [httparse::EMPTY_HEADER; 32];
    let headers = match parse_fields(buf, fields_at, &mut small[..lim.fields.min(32)]) {
        Err(e) if e.status == 431 && lim.fields > 32 => {
            let mut big = vec![httparse::EMPTY_HEADER; lim.fields];
            parse_fields(buf, fields_at, &mut big)?
        }
        r => r?,
    };

    let mut head = Head {
        raw: buf.to_vec(),
        line,
        method,
        target,
        proto_num,
        headers,
        framing: Framing::None,
        client_keepalive: false,
        expect_continue: false,
        head_len: buf.len(),
    };
    apply_semantics(&mut head, lim)?;
    Ok(head)
}

/// The header fields of a complete head (from `at`) as ranges into `buf`, validated.
#[allow(clippy::type_complexity)]
fn parse_fields<'a>(
    buf: &'a [u8],
    at: usize,
    storage: &mut [httparse::Header<'a>],
) -> Result<Vec<(Range<usize>, Range<usize>)>, HttpError> {
    let parsed = match httparse::parse_headers(&buf[at..], storage) {
        Ok(httparse::Status::Complete((_, hs))) => hs,
        Ok(httparse::Status::Partial) => return Err(err(400, "malformed header section")),
        Err(httparse::Error::TooManyHeaders) => return Err(err(431, "too many header fields")),
        Err(_) => return Err(err(400, "malformed header field")),
    };
    let base = buf.as_ptr() as usize;
    let mut headers = Vec::with_capacity(parsed.len());
    for h in parsed.iter() {
        let n0 = h.name.as_ptr() as usize - base;
        let v0 = h.value.as_ptr() as usize - base;
        let name = n0..n0 + h.name.len();
        if !is_token(&buf[name.clone()]) {
            return Err(err(400, "invalid header name"));
        }
        let v = trim_ows(h.value);
        let vs = v0 + (v.as_ptr() as usize - h.value.as_ptr() as usize);
        if has_ctl(v) {
            return Err(err(400, "control character in header value"));
        }
        headers.push((name, vs..vs + v.len()));
    }
    Ok(headers)
}

fn parse_request_line(
    buf: &[u8],
    line: Range<usize>,
) -> Result<(Range<usize>, Range<usize>, u16), HttpError> {
    let l = &buf[line.clone()];
    let sp1 = find_byte(l, b' ').ok_or(err(400, "malformed request line"))?;
    let rest = &l[sp1 + 1..];
    let sp2 = find_byte(rest, b' ').ok_or(err(400, "malformed request line"))?;
    let m = &l[..sp1];
    let t = &rest[..sp2];
    let v = &rest[sp2 + 1..];
    if !is_token(m) {
        return Err(err(400, "invalid method"));
    }
    if t.is_empty() || bad_target(t) {
        return Err(err(400, "invalid request target"));
    }
    let well_formed = v.len() == 8
        && v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit();
    if !well_formed {
        return Err(err(400, "invalid HTTP version"));
    }
    if v[5] != b'1' {
        return Err(err(505, "HTTP version not supported"));
    }
    // HTTP/1.2 .. HTTP/1.9 are served as HTTP/1.1 (RFC 9110 §2.5, highest minor we know).
    let proto_num = if v[7] == b'0' { 1000 } else { 1001 };
    let ms = std::str::from_utf8(m).unwrap_or("");
    if !KNOWN_METHODS.contains(&ms) {
        return Err(err(501, "method not implemented"));
    }
    if ms == "CONNECT" {
        return Err(err(501, "CONNECT not supported (not a proxy)"));
    }
    if t[0] == b'/' {
        // origin-form
    } else if t == b"*" {
        if ms != "OPTIONS" {
            return Err(err(400, "asterisk-form is only for OPTIONS"));
        }
    } else if !valid_absolute_form(t) {
        return Err(err(400, "invalid request target form"));
    }
    let m0 = line.start;
    let t0 = m0 + sp1 + 1;
    Ok((m0..m0 + sp1, t0..t0 + sp2, proto_num))
}

/// `http://authority[/path][?query]` (or https), authority without userinfo.
fn valid_absolute_form(t: &[u8]) -> bool {
    let rest = if t.len() > 7 && t[..7].eq_ignore_ascii_case(b"http://") {
        &t[7..]
    } else if t.len() > 8 && t[..8].eq_ignore_ascii_case(b"https://") {
        &t[8..]
    } else {
        return false;
    };
    let end = rest.iter().position(|&b| b == b'/' || b == b'?').unwrap_or(rest.len());
    end > 0 && valid_authority(&rest[..end])
}

/// host [":" port]: a bracketed IPv6 literal, a dotted-quad IPv4 address or a host name
/// (letters, digits, '-', '_', '.'; an optional trailing dot). As in Apache's strict mode,
/// a name whose last label is numeric must be a proper dotted quad, so `0x7f.1`,
/// `017700000001` and `127.01.0.1` are refused, as are userinfo, '%', spaces, backslashes
/// and stray colons.
pub fn valid_authority(a: &[u8]) -> bool {
    let (host_ok, rest) = if a.first() == Some(&b'[') {
        match a.iter().position(|&b| b == b']') {
            Some(close) => {
                let inner = &a[1..close];
                let ok = std::str::from_utf8(inner)
                    .is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok());
                (ok, &a[close + 1..])
            }
            None => (false, &a[..0]),
        }
    } else {
        let end = a.iter().position(|&b| b == b':').unwrap_or(a.len());
        (valid_host_name(&a[..end]), &a[end..])
    };
    if !host_ok {
        return false;
    }
    match rest.split_first() {
        None => true,
        Some((b':', port)) => port.len() <= 5 && port.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

fn valid_host_name(h: &[u8]) -> bool {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() {
        return false;
    }
    let mut labels = h.split(|&b| b == b'.');
    let ok = labels.all(|l| {
        !l.is_empty() && l.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let numeric_last =
        h.rsplit(|&b| b == b'.').next().is_some_and(|l| l.iter().all(u8::is_ascii_digit));
    ok && (!numeric_last || valid_ipv4(h))
}

fn valid_ipv4(h: &[u8]) -> bool {
    let parts: Vec<&[u8]> = h.split(|&b| b == b'.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && !(p.len() > 1 && p[0] == b'0')
                && parse_decimal(p).is_some_and(|v| v <= 255)
        })
}

/// ASCII decimal digits only, no sign, no spaces; overflow refused.
pub fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// Fields whose grammar allows one value only (RFC 9110 §5.3): sent twice, a request is
/// ambiguous (which Content-Type, which credentials?) and is refused rather than guessed.
const SINGLETON_FIELDS: [&[u8]; 10] = [
    b"content-type",
    b"content-range",
    b"content-location",
    b"authorization",
    b"proxy-authorization",
    b"if-modified-since",
    b"if-unmodified-since",
    b"if-range",
    b"range",
    b"max-forwards",
];

fn singleton_bit(name: &[u8]) -> Option<u32> {
    SINGLETON_FIELDS.iter().position(|f| name.eq_ignore_ascii_case(f)).map(|i| 1 << i)
}

fn apply_semantics(head: &mut Head, lim: &HeadLimits) -> Result<(), HttpError> {
    let http11 = head.proto_num == 1001;
    let mut cl: Option<u64> = None;
    let mut cl_count = 0;
    let mut te_seen = false;
    let mut codings: Vec<&[u8]> = Vec::new();
    let mut host_count = 0;
    let mut conn_close = false;
    let mut conn_keepalive = false;
    let mut expect = false;
    let mut singletons_seen = 0u32;
    for (n, v) in &head.headers {
        let name = &head.raw[n.clone()];
        let value = &head.raw[v.clone()];
        if name.eq_ignore_ascii_case(b"content-length") {
            cl_count += 1;
            if cl_count > 1 {
                return Err(err(400, "duplicate Content-Length"));
            }
            cl = Some(parse_decimal(value).ok_or(err(400, "invalid Content-Length"))?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            te_seen = true;
            // Empty list elements are ignored (RFC 9110 §5.6.1.2): ",chunked" is "chunked".
            for item in value.split(|&b| b == b',').map(trim_ows).filter(|i| !i.is_empty()) {
                if !is_token(item) {
                    return Err(err(400, "malformed Transfer-Encoding"));
                }
                codings.push(item);
            }
        } else if name.eq_ignore_ascii_case(b"host") {
            host_count += 1;
            if host_count > 1 {
                return Err(err(400, "duplicate Host"));
            }
            if !value.is_empty() && !valid_authority(value) {
                return Err(err(400, "invalid Host"));
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            for item in value.split(|&b| b == b',') {
                let item = trim_ows(item);
                conn_close |= item.eq_ignore_ascii_case(b"close");
                conn_keepalive |= item.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"expect") && http11 {
            let mut items = value.split(|&b| b == b',').map(trim_ows).filter(|i| !i.is_empty());
            if !items.all(|i| i.eq_ignore_ascii_case(b"100-continue")) {
                return Err(err(417, "unsupported expectation"));
            }
            expect = true;
        } else if let Some(bit) = singleton_bit(name) {
            if singletons_seen & bit != 0 {
                return Err(err(400, "duplicate singleton header field"));
            }
            singletons_seen |= bit;
        }
    }
    if http11 && host_count == 0 {
        return Err(err(400, "missing Host"));
    }
    head.framing = if te_seen {
        if codings.is_empty() {
            return Err(err(400, "empty Transfer-Encoding"));
        }
        let chunked = codings.iter().filter(|c| c.eq_ignore_ascii_case(b"chunked")).count();
        let last_chunked = codings.last().is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
        if chunked > 1 || (chunked == 1 && !last_chunked) {
            return Err(err(400, "chunked must be the final transfer coding, once"));
        }
        if codings.len() > 1 || !last_chunked {
            return Err(err(501, "transfer coding not implemented"));
        }
        if cl.is_some() {
            return Err(err(400, "both Transfer-Encoding and Content-Length"));
        }
        if !http11 {
            return Err(err(400, "Transfer-Encoding in an HTTP/1.0 request"));
        }
        Framing::Chunked
    } else if let Some(n) = cl {
        if lim.body > 0 && n > lim.body {
            return Err(err(413, "request body too large"));
        }
        Framing::Length(n)
    } else {
        Framing::None
    };
    head.client_keepalive = if http11 { !conn_close } else { conn_keepalive && !conn_close };
    head.expect_continue = expect;
    Ok(())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
