//! Property fuzzing of the head scanner/parser and the chunked decoder, in `cargo test`:
//! random bytes, random mutations of the corpus vectors (`tests/vectors`) and splices of
//! them, fed whole and split at random points. Properties: nothing panics; feeding the
//! scanner and the decoder in pieces (and the decoder with small output budgets) decides
//! exactly what feeding them whole decides; an accepted head re-serialised in canonical
//! form parses to the same request; an accepted chunked body re-encoded decodes to itself.
//!
//! Bounded by default (a second or two); `FUZZ_ITERS=n` (inputs per property) and
//! `FUZZ_SEED=s` run it longer or elsewhere: `bench/fuzz.sh`. A failure prints the seed and
//! the input.

use crate::chunked::ChunkedDecoder;
use crate::corpus_tests::load_corpus;
use crate::parse::{parse_head, HeadLimits, HeadScanner, Scan};

/// splitmix64: small, fast, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn iterations() -> usize {
    env_u64("FUZZ_ITERS", 20_000) as usize
}

fn seed() -> u64 {
    env_u64("FUZZ_SEED", 0x5eed_2026)
}

/// Bytes that matter to the grammar, for insertions and replacements.
const INTERESTING: &[u8] = b"\r\n\0 \t:;,=\"\\/?#%*-_.0123456789aAfFzZ\x7f\x80\xff\x0b\x0c";

fn mutate(rng: &mut Rng, input: &[u8], others: &[&[u8]]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if at < v.len() => {
                v.remove(at);
            }
            3 if at < v.len() => v[at] = INTERESTING[rng.below(INTERESTING.len())],
            4 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(16)).min(v.len());
                let piece = v[start..end].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, piece);
            }
            5 => v.truncate(at),
            6 if !others.is_empty() => {
                let o = others[rng.below(others.len())];
                let from = rng.below(o.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&o[from..]);
            }
            7 => {
                let digits = format!("{:x}", rng.next() >> rng.below(64));
                v.splice(at..at, digits.bytes());
            }
            _ => {
                v.splice(at..at, b"\r\n".iter().copied());
            }
        }
    }
    v
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(200);
    (0..n)
        .map(|_| {
            if rng.chance(2) {
                INTERESTING[rng.below(INTERESTING.len())]
            } else {
                rng.next() as u8
            }
        })
        .collect()
}

