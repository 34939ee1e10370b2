//! mod_deflate's compressor: a gzip stream built the way httpd's DEFLATE filter builds it.
//!
//! Owns `GzipStream`: httpd's fixed 10-byte gzip header (no name, mtime 0, OS unix), raw
//! deflate with window 15 and memory level 9 (DeflateWindowSize/DeflateMemLevel defaults),
//! a sync flush for each flushed block so streaming output stays streaming, and the CRC32 +
//! length trailer at the end (deflate_out_filter). The deflate itself is zlib-rs through
//! flate2. Must not know about requests, headers or sockets; Python decides whether to
//! compress.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// httpd's gzip_header: magic, deflate, no flags, mtime 0, xfl 0, OS_CODE 0x03 (unix).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// One response's gzip stream. Each call hands back the compressed bytes ready to send.
#[pyclass(module = "prefork_modpy._core")]
pub struct GzipStream {
    compress: Compress,
    crc: Crc,
    header_sent: bool,
    finished: bool,
}

impl GzipStream {
    /// Deflate `input` with `flush`, appending every produced byte to `out`.
    fn run(&mut self, mut input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) -> PyResult<()> {
        loop {
            if out.capacity() - out.len() < 8192 {
                out.reserve(input.len() / 2 + 8192);
            }
            let before_in = self.compress.total_in();
            let status = self
                .compress
                .compress_vec(input, out, flush)
                .map_err(|err| PyRuntimeError::new_err(format!("deflate failed: {err}")))?;
            let consumed = usize::try_from(self.compress.total_in() - before_in).unwrap_or(0);
            input = &input[consumed..];
            let room_left = out.capacity() > out.len();
            match status {
                Status::StreamEnd => return Ok(()),
                _ if input.is_empty() && room_left && !matches!(flush, FlushCompress::Finish) => {
                    return Ok(())
                }
                _ => {}
            }
        }
    }

    /// One block (pure Rust): the header first time, `data` deflated with `flush`, and with
    /// `last` the final block and the trailer.
    fn block(&mut self, data: &[u8], flush: bool, last: bool) -> PyResult<Vec<u8>> {
        if self.finished {
            return Err(PyValueError::new_err("the gzip stream is finished"));
        }
        let mut out = Vec::with_capacity(data.len() / 3 + 64);
        self.header(&mut out);
        self.crc.update(data);
        let mode = match (last, flush) {
            (true, _) => FlushCompress::Finish,
            (false, true) => FlushCompress::Sync,
            (false, false) => FlushCompress::None,
        };
        self.run(data, mode, &mut out)?;
        if last {
            out.extend_from_slice(&self.crc.sum().to_le_bytes());
            out.extend_from_slice(&self.crc.amount().to_le_bytes());
            self.finished = true;
        }
        Ok(out)
    }

    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.header_sent {
            out.extend_from_slice(&GZIP_HEADER);
            self.header_sent = true;
        }
    }
}

#[pymethods]
impl GzipStream {
    /// A stream at DeflateCompressionLevel `level` (1-9).
    #[new]
    fn new(level: u32) -> PyResult<Self> {
        if !(1..=9).contains(&level) {
            return Err(PyValueError::new_err("compression level must be 1 to 9"));
        }
        Ok(GzipStream {
            compress: Compress::new_with_window_bits(Compression::new(level), false, 15),
            crc: Crc::new(),
            header_sent: false,
            finished: false,
        })
    }

    /// Compress one block; with `flush`, everything given so far is decodable by the client
    /// (Z_SYNC_FLUSH, httpd's answer to a FLUSH bucket). The GIL is released meanwhile.
    #[pyo3(signature = (data, flush = false))]
    fn compress<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        flush: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let out = py.detach(|| self.block(data, flush, false))?;
        Ok(PyBytes::new(py, &out))
    }

    /// The last block: what is left, then the CRC32 and the length modulo 2^32.
    fn finish<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let out = py.detach(|| self.block(data, false, true))?;
        Ok(PyBytes::new(py, &out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trip_in_blocks() {
        let mut stream = GzipStream::new(6).unwrap();
        let text: Vec<u8> = b"hello gzip world ".repeat(5000);
        let mut wire = stream.block(&text[..1000], true, false).unwrap();
        // A sync flush makes the first block decodable on its own (streaming).
        let mut partial = Vec::new();
        let _ = GzDecoder::new(&wire[..]).read_to_end(&mut partial);
        assert_eq!(partial, &text[..1000]);
        wire.extend(stream.block(&text[1000..], false, false).unwrap());
        wire.extend(stream.block(b"!", false, true).unwrap());
        assert_eq!(&wire[..10], &GZIP_HEADER);
        let mut expected = text.clone();
        expected.push(b'!');
        assert_eq!(gunzip(&wire), expected);
        assert!(stream.block(b"", false, true).is_err());
    }
}
