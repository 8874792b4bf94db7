//! Reading RDB encodings from a byte slice, with bounds checks everywhere: a corrupt file or
//! DUMP payload is an error, never a panic or a huge allocation.

use std::borrow::Cow;

use super::{corrupt, RdbError};
use crate::util::lzf;

pub struct RdbReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A decoded length: a plain length, or the special string encoding it announces.
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> RdbReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        RdbReader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if n > self.remaining() {
            return corrupt("unexpected end of RDB data");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain((first & 0x3f) as u64),
            1 => Len::Plain((((first & 0x3f) as u64) << 8) | self.u8()? as u64),
            3 => Len::Encoded(first & 0x3f),
            _ => match first {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return corrupt(format!("unknown length encoding {first}")),
            },
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub fn len(&mut self) -> Result<u64, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => corrupt("unexpected encoded length"),
        }
    }

    /// A count of elements that must be plausible for the data left (each element takes at
    /// least a byte), so a forged count cannot make us allocate.
    pub fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.len()?;
        if n > self.remaining() as u64 {
            return corrupt("element count larger than the data");
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        self.blob().map(Cow::into_owned)
    }

    /// A string in any of its encodings, borrowed from the input when stored raw (listpack
    /// and intset blobs are parsed in place).
    pub fn blob(&mut self) -> Result<Cow<'a, [u8]>, RdbError> {
        let int = |v: i64| Ok(Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()));
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                if n > self.remaining() as u64 {
                    return corrupt("string longer than the data");
                }
                Ok(Cow::Borrowed(self.bytes(n as usize)?))
            }
            Len::Encoded(0) => int(self.u8()? as i8 as i64),
            Len::Encoded(1) => int(i16::from_le_bytes(self.array()?) as i64),
            Len::Encoded(2) => int(i32::from_le_bytes(self.array()?) as i64),
            Len::Encoded(3) => {
                let clen = self.len()?;
                let len = self.len()?;
                if clen > self.remaining() as u64 {
                    return corrupt("compressed string longer than the data");
                }
                // LZF expands at most ~ 264/3 times; a larger claim is corruption.
                if len > clen.saturating_mul(100) + 64 {
                    return corrupt("implausible LZF length");
                }
                let z = self.bytes(clen as usize)?;
                lzf::decompress(z, len as usize)
                    .map(Cow::Owned)
                    .ok_or_else(|| RdbError::new("invalid LZF compressed string"))
            }
            Len::Encoded(e) => corrupt(format!("unknown string encoding {e}")),
        }
    }

    pub fn millis(&mut self) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub fn seconds(&mut self) -> Result<i32, RdbError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// The old textual double of RDB_TYPE_ZSET: a length byte (253 nan, 254 +inf, 255 -inf).
    pub fn text_double(&mut self) -> Result<f64, RdbError> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let s = self.bytes(n as usize)?;
                super::super::encoding::Packed::Str(s).to_score().ok_or_else(|| RdbError::new("bad double"))
            }
        }
    }

    /// Skips a module value (a self-describing sequence of typed fields ending with an EOF
    /// opcode), as redis-check-rdb does for modules it does not know.
    pub fn skip_module_value(&mut self) -> Result<(), RdbError> {
        loop {
            match self.len()? {
                0 => return Ok(()),
                1 | 2 => {
                    self.len()?;
                }
                3 => {
                    self.bytes(4)?;
                }
                4 => {
                    self.bytes(8)?;
                }
                5 => {
                    self.blob()?;
                }
                op => return corrupt(format!("Unknown module opcode {op}")),
            }
        }
    }
}

/// The 9-character module type name encoded in the top 54 bits of a module id.
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for c in name.iter_mut().rev() {
        *c = CHARSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}
