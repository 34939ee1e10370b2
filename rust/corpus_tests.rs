//! The request corpus of `tests/vectors` (written by `make_vectors.py`, the expectations in
//! `expected.json`) through the pure-Rust parser and chunked decoder: the same verdicts the
//! Python corpus test (`tests/http/test_parser_corpus.py`) checks through `_core`. Valid
//! vectors are also fed to the incremental scanner and decoder split at every byte.
//! `expected.json` is read with the small JSON reader below (no serde dependency).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::chunked::{decode_chunked_all, ChunkedDecoder};
use crate::parse::{parse_head, Framing, Head, HeadLimits, HeadScanner, Scan};

// -- a small JSON reader (objects, arrays, strings with escapes, integers, literals) ------

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
    pub fn opt_u64(&self) -> Option<u64> {
        match self {
            Json::Num(n) => Some(*n as u64),
            Json::Null => None,
            other => panic!("not a number: {other:?}"),
        }
    }
    pub fn u64(&self) -> u64 {
        self.opt_u64().expect("a number")
    }
    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            other => panic!("not a bool: {other:?}"),
        }
    }
    pub fn bool_or(&self, default: bool) -> bool {
        match self {
            Json::Bool(b) => *b,
            _ => default,
        }
    }
    pub fn is(&self, s: &str) -> bool {
        matches!(self, Json::Str(t) if t == s)
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }
}

pub fn parse_json(text: &str) -> Json {
    let mut p = JsonReader { s: text.as_bytes(), i: 0 };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing bytes in JSON");
    v
}

struct JsonReader<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonReader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
            self.i += 1;
        }
    }
    fn eat(&mut self, b: u8) {
        self.ws();
        assert_eq!(self.s.get(self.i), Some(&b), "expected {:?} at {}", b as char, self.i);
        self.i += 1;
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    m.insert(k, self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b'}' => return Json::Obj(m),
                        c => panic!("bad object separator {:?}", c as char),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b']' => return Json::Arr(v),
                        c => panic!("bad array separator {:?}", c as char),
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'n' => self.literal("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII");
                Json::Num(t.parse().unwrap_or_else(|_| panic!("bad number {t:?}")))
            }
        }
    }
    fn literal(&mut self, word: &str, v: Json) -> Json {
        assert!(self.s[self.i..].starts_with(word.as_bytes()));
        self.i += word.len();
        v
    }
    fn hex4(&mut self) -> u32 {
        let t = std::str::from_utf8(&self.s[self.i..self.i + 4]).expect("ASCII");
        self.i += 4;
        u32::from_str_radix(t, 16).expect("\\u escape")
    }
    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e as char),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4();
                            if (0xd800..0xdc00).contains(&cp)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4();
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            out.push(char::from_u32(cp).expect("a scalar value"));
                        }
                        _ => panic!("bad escape"),
                    }
                }
                _ => {
                    // Copy a whole UTF-8 sequence.
                    let start = self.i - 1;
                    let len = match c {
                        0..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    self.i = start + len;
                    out.push_str(std::str::from_utf8(&self.s[start..self.i]).expect("UTF-8"));
                }
            }
        }
    }
}

#[test]
fn json_reader() {
    let v = parse_json(
        r#"{"a": [1, -2, 3.5e1, null, true, false], "b": "x\"\\\u00e9\ud83d\ude00\n", "c": {}}"#,
    );
    assert_eq!(v.get("a").arr()[2], Json::Num(35.0));
    assert_eq!(v.get("b").str(), "x\"\\é😀\n");
    assert_eq!(v.get("c"), &Json::Obj(BTreeMap::new()));
    assert_eq!(v.get("missing"), &Json::Null);
}

// -- the corpus ------------------------------------------------------------------------------

pub struct Vector {
    pub id: String,
    pub raw: Vec<u8>,
    pub meta: Json,
}

pub struct Corpus {
    pub limits: HeadLimits,
    pub canary: String,
    pub vectors: Vec<Vector>,
}

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("vectors")
}

pub fn load_corpus() -> Corpus {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let m = parse_json(&text);
    let l = m.get("limits");
    let limits = HeadLimits {
        request_line: l.get("request_line").u64() as usize,
        field_size: l.get("field_size").u64() as usize,
        fields: l.get("fields").u64() as usize,
        body: l.get("body").u64(),
    };
    let vectors = m
        .get("vectors")
        .arr()
        .iter()
        .map(|v| Vector {
            id: v.get("id").str().to_string(),
            raw: std::fs::read(dir.join(v.get("file").str())).expect("vector file"),
            meta: v.clone(),
        })
        .collect();
    Corpus { limits, canary: m.get("canary").str().to_string(), vectors }
}