/// A random valid chunked body: chunks of random sizes, extensions, trailers.
fn valid_chunked(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(5) {
        let max = if rng.chance(8) { 5000 } else { 20 };
        let n = 1 + rng.below(max);
        let size = if rng.chance(6) { format!("{n:04X}") } else { format!("{n:x}") };
        out.extend_from_slice(size.as_bytes());
        match rng.below(6) {
            0 => out.extend_from_slice(b";a=b"),
            1 => out.extend_from_slice(b" ; q=\"x \\\" y\" ;flag"),
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        out.extend((0..n).map(|_| rng.next() as u8));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    if rng.chance(3) {
        out.extend_from_slice(b"X-Trailer: v\tw\r\nContent-Length: 5\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if rng.chance(3) {
        out.extend_from_slice(b"GET / HTTP/1.1\r\n");
    }
    out
}

/// Ascending random cut points in 0..=len, len last.
fn cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (0..rng.below(5)).map(|_| rng.below(len + 1)).collect();
    c.push(len);
    c.sort_unstable();
    c
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Partial,
    Complete(usize),
    Refused,
}

fn scan_whole(buf: &[u8], lim: &HeadLimits) -> Verdict {
    match HeadScanner::new().feed(buf, lim) {
        Ok(Scan::Partial) => Verdict::Partial,
        Ok(Scan::Complete(n)) => Verdict::Complete(n),
        Err(_) => Verdict::Refused,
    }
}

/// The scanner as the engine runs it: over a growing buffer, stopping at the first answer.
fn scan_split(buf: &[u8], lim: &HeadLimits, cuts: &[usize]) -> Verdict {
    let mut sc = HeadScanner::new();
    for &c in cuts {
        match sc.feed(&buf[..c], lim) {
            Ok(Scan::Partial) => continue,
            Ok(Scan::Complete(n)) => return Verdict::Complete(n),
            Err(_) => return Verdict::Refused,
        }
    }
    Verdict::Partial
}

/// The request line and fields in canonical form: no leading empty lines, `name: value`.
fn reserialise(h: &crate::parse::Head) -> Vec<u8> {
    let mut out = h.request_line().as_bytes().to_vec();
    out.extend_from_slice(b"\r\n");
    for (n, v) in &h.headers {
        out.extend_from_slice(h.bytes(n));
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.bytes(v));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn check_head(input: &[u8], lim: &HeadLimits, rng: &mut Rng) -> Result<bool, String> {
    let whole = scan_whole(input, lim);
    let split = scan_split(input, lim, &cuts(rng, input.len()));
    // A refusal found early is a refusal of the whole; otherwise both agree exactly.
    if split != whole && !(split == Verdict::Refused && whole == Verdict::Refused) {
        return Err(format!("scanner whole {whole:?} vs split {split:?}"));
    }
    let Ok(Some(head)) = parse_head(input, lim) else {
        return Ok(false);
    };
    if whole != Verdict::Complete(head.head_len) {
        return Err(format!("parse_head accepted {} bytes, scanner says {whole:?}", head.head_len));
    }
    let canon = reserialise(&head);
    // `name: value` may be one byte longer than the `name:value` that was sent.
    let roomier = HeadLimits { field_size: lim.field_size + 1, ..*lim };
    let again = match parse_head(&canon, &roomier) {
        Ok(Some(h)) => h,
        other => return Err(format!("canonical form {:?} not accepted: {other:?}", bstr(&canon))),
    };
    let fields = |h: &crate::parse::Head| -> Vec<(Vec<u8>, Vec<u8>)> {
        h.headers.iter().map(|(n, v)| (h.bytes(n).to_vec(), h.bytes(v).to_vec())).collect()
    };
    let same = again.method() == head.method()
        && again.target() == head.target()
        && again.proto_num == head.proto_num
        && fields(&again) == fields(&head)
        && again.framing == head.framing
        && again.client_keepalive == head.client_keepalive
        && again.expect_continue == head.expect_continue
        && again.head_len == canon.len()
        && reserialise(&again) == canon;
    if !same {
        return Err(format!("canonical form parses differently: {:?}", bstr(&canon)));
    }
    Ok(true)
}

#[derive(Debug, PartialEq, Eq)]
enum Decoded {
    Done { body: Vec<u8>, used: usize },
    NeedMore { body: Vec<u8> },
    Refused(u16),
}

fn decode_whole(input: &[u8], limit: u64) -> Decoded {
    let mut d = ChunkedDecoder::new(limit);
    let mut out = Vec::new();
    match d.decode(input, &mut out, usize::MAX) {
        Err(e) => Decoded::Refused(e.status),
        Ok(used) if d.is_done() => Decoded::Done { body: out, used },
        Ok(_) => Decoded::NeedMore { body: out },
    }
}

/// As the request reads it: pieces of input as they arrive, small output budgets.
fn decode_split(input: &[u8], limit: u64, rng: &mut Rng) -> Decoded {
    let mut d = ChunkedDecoder::new(limit);
    let mut out = Vec::new();
    let mut pos = 0;
    for c in cuts(rng, input.len()) {
        // The caller keeps unconsumed bytes and offers them again with the next arrival.
        loop {
            let budget = if rng.chance(2) { usize::MAX } else { 1 + rng.below(64) };
            let before = (pos, out.len());
            match d.decode(&input[pos..c], &mut out, budget) {
                Err(e) => return Decoded::Refused(e.status),
                Ok(n) => pos += n,
            }
            if d.is_done() {
                return Decoded::Done { body: out, used: pos };
            }
            if (pos, out.len()) == before || pos == c {
                break;
            }
        }
    }
    Decoded::NeedMore { body: out }
}

fn check_chunked(input: &[u8], limit: u64, rng: &mut Rng) -> Result<bool, String> {
    let whole = decode_whole(input, limit);
    let split = decode_split(input, limit, rng);
    if whole != split {
        return Err(format!("decoder whole {whole:?} vs split {split:?}"));
    }
    let Decoded::Done { body, .. } = whole else { return Ok(false) };
    let mut again = format!("{:x}\r\n", body.len()).into_bytes();
    again.extend_from_slice(&body);
    again.extend_from_slice(b"\r\n0\r\n\r\n");
    if body.is_empty() {
        again = b"0\r\n\r\n".to_vec();
    }
    match decode_whole(&again, limit) {
        Decoded::Done { body: b, used } if b == body && used == again.len() => Ok(true),
        other => Err(format!("re-encoded body decodes as {other:?}")),
    }
}

fn bstr(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

#[test]
fn fuzz_head_scanner_and_parser() {
    let corpus = load_corpus();
    let lim = corpus.limits;
    let small = HeadLimits { request_line: 40, field_size: 40, fields: 4, body: 100 };
    let seeds: Vec<&[u8]> = corpus.vectors.iter().map(|v| &v.raw[..]).collect();
    let mut rng = Rng(seed());
    let mut accepted = 0;
    for i in 0..iterations() {
        let input = if rng.chance(8) {
            random_bytes(&mut rng)
        } else {
            let pick = seeds[rng.below(seeds.len())];
            mutate(&mut rng, pick, &seeds)
        };
        let l = if rng.chance(4) { &small } else { &lim };
        match check_head(&input, l, &mut rng) {
            Ok(ok) => accepted += usize::from(ok),
            Err(e) => panic!("seed {} input {i}: {e}\ninput: {:?}", seed(), bstr(&input)),
        }
    }
    // The mutations must reach the accepting paths too, not only refusals.
    assert!(accepted * 20 > iterations(), "only {accepted} accepted");
}

#[test]
fn fuzz_chunked_decoder() {
    let corpus = load_corpus();
    // The bodies of the corpus's chunked vectors (valid and refused), as seeds.
    let bodies: Vec<Vec<u8>> = corpus
        .vectors
        .iter()
        .filter(|v| v.meta.get("chunked").bool_or(false) || v.meta.get("stage").is("body"))
        .filter_map(|v| v.meta.get("head_len").opt_u64().map(|h| v.raw[h as usize..].to_vec()))
        .collect();
    assert!(bodies.len() > 30, "{} chunked seeds", bodies.len());
    let seeds: Vec<&[u8]> = bodies.iter().map(|b| &b[..]).collect();
    let mut rng = Rng(seed() ^ 0xc4a2);
    let mut done = 0;
    for i in 0..iterations() {
        let input = match rng.below(8) {
            0 => random_bytes(&mut rng),
            1 | 2 => valid_chunked(&mut rng),
            3 | 4 => {
                let base = valid_chunked(&mut rng);
                mutate(&mut rng, &base, &seeds)
            }
            _ => {
                let pick = seeds[rng.below(seeds.len())];
                mutate(&mut rng, pick, &seeds)
            }
        };
        let limit = if rng.chance(8) { rng.below(64) as u64 } else { corpus.limits.body };
        match check_chunked(&input, limit, &mut rng) {
            Ok(ok) => done += usize::from(ok),
            Err(e) => panic!("seed {} input {i}: {e}\ninput: {:?}", seed(), bstr(&input)),
        }
    }
    assert!(done * 5 > iterations(), "only {done} decoded");
}

// -- the connection state machine over a pipelined stream --------------------------------

use crate::body::Body;
use crate::conn::{Action, Conn, ConnLimits, Phase};
use crate::parse::Framing;

#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// method, target, fields, framing
    Request(String, String, usize, Framing),
    Refused,
    BodyRefused,
    Closed,
}

/// Run a `Conn` over `stream` arriving in pieces ending at `cuts`, as the engine and a
/// handler that reads every body would: the events in order. Refusal statuses are not
/// compared (an early refusal may see fewer bytes than a late one, both refuse).
fn drive(stream: &[u8], cuts: &[usize], lim: &ConnLimits) -> Vec<Event> {
    let mut fds = [0; 2];
    // SAFETY: plain syscall with a valid array; both ends are closed below / by Conn.
    let made = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    assert_eq!(made, 0);
    // SAFETY: the peer end is ours to close.
    unsafe { libc::close(fds[1]) };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
    let now = std::time::Instant::now();
    let mut c = Conn::new(fds[0], addr, addr, now);
    let mut events = Vec::new();
    let mut pending: Option<Box<ChunkedDecoder>> = None;
    let mut fed = 0;
    for &cut in cuts {
        c.buf.extend_from_slice(&stream[fed..cut]);
        fed = cut;
        loop {
            if let Some(dec) = pending.as_mut() {
                let mut sink = Vec::new();
                match dec.decode(&c.buf, &mut sink, usize::MAX) {
                    Err(_) => {
                        events.push(Event::BodyRefused);
                        return events;
                    }
                    Ok(n) => {
                        c.buf.drain(..n);
                    }
                }
                if !dec.is_done() {
                    break;
                }
                pending = None;
                c.phase = Phase::Idle;
            }
            match c.advance(lim, now) {
                Action::Wait => break,
                Action::Close => {
                    events.push(Event::Closed);
                    return events;
                }
                Action::Reject(_) => {
                    events.push(Event::Refused);
                    return events;
                }
                Action::Ready => {
                    let Some(h) = c.head.take() else { unreachable!("Ready without a head") };
                    events.push(Event::Request(
                        h.method().to_string(),
                        h.target().to_string(),
                        h.headers.len(),
                        h.framing,
                    ));
                    match Body::new(h.framing, lim.head.body) {
                        Body::Done => c.phase = Phase::Idle,
                        Body::Length(n) => c.phase = Phase::Discard(n),
                        Body::Chunked(dec) => pending = Some(dec),
                    }
                }
            }
        }
    }
    events
}

#[test]
fn fuzz_connection_state_machine_over_pipelined_streams() {
    let corpus = load_corpus();
    let mut lim = crate::pyapi::Limits::default().conn_limits();
    lim.head = corpus.limits;
    let valid: Vec<&[u8]> = corpus
        .vectors
        .iter()
        .filter(|v| v.meta.get("status").u64() == 200 && !v.meta.get("must_close").bool())
        .map(|v| &v.raw[..])
        .collect();
    let all: Vec<&[u8]> = corpus.vectors.iter().map(|v| &v.raw[..]).collect();
    let mut rng = Rng(seed() ^ 0x57a7e);
    let mut requests = 0;
    for i in 0..iterations() / 4 {
        let mut stream = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let pick = valid[rng.below(valid.len())];
            stream.extend_from_slice(pick);
        }
        if rng.chance(2) {
            stream = mutate(&mut rng, &stream, &all);
        }
        let whole = drive(&stream, &[stream.len()], &lim);
        let mut split_at = cuts(&mut rng, stream.len());
        if rng.chance(8) {
            split_at = (1..=stream.len()).collect(); // one byte at a time
        }
        let split = drive(&stream, &split_at, &lim);
        if whole != split {
            panic!(
                "seed {} stream {i}: whole {whole:?}\nsplit {split:?} at {split_at:?}\n{:?}",
                seed(),
                bstr(&stream)
            );
        }
        requests += whole.iter().filter(|e| matches!(e, Event::Request(..))).count();
    }
    assert!(requests > iterations() / 4, "only {requests} requests");
}
