//! Writing RDB encodings, with the running CRC-64.

use std::io::{self, Write};

use super::{Crc64Digest, CRC64, OPCODE_AUX, OPCODE_EOF};
use crate::util::lzf::Compressor;

pub struct RdbWriter<W: Write> {
    out: W,
    /// The running checksum; None when another stage computes it (the background writer).
    crc: Option<Crc64Digest>,
    compress: bool,
    /// LZF state, created on the first string worth compressing.
    lzf: Option<Box<Compressor>>,
    written: u64,
}

impl<W: Write> RdbWriter<W> {
    /// `compress` is `rdbcompression`: LZF for strings longer than 20 bytes when it helps.
    pub fn new(out: W, compress: bool) -> Self {
        RdbWriter { out, crc: Some(CRC64.digest()), compress, lzf: None, written: 0 }
    }

    /// A writer that computes no checksum (records produced for a writer thread that
    /// checksums the whole stream).
    pub fn without_checksum(out: W, compress: bool) -> Self {
        RdbWriter { out, crc: None, compress, lzf: None, written: 0 }
    }

    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The underlying output.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(crc) = &mut self.crc {
            crc.update(bytes);
        }
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }

    /// Redis's rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian lengths.
    pub fn len(&mut self, len: u64) -> io::Result<()> {
        if len < 1 << 6 {
            self.byte(len as u8)
        } else if len < 1 << 14 {
            self.raw(&[((len >> 8) as u8) | 0x40, len as u8])
        } else if len <= u32::MAX as u64 {
            self.byte(0x80)?;
            self.raw(&(len as u32).to_be_bytes())
        } else {
            self.byte(0x81)?;
            self.raw(&len.to_be_bytes())
        }
    }

    /// An integer in Redis's compact string encodings (int8/16/32), if it fits.
    fn int_encoding(v: i64) -> Option<([u8; 5], usize)> {
        let b = v.to_le_bytes();
        if (-(1 << 7)..(1 << 7)).contains(&v) {
            Some(([0xc0, b[0], 0, 0, 0], 2))
        } else if (-(1 << 15)..(1 << 15)).contains(&v) {
            Some(([0xc1, b[0], b[1], 0, 0], 3))
        } else if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
            Some(([0xc2, b[0], b[1], b[2], b[3]], 5))
        } else {
            None
        }
    }

    /// A string: as an integer encoding when it is a short canonical integer, LZF when that
    /// saves at least four bytes, else raw (Redis's rdbSaveRawString).
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some((enc, n)) = spinel_resp::parse_i64(s).and_then(Self::int_encoding) {
                return self.raw(&enc[..n]);
            }
        }
        if self.compress && s.len() > 20 {
            let lzf = self.lzf.get_or_insert_with(Default::default);
            if let Some(z) = lzf.compress(s, s.len() - 4) {
                return self.lzf_blob(&z, s.len());
            }
        }
        self.len(s.len() as u64)?;
        self.raw(s)
    }

    /// A string already LZF-compressed (a compressed quicklist node), with its plain size.
    pub fn lzf_blob(&mut self, compressed: &[u8], plain_len: usize) -> io::Result<()> {
        self.byte(0xc3)?;
        self.len(compressed.len() as u64)?;
        self.len(plain_len as u64)?;
        self.raw(compressed)
    }

    /// An integer value written as a string (Redis's rdbSaveLongLongAsStringObject).
    pub fn int_string(&mut self, v: i64) -> io::Result<()> {
        match Self::int_encoding(v) {
            Some((enc, n)) => self.raw(&enc[..n]),
            None => {
                let mut buf = itoa::Buffer::new();
                let s = buf.format(v).as_bytes().to_vec();
                self.len(s.len() as u64)?;
                self.raw(&s)
            }
        }
    }

    /// A binary double (ZSET_2 scores, the LRU idle opcode uses lengths instead).
    pub fn binary_double(&mut self, d: f64) -> io::Result<()> {
        self.raw(&d.to_le_bytes())
    }

    pub fn millis(&mut self, ms: i64) -> io::Result<()> {
        self.raw(&ms.to_le_bytes())
    }

    pub fn aux(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.byte(OPCODE_AUX)?;
        self.string(key.as_bytes())?;
        self.string(value)
    }

    /// Writes EOF and the checksum (zero when `checksum` is off, as `rdbchecksum no` does).
    pub fn finish(mut self, checksum: bool) -> io::Result<W> {
        self.byte(OPCODE_EOF)?;
        let crc = match (&self.crc, checksum) {
            (Some(c), true) => c.clone().finalize(),
            _ => 0,
        };
        self.out.write_all(&crc.to_le_bytes())?;
        self.written += 8;
        Ok(self.out)
    }

    /// The CRC of everything written so far (DUMP payload trailers).
    pub fn crc_so_far(&self) -> u64 {
        self.crc.as_ref().map_or(0, |c| c.clone().finalize())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