/// What the parser and decoder decide about the first request in `raw` (as
/// `vectorlib.rust_outcome` does in Python).
#[derive(Debug)]
pub enum Outcome {
    Accepted { head: Box<Head>, body: Vec<u8>, consumed: usize },
    Refused { status: u16, stage: &'static str, head_len: Option<usize> },
    Incomplete,
}

pub fn outcome(raw: &[u8], lim: &HeadLimits) -> Outcome {
    let head = match parse_head(raw, lim) {
        Err(e) => return Outcome::Refused { status: e.status, stage: "head", head_len: None },
        Ok(None) => return Outcome::Incomplete,
        Ok(Some(h)) => h,
    };
    let rest = &raw[head.head_len..];
    let (body, used) = match head.framing {
        Framing::Chunked => match decode_chunked_all(rest, lim.body) {
            Ok(x) => x,
            Err(e) => {
                return Outcome::Refused {
                    status: e.status,
                    stage: "body",
                    head_len: Some(head.head_len),
                }
            }
        },
        Framing::Length(n) => {
            let n = n as usize;
            if rest.len() < n {
                return Outcome::Incomplete;
            }
            (rest[..n].to_vec(), n)
        }
        Framing::None => (Vec::new(), 0),
    };
    let consumed = head.head_len + used;
    Outcome::Accepted { head: Box::new(head), body, consumed }
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(u32::from(c)).expect("latin-1")).collect()
}

