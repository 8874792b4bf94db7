//! Listpack: `<total-bytes u32><num-elements u16> <entry>... <0xFF>`, each entry being an
//! encoding byte (plus length bytes), the data, and a "backlen" (the entry's size written
//! right to left in 7-bit groups) so it can be walked backwards.

use super::{le_u16, le_u32, Packed};

const HEADER: usize = 6;
const EOF: u8 = 0xff;
/// `num-elements` when the count does not fit 16 bits.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Decodes one entry's encoding at `p`: (element, bytes of encoding + data).
fn entry_at(lp: &[u8], p: usize) -> Option<(Packed<'_>, usize)> {
    let b = *lp.get(p)?;
    let sign = |v: u64, bits: u32| -> i64 {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    };
    let uint = |n: usize| -> Option<u64> {
        let bytes = lp.get(p + 1..p + 1 + n)?;
        Some(bytes.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    let string = |skip: usize, len: usize| -> Option<(Packed<'_>, usize)> {
        let s = lp.get(p + skip..(p + skip).checked_add(len)?)?;
        Some((Packed::Str(s), skip + len))
    };
    if b & 0x80 == 0 {
        return Some((Packed::Int((b & 0x7f) as i64), 1));
    }
    if b & 0xc0 == 0x80 {
        return string(1, (b & 0x3f) as usize);
    }
    if b & 0xe0 == 0xc0 {
        let v = (((b & 0x1f) as u64) << 8) | *lp.get(p + 1)? as u64;
        return Some((Packed::Int(sign(v, 13)), 2));
    }
    if b & 0xf0 == 0xe0 {
        let len = (((b & 0x0f) as usize) << 8) | *lp.get(p + 1)? as usize;
        return string(2, len);
    }
    match b {
        0xf0 => string(5, le_u32(lp, p + 1)? as usize),
        0xf1 => Some((Packed::Int(sign(uint(2)?, 16)), 3)),
        0xf2 => Some((Packed::Int(sign(uint(3)?, 24)), 4)),
        0xf3 => Some((Packed::Int(sign(uint(4)?, 32)), 5)),
        0xf4 => Some((Packed::Int(uint(8)? as i64), 9)),
        _ => None,
    }
}

/// Bytes a backlen of `len` takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn write_backlen(out: &mut Vec<u8>, len: usize) {
    let l = len as u64;
    match backlen_size(len) {
        1 => out.push(l as u8),
        n => {
            out.push((l >> (7 * (n - 1))) as u8);
            for i in (0..n - 1).rev() {
                out.push((((l >> (7 * i)) & 127) | 128) as u8);
            }
        }
    }
}

/// Reads the backlen ending at `end` (exclusive), right to left.
fn read_backlen(lp: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut val = 0u64;
    let mut shift = 0;
    let mut at = end.checked_sub(1)?;
    loop {
        let b = *lp.get(at)?;
        val |= ((b & 127) as u64) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
        at = at.checked_sub(1)?;
    }
    Some((val as usize, end - at))
}

/// Every element of a listpack, validated like Redis's lpValidateIntegrity with deep
/// checks: the header's size matches the buffer, each entry and its backlen are well formed
/// and inside the buffer, the terminator is last, and the count (when known) matches.
pub fn decode(lp: &[u8]) -> Option<Vec<Packed<'_>>> {
    if lp.len() < HEADER + 1 || le_u32(lp, 0)? as usize != lp.len() || lp[lp.len() - 1] != EOF {
        return None;
    }
    let declared = le_u16(lp, 4)?;
    let mut out = Vec::with_capacity(if declared == COUNT_UNKNOWN { 0 } else { declared as usize });
    let mut p = HEADER;
    let end = lp.len() - 1;
    while p < end {
        let (elem, size) = entry_at(lp, p)?;
        let after = p.checked_add(size)?;
        let (back, back_size) = read_backlen(lp, after.checked_add(backlen_size(size))?)?;
        if back != size || back_size != backlen_size(size) {
            return None;
        }
        p = after + back_size;
        if p > end {
            return None;
        }
        out.push(elem);
    }
    if p != end || (declared != COUNT_UNKNOWN && declared as usize != out.len()) {
        return None;
    }
    Some(out)
}

/// Builds a listpack element by element, as lpAppend does.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER]);
        Builder { buf, count: 0 }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the finished listpack will take.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends a string; one that reads as a canonical 64-bit integer is stored as one
    /// (Redis's lpStringToInt64 rules: at most 20 characters, no leading zeros or `+`).
    pub fn push(&mut self, s: &[u8]) {
        match (s.len() < 21).then(|| spinel_resp::parse_i64(s)).flatten() {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        if (0..=127).contains(&v) {
            b.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            b.extend_from_slice(&[(u >> 8) as u8 | 0xc0, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            b.push(0xf1);
            b.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            b.push(0xf2);
            b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            b.push(0xf3);
            b.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            b.push(0xf4);
            b.extend_from_slice(&v.to_le_bytes());
        }
        let size = self.buf.len() - start;
        write_backlen(&mut self.buf, size);
        self.count += 1;
    }

    /// Appends a string without integer detection.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(len as u8 | 0x80);
        } else if len < 4096 {
            self.buf.extend_from_slice(&[(len >> 8) as u8 | 0xe0, len as u8]);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let size = self.buf.len() - start;
        write_backlen(&mut self.buf, size);
        self.count += 1;
    }

    pub fn push_packed(&mut self, e: Packed<'_>) {
        match e {
            Packed::Int(n) => self.push_int(n),
            Packed::Str(s) => self.push(s),
        }
    }

    /// The finished listpack bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < COUNT_UNKNOWN as usize { self.count as u16 } else { COUNT_UNKNOWN };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// A listpack of `elements`.
pub fn encode<'a>(elements: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut b = Builder::new();
    for e in elements {
        b.push(e);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let big = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"-4097",
            b"32767",
            b"-32768",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"-2147483648",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"abc",
            b"",
            b"007",
            b"-0",
            &mid,
            &big,
            b"18446744073709551616",
        ];
        let lp = encode(items.iter().copied());
        let back = decode(&lp).unwrap();
        assert_eq!(back.len(), items.len());
        for (a, b) in items.iter().zip(&back) {
            assert_eq!(&b.to_vec(), a);
        }
        assert_eq!(back[0], Packed::Int(0));
        assert_eq!(back[17], Packed::Str(b"007"));
        assert_eq!(back[18], Packed::Str(b"-0"));
    }

    /// Bytes of `RPUSH l a 1 -70000` in redis-server 7.0.15 (the listpack inside DUMP).
    #[test]
    fn matches_redis_bytes() {
        let lp = encode([&b"a"[..], b"1", b"-70000"]);
        assert_eq!(lp, b"\x11\x00\x00\x00\x03\x00\x81a\x02\x01\x01\xf2\x90\xee\xfe\x04\xff");
    }

    #[test]
    fn rejects_corruption_without_panicking() {
        let lp = encode([&b"hello"[..], b"12345", &[b'z'; 200][..]]);
        assert!(decode(&lp).is_some());
        for i in 0..lp.len() {
            for bit in 0..8 {
                let mut bad = lp.clone();
                bad[i] ^= 1 << bit;
                let _ = decode(&bad);
            }
            let _ = decode(&lp[..i]);
        }
        let mut wrong_count = lp.clone();
        wrong_count[4] = 2;
        assert!(decode(&wrong_count).is_none());
    }
}
