//! Unit tests for chunked.rs: valid and invalid bodies (vectors of shared/http-vectors.md
//! §2.5), limits, and incremental decoding split at every byte boundary and with small
//! output budgets.

use super::*;

fn st(data: &[u8], limit: u64) -> u16 {
    match decode_chunked_all(data, limit) {
        Ok(_) => 200,
        Err(e) => e.status,
    }
}

#[test]
fn valid_bodies() {
    let cases: &[(&[u8], &[u8], usize)] = &[
        (b"5\r\nhello\r\n0\r\n\r\n", b"hello", 15),
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET /", b"hello world", 26),
        (b"0\r\n\r\n", b"", 5),
        // CH11, CH16, CH21, CH12 (BWS before ';' is legal), uppercase hex.
        (b"5;foo=\"bar baz\"\r\nhello\r\n0\r\n\r\n", b"hello", 29),
        (b"0005\r\nhello\r\n000\r\n\r\n", b"hello", 20),
        (b"5\r\nhello\r\n0\r\nX-Chunk-Trailer: 1\r\n\r\n", b"hello", 35),
        (b"5 ;foo\r\nhello\r\n0\r\n\r\n", b"hello", 20),
        (b"A\r\n0123456789\r\n0;a=b;c=\"d\\\"e\"\r\n\r\n", b"0123456789", 33),
        (b"5\t;a\t=\tb ; c\r\nhello\r\n0\r\n\r\n", b"hello", 26),
    ];
    for (data, body, used) in cases {
        let (b, n) = decode_chunked_all(data, 0)
            .unwrap_or_else(|e| panic!("{:?}: {:?}", String::from_utf8_lossy(data), e));
        assert_eq!((&b[..], n), (*body, *used), "{:?}", String::from_utf8_lossy(data));
    }
}