fn check_valid(c: &Corpus, v: &Vector) -> Result<(), String> {
    let m = &v.meta;
    let Outcome::Accepted { head, body, consumed } = outcome(&v.raw, &c.limits) else {
        return Err(format!("not accepted: {:?}", outcome(&v.raw, &c.limits)));
    };
    let proto = if m.get("version").str() == "HTTP/1.0" { 1000 } else { 1001 };
    let headers: Vec<(Vec<u8>, Vec<u8>)> = head
        .headers
        .iter()
        .map(|(n, v)| (head.bytes(n).to_vec(), head.bytes(v).to_vec()))
        .collect();
    let want_headers: Vec<(Vec<u8>, Vec<u8>)> = m
        .get("headers")
        .arr()
        .iter()
        .map(|p| (latin1(p.arr()[0].str()), latin1(p.arr()[1].str())))
        .collect();
    let checks: [(&str, bool); 11] = [
        ("method", head.method() == m.get("method").str()),
        ("target", head.target() == m.get("target").str()),
        ("version", head.proto_num == proto),
        ("head_len", head.head_len as u64 == m.get("head_len").u64()),
        ("header_count", headers.len() as u64 == m.get("header_count").u64()),
        ("headers", headers == want_headers),
        ("content_length", head.content_length() == m.get("content_length").opt_u64()),
        ("chunked", (head.framing == Framing::Chunked) == m.get("chunked").bool()),
        ("keepalive", head.client_keepalive == m.get("keepalive").bool()),
        ("expect_continue", head.expect_continue == m.get("expect_continue").bool()),
        ("body", body == latin1(m.get("body").str())),
    ];
    if let Some((what, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(format!("{what} differs: {head:?}"));
    }
    // Pipelined requests after it are complete, valid requests of their own.
    let mut rest = &v.raw[consumed..];
    for i in 0..m.get("extra_requests").u64() {
        match outcome(rest, &c.limits) {
            Outcome::Accepted { consumed, .. } => rest = &rest[consumed..],
            other => return Err(format!("extra request {i}: {other:?}")),
        }
    }
    if !m.get("must_close").bool() && rest.iter().any(|&b| b != b'\r' && b != b'\n') {
        return Err("bytes left over after the last request".into());
    }
    // Split at every byte: the scanner says Partial until the head's last byte.
    let hl = head.head_len;
    let mut sc = HeadScanner::new();
    for cut in 0..=v.raw.len().min(hl + 1) {
        let r = sc.feed(&v.raw[..cut], &c.limits).map_err(|e| format!("prefix {cut}: {e:?}"))?;
        let want = if cut < hl { Scan::Partial } else { Scan::Complete(hl) };
        if r != want {
            return Err(format!("scanner at {cut}: {r:?}"));
        }
        if cut >= hl {
            break;
        }
    }
    if head.framing == Framing::Chunked {
        let body_bytes = &v.raw[hl..];
        for cut in 0..=body_bytes.len() {
            let mut d = ChunkedDecoder::new(c.limits.body);
            let mut out = Vec::new();
            let n1 =
                d.decode(&body_bytes[..cut], &mut out, usize::MAX).map_err(|e| format!("{e:?}"))?;
            let n2 =
                d.decode(&body_bytes[n1..], &mut out, usize::MAX).map_err(|e| format!("{e:?}"))?;
            if !d.is_done() || out != body || hl + n1 + n2 != consumed {
                return Err(format!("chunked body split at {cut} decodes differently"));
            }
        }
    }
    Ok(())
}

fn check_refused(c: &Corpus, v: &Vector) -> Result<(), String> {
    let m = &v.meta;
    let want_status = m.get("status").u64() as u16;
    let want_stage = m.get("stage").str();
    let got = outcome(&v.raw, &c.limits);
    let Outcome::Refused { status, stage, head_len } = got else {
        return Err(format!("not refused: {got:?}"));
    };
    if (status, stage) != (want_status, want_stage) {
        return Err(format!("refused with {status} at {stage}"));
    }
    if stage == "body" && head_len.map(|h| h as u64) != m.get("head_len").opt_u64() {
        return Err(format!("head_len {head_len:?}"));
    }
    // What follows on the connection never changes the verdict.
    let mut with_canary = v.raw.clone();
    with_canary.extend_from_slice(c.canary.replace("{id}", &v.id).as_bytes());
    match outcome(&with_canary, &c.limits) {
        Outcome::Refused { status: s, stage: st, .. } if (s, st) == (status, stage) => Ok(()),
        other => Err(format!("with the canary: {other:?}")),
    }
}

#[test]
fn every_vector_gets_its_expected_verdict() {
    let c = load_corpus();
    assert!(c.vectors.len() >= 100, "corpus too small");
    let valid = c.vectors.iter().filter(|v| v.meta.get("status").u64() == 200).count();
    assert!(valid > 50 && c.vectors.len() - valid > 100, "{valid} valid of {}", c.vectors.len());
    let mut failures = Vec::new();
    for v in &c.vectors {
        let r = if v.meta.get("status").u64() == 200 {
            check_valid(&c, v)
        } else {
            check_refused(&c, v)
        };
        if let Err(e) = r {
            failures.push(format!("{}: {e}", v.id));
        }
    }
    assert!(failures.is_empty(), "{} vectors:\n{}", failures.len(), failures.join("\n"));
}

/// Realistic heads, as in bench/parser_bench.py: a browser navigation, curl, an API POST.
pub const REALISTIC_HEADS: [&[u8]; 3] = [
    b"GET /articles/2026/11/http-parsing?page=2&sort=new HTTP/1.1\r\n\
Host: www.example.org\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Upgrade-Insecure-Requests: 1\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-User: ?1\r\n\
Sec-Fetch-Dest: document\r\n\
Referer: https://www.example.org/articles/2026/11/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n\
Cookie: session=3f9a0c1e7b2d4e6f8a0b1c2d3e4f5a6b; theme=dark; consent=1\r\n\
\r\n",
    b"GET /mywebdir/myscript.py HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    b"POST /api/v1/orders HTTP/1.1\r\n\
Host: api.example.org\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dGVzdHNpZ25hdHVyZQ\r\n\
Content-Type: application/json\r\n\
Content-Length: 348\r\n\
Accept: application/json\r\n\
X-Request-Id: 0b5e2f0c-8a41-4c1e-9b1f-5d7c2a9e3f11\r\n\
\r\n",
];

/// The head parser alone, no Python: ns per head over the valid corpus heads and the
/// realistic ones. `cargo test --release --lib bench_parse_heads -- --ignored --nocapture`
#[test]
#[ignore = "a timing, not a test: run with --ignored --release"]
fn bench_parse_heads() {
    use std::hint::black_box;
    use std::time::Instant;
    let c = load_corpus();
    let corpus: Vec<Vec<u8>> = c
        .vectors
        .iter()
        .filter(|v| v.meta.get("status").u64() == 200)
        .map(|v| v.raw[..v.meta.get("head_len").u64() as usize].to_vec())
        .collect();
    let realistic: Vec<Vec<u8>> = REALISTIC_HEADS.iter().map(|h| h.to_vec()).collect();
    let lim = HeadLimits::default();
    for (label, heads) in [("corpus", &corpus), ("realistic", &realistic)] {
        let mean = heads.iter().map(Vec::len).sum::<usize>() / heads.len();
        let loops = 200_000 / heads.len();
        let mut best = [f64::MAX; 2];
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..loops {
                for h in heads {
                    black_box(HeadScanner::new().feed(black_box(h), &lim).ok());
                }
            }
            best[0] = best[0].min(t.elapsed().as_nanos() as f64 / (loops * heads.len()) as f64);
            let t = Instant::now();
            for _ in 0..loops {
                for h in heads {
                    black_box(parse_head(black_box(h), &lim).ok());
                }
            }
            best[1] = best[1].min(t.elapsed().as_nanos() as f64 / (loops * heads.len()) as f64);
        }
        println!(
            "{label} ({} heads, {mean} B avg): scanner {:.0} ns/head, scanner+parser {:.0} ns/head",
            heads.len(),
            best[0],
            best[1]
        );
    }
}
