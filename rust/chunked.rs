//! Strict, incremental decoder for `Transfer-Encoding: chunked` request bodies (pure Rust).
//!
//! `ChunkedDecoder::decode` takes whatever bytes are at hand, appends decoded data to an
//! output buffer (up to a budget) and reports how many input bytes it consumed, so the
//! engine can feed it from the connection buffer and the socket in pieces. It stops exactly
//! after the final CRLF of the trailer section, leaving pipelined bytes alone.
//! `decode_chunked_all` is the whole-buffer helper. Refused (400): empty or extension-only
//! size lines, signs, `0x`, spaces, underscores, more than 16 hex digits, bare CR or LF,
//! control characters in extensions, missing CRLF after chunk data, malformed trailers.
//! A total over the body limit is 413. httparse's `parse_chunk_size` is not used because it
//! accepts several of these.

use crate::parse::{err, is_tchar, HttpError};

/// Longest chunk-size line (size + extensions), without CRLF.
const MAX_SIZE_LINE: usize = 4096;
/// Extension bytes allowed over the whole body.
const MAX_EXT_TOTAL: usize = 16 * 1024;
/// Longest trailer line and the whole trailer section.
const MAX_TRAILER_LINE: usize = 8190;
const MAX_TRAILER_TOTAL: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    SizeLine,
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
    Done,
}

#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    limit: u64,
    total: u64,
    line: Vec<u8>,
    ext_total: usize,
    trailer_total: usize,
}

impl ChunkedDecoder {
    /// `limit`: largest decoded body (0 = no limit).
    pub fn new(limit: u64) -> Self {
        ChunkedDecoder {
            state: State::SizeLine,
            limit,
            total: 0,
            line: Vec::new(),
            ext_total: 0,
            trailer_total: 0,
        }
    }

    /// The last chunk and the trailer section have been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consume from `input`, appending at most `max_out` data bytes to `out`. Returns the
    /// number of input bytes consumed; stops early when done, or when the budget is spent
    /// and more data would be needed (framing bytes are still consumed then).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<usize, HttpError> {
        let mut i = 0;
        let mut budget = max_out;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::Data(rem) => {
                    if budget == 0 {
                        break;
                    }
                    let avail = (input.len() - i) as u64;
                    let take = rem.min(avail).min(budget as u64) as usize;
                    out.extend_from_slice(&input[i..i + take]);
                    i += take;
                    budget -= take;
                    let left = rem - take as u64;
                    self.state = if left == 0 { State::DataCr } else { State::Data(left) };
                }
                State::DataCr => {
                    if input[i] != b'\r' {
                        return Err(err(400, "chunk data not followed by CRLF"));
                    }
                    i += 1;
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    if input[i] != b'\n' {
                        return Err(err(400, "chunk data not followed by CRLF"));
                    }
                    i += 1;
                    self.state = State::SizeLine;
                }
                State::SizeLine | State::Trailer => {
                    let rest = &input[i..];
                    let (take, complete) = match rest.iter().position(|&b| b == b'\n') {
                        Some(p) => (p + 1, true),
                        None => (rest.len(), false),
                    };
                    let cap = if self.state == State::SizeLine {
                        MAX_SIZE_LINE
                    } else {
                        MAX_TRAILER_LINE
                    };
                    if self.line.len() + take > cap + 2 {
                        return Err(err(400, "chunk size or trailer line too long"));
                    }
                    self.line.extend_from_slice(&rest[..take]);
                    i += take;
                    if complete {
                        self.end_line()?;
                    }
                }
            }
        }
        Ok(i)
    }

    fn end_line(&mut self) -> Result<(), HttpError> {
        let line = std::mem::take(&mut self.line);
        let body = match line.strip_suffix(b"\r\n") {
            Some(b) => b,
            None => return Err(err(400, "bare LF in chunked framing")),
        };
        if body.contains(&b'\r') {
            return Err(err(400, "bare CR in chunked framing"));
        }
        if self.state == State::SizeLine {
            let (size, ext_len) = parse_size_line(body)?;
            self.ext_total += ext_len;
            if self.ext_total > MAX_EXT_TOTAL {
                return Err(err(400, "too many chunk extension bytes"));
            }
            let total = self.total.checked_add(size).ok_or(err(413, "body too large"))?;
            if self.limit > 0 && total > self.limit {
                return Err(err(413, "request body too large"));
            }
            self.total = total;
            self.state = if size == 0 { State::Trailer } else { State::Data(size) };
        } else if body.is_empty() {
            self.state = State::Done;
        } else {
            self.trailer_total += body.len() + 2;
            if self.trailer_total > MAX_TRAILER_TOTAL {
                return Err(err(400, "trailer section too large"));
            }
            check_trailer_line(body)?;
        }
        self.line = line;
        self.line.clear();
        Ok(())
    }
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// chunk-size [ chunk-ext ] with chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
/// Returns (size, extension bytes).
fn parse_size_line(line: &[u8]) -> Result<(u64, usize), HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(err(400, "missing chunk size"));
    }
    if digits > 16 {
        return Err(err(400, "chunk size too long"));
    }
    let mut size: u64 = 0;
    for &d in &line[..digits] {
        let v = (d as char).to_digit(16).unwrap_or(0);
        size = (size << 4) | u64::from(v);
    }
    let ext = &line[digits..];
    check_extensions(ext)?;
    Ok((size, ext.len()))
}

