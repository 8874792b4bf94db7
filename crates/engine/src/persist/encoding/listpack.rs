//! Listpack: `<total-bytes u32><num-elements u16> <entry>... <0xFF>`, each entry being an
//! encoding byte (plus length bytes), the data, and a "backlen" (the entry's size written
//! right to left in 7-bit groups) so it can be walked backwards.
//!
//! The codec itself is the one the value types keep their data in
//! (`types/quicklist/listpack.rs`, Redis's byte layout): this module only adapts it to the
//! RDB readers (every element at once, after deep validation) and writers (a builder).

use super::Packed;
use crate::types::quicklist::listpack::{self as lp, Elem};

/// Every element of a listpack, validated like Redis's lpValidateIntegrity with deep
/// checks (header size, every entry and its backlen inside the buffer, the terminator last,
/// the count when known).
pub fn decode(buf: &[u8]) -> Option<Vec<Packed<'_>>> {
    let count = lp::validate(buf)?;
    let mut out = Vec::with_capacity(count);
    let mut p = lp::first(buf);
    while let Some(at) = p {
        out.push(match lp::get(buf, at) {
            Elem::Int(n) => Packed::Int(n),
            Elem::Str(s) => Packed::Str(s),
        });
        p = lp::next(buf, at);
    }
    (out.len() == count).then_some(out)
}

/// Builds a listpack element by element, as lpAppend does (strings that are integers in
/// canonical form are stored as integers).
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
        Builder { buf: lp::new(), count: 0 }
    }

    /// Elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn push(&mut self, s: &[u8]) {
        self.count += 1;
        lp::push_back(&mut self.buf, s, self.count);
    }

    pub fn push_int(&mut self, v: i64) {
        self.push(itoa::Buffer::new().format(v).as_bytes());
    }

    pub fn finish(self) -> Vec<u8> {
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