#[test]
fn invalid_bodies() {
    let cases: &[(&str, &[u8], u16)] = &[
        ("CH1", b"5\r\nhello\r\n6_0\r\n world\r\n0\r\n\r\n", 400),
        ("CH2a", b"-5\r\nhello\r\n0\r\n\r\n", 400),
        ("CH2b", b"+5\r\nhello\r\n0\r\n\r\n", 400),
        ("CH2c", b"0x5\r\nhello\r\n0\r\n\r\n", 400),
        ("CH3", b"5\r\nhello\r\n0 \r\n\r\n", 400),
        ("CH4", b"5\r\nhello\r\n 0\r\n\r\n", 400),
        ("CH5", b"\r\nhello\r\n0\r\n\r\n", 400),
        ("CH6", b" ;foo=bar\r\nhello\r\n0\r\n\r\n", 400),
        ("CH6b", b";foo=bar\r\nhello\r\n0\r\n\r\n", 400),
        ("CH7", b"5\n;\r\nhello\r\n0\r\n\r\n", 400),
        ("CH8", b"5;ext=val\rue\r\nhello\r\n0\r\n\r\n", 400),
        ("CH9", b"2;\nxx\r\n45\r\n0\r\n\r\n", 400),
        ("CH10", b"1;ext=\"val\nX\n0\n\nGET /smuggled HTTP/1.1\r\n\r\n", 400),
        ("CH10b", b"5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n", 400),
        ("CH12", b"5;\r\nhello\r\n0\r\n\r\n", 400),
        ("CH12b", b"5;a=\r\nhello\r\n0\r\n\r\n", 400),
        ("CH12c", b"5;a \r\nhello\r\n0\r\n\r\n", 400),
        ("ext-nul", b"5;a\0b\r\nhello\r\n0\r\n\r\n", 400),
        ("ext-del", b"5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", 400),
        ("ext-unterminated", b"5;a=\"abc\r\nhello\r\n0\r\n\r\n", 400),
        ("CH13", b"5\r\nhelloXX0\r\n\r\n", 400),
        ("CH13b", b"5\r\nhello\n0\r\n\r\n", 400),
        ("CH14", b"3\r\nfoo\r\n\r\n", 400),
        ("CH15", b"0\r\n", 400),
        ("CH15b", b"5\r\nhel", 400),
        ("CH17", b"fffffffffffffffff\r\n", 400),
        ("CH17b", b"00000000000000005\r\nhello\r\n0\r\n\r\n", 400),
        ("CH18", b"ffffffffffffffff\r\n", 413),
        ("trailer-fold", b"0\r\nX: a\r\n b\r\n\r\n", 400),
        ("trailer-noname", b"0\r\n: a\r\n\r\n", 400),
        ("trailer-nocolon", b"0\r\nfoo\r\n\r\n", 400),
        ("trailer-space-name", b"0\r\nX : a\r\n\r\n", 400),
        ("trailer-ctl", b"0\r\nX: a\x01\r\n\r\n", 400),
        ("trailer-bare-lf", b"0\r\nX: a\n\r\n", 400),
        ("trailer-final-bare-lf", b"0\r\n\n", 400),
    ];
    let mut failures = Vec::new();
    for (id, data, want) in cases {
        let got = st(data, 1 << 30);
        if got != *want {
            failures.push(format!("{id}: want {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn limits() {
    let b = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    assert_eq!(st(b, 11), 200);
    assert_eq!(st(b, 10), 413);
    assert_eq!(st(b, 5), 413);
    // CH19: extension bytes are capped over the whole body.
    let mut many = Vec::new();
    for _ in 0..10 {
        many.extend_from_slice(format!("1;{}\r\nx\r\n", "e".repeat(2000)).as_bytes());
    }
    many.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(st(&many, 0), 400);
    // One size line over its own cap.
    let long = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(5000));
    assert_eq!(st(long.as_bytes(), 0), 400);
    // Many trailers.
    let mut t = b"0\r\n".to_vec();
    for i in 0..2000 {
        t.extend_from_slice(format!("X-{i}: {}\r\n", "v".repeat(40)).as_bytes());
    }
    t.extend_from_slice(b"\r\n");
    assert_eq!(st(&t, 0), 400);
}

fn decode_pieces(
    data: &[u8],
    cuts: &[usize],
    budget: usize,
) -> Result<(Vec<u8>, usize, bool), HttpError> {
    let mut d = ChunkedDecoder::new(0);
    let mut out = Vec::new();
    let mut pos = 0;
    for &c in cuts.iter().chain(std::iter::once(&data.len())) {
        // Feed data[pos..c], possibly in several calls when the budget stops early.
        loop {
            let before = pos;
            pos += d.decode(&data[pos..c.max(pos)], &mut out, budget)?;
            if d.is_done() {
                return Ok((out, pos, true));
            }
            if pos == before || pos >= c {
                break;
            }
        }
    }
    Ok((out, pos, d.is_done()))
}

#[test]
fn split_at_every_byte_boundary() {
    let samples: &[&[u8]] = &[
        b"5\r\nhello\r\n6;x=\"a;b\"\r\n world\r\n0\r\nT: 1\r\n\r\nNEXT",
        b"1\r\na\r\n0\r\n\r\n",
        b"10\r\n0123456789abcdef\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0 \r\n\r\n",
        b"5\r\nhelloXX0\r\n\r\n",
        b"2;\nxx\r\n0\r\n\r\n",
    ];
    for data in samples {
        let whole = decode_chunked_all(data, 0).map(|(b, n)| (b, n, true));
        for cut in 0..=data.len() {
            for budget in [1usize, 3, usize::MAX] {
                let got = decode_pieces(data, &[cut], budget);
                assert_eq!(
                    got,
                    whole,
                    "{:?} cut {cut} budget {budget}",
                    String::from_utf8_lossy(data)
                );
            }
        }
        let all: Vec<usize> = (0..=data.len()).collect();
        assert_eq!(decode_pieces(data, &all, 2), whole);
    }
}

#[test]
fn budget_stops_before_data_but_consumes_framing() {
    let data = b"5\r\nhello\r\n0\r\n\r\n";
    let mut d = ChunkedDecoder::new(0);
    let mut out = Vec::new();
    let n = d.decode(data, &mut out, 5).unwrap();
    // After the 5 data bytes the budget is spent, but the last chunk is framing only.
    assert_eq!((n, &out[..], d.is_done()), (data.len(), &b"hello"[..], true));
    let mut d = ChunkedDecoder::new(0);
    let mut out = Vec::new();
    assert_eq!(d.decode(data, &mut out, 0).unwrap(), 3);
    assert!(out.is_empty());
}