fn check_extensions(ext: &[u8]) -> Result<(), HttpError> {
    let bad = err(400, "malformed chunk extension");
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < ext.len() && is_ws(ext[*i]) {
            *i += 1;
        }
    };
    while i < ext.len() {
        skip_ws(&mut i);
        if i >= ext.len() || ext[i] != b';' {
            return Err(bad);
        }
        i += 1;
        skip_ws(&mut i);
        let name_start = i;
        while i < ext.len() && is_tchar(ext[i]) {
            i += 1;
        }
        if i == name_start {
            return Err(bad);
        }
        let mut j = i;
        skip_ws(&mut j);
        if j < ext.len() && ext[j] == b'=' {
            i = j + 1;
            skip_ws(&mut i);
            if i < ext.len() && ext[i] == b'"' {
                i += 1;
                loop {
                    match ext.get(i) {
                        None => return Err(bad),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            match ext.get(i + 1) {
                                Some(&c) if c == b'\t' || c >= 0x20 && c != 0x7f => {}
                                _ => return Err(bad),
                            }
                            i += 2;
                        }
                        Some(&c) if c == b'\t' || c >= 0x20 && c != 0x7f => i += 1,
                        Some(_) => return Err(bad),
                    }
                }
            } else {
                let v_start = i;
                while i < ext.len() && is_tchar(ext[i]) {
                    i += 1;
                }
                if i == v_start {
                    return Err(bad);
                }
            }
        }
        // Only BWS may follow before the next ';' (checked at the top of the loop),
        // and trailing whitespace after the last extension is refused.
        let mut k = i;
        skip_ws(&mut k);
        if k == ext.len() && k != i {
            return Err(bad);
        }
    }
    Ok(())
}

/// field-name ":" OWS field-value OWS; no obs-fold, no control characters.
fn check_trailer_line(line: &[u8]) -> Result<(), HttpError> {
    let colon = line.iter().position(|&b| b == b':').ok_or(err(400, "malformed trailer"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(err(400, "malformed trailer field name"));
    }
    if value.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err(err(400, "control character in trailer"));
    }
    Ok(())
}

/// Decode a complete chunked body at the start of `data`: (body, bytes consumed).
/// Incomplete input is a 400.
pub fn decode_chunked_all(data: &[u8], limit: u64) -> Result<(Vec<u8>, usize), HttpError> {
    let mut d = ChunkedDecoder::new(limit);
    let mut out = Vec::new();
    let n = d.decode(data, &mut out, usize::MAX)?;
    if !d.is_done() {
        return Err(err(400, "incomplete chunked body"));
    }
    Ok((out, n))
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
