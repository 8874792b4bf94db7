//! The `listpack` encoding of small hashes: every field and value in one packed buffer.
//!
//! Redis keeps a hash with few, short fields in a listpack: one allocation, elements one after
//! another, searched linearly. This buffer plays the same part with a simpler element format
//! that is only ever walked forwards: a LEB128 length, then the bytes. `f1`/`v1` costs three
//! bytes per element (a Redis listpack spends four), and the whole hash is the buffer plus its
//! pair count. Fields and values alternate, in insertion order, which is the order HGETALL,
//! HKEYS and HSCAN report, as Redis does for a listpack.
//!
//! The buffer is a boxed slice sized exactly to its contents: a change reallocates it, as
//! Redis's listpack does, which keeps small hashes free of spare capacity.

/// Bytes LEB128 takes for `n`.
pub(super) fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Appends `n` as LEB128.
pub(super) fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 length at the start of `buf`: (value, bytes used). The buffers are ours, so
/// a malformed one is a bug; it reads as an empty element rather than past the end.
pub(super) fn read_varint(buf: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    for (i, &b) in buf.iter().enumerate() {
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (n, i + 1);
        }
        shift += 7;
    }
    (0, buf.len())
}

/// Field/value pairs packed in one buffer (see the module docs).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PackedPairs {
    buf: Box<[u8]>,
    pairs: usize,
}

/// Where a pair sits in the buffer.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Start of the field's length prefix.
    start: usize,
    /// Start of the value's length prefix.
    value_at: usize,
    /// One past the value's last byte.
    end: usize,
}

impl PackedPairs {
    pub fn new() -> PackedPairs {
        PackedPairs::default()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs
    }

    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Bytes of the packed buffer.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The element starting at `at`: (bytes, offset after it).
    fn element(&self, at: usize) -> (&[u8], usize) {
        let (len, n) = read_varint(&self.buf[at..]);
        let start = at + n;
        let end = (start + len).min(self.buf.len());
        (&self.buf[start..end], end)
    }

    fn find(&self, field: &[u8]) -> Option<Slot> {
        let mut at = 0;
        while at < self.buf.len() {
            let (f, value_at) = self.element(at);
            let (_, end) = self.element(value_at);
            if f == field {
                return Some(Slot { start: at, value_at, end });
            }
            at = end;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|s| self.element(s.value_at).0)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.find(field).is_some()
    }

    /// Replaces `range` of the buffer with `with`, reallocating it to the exact new size.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8]) {
        let old = std::mem::take(&mut self.buf);
        let mut v = Vec::with_capacity(old.len() - range.len() + with.len());
        v.extend_from_slice(&old[..range.start]);
        v.extend_from_slice(with);
        v.extend_from_slice(&old[range.end..]);
        self.buf = v.into_boxed_slice();
    }

    /// Sets a field, returning true if it was already there (its value is replaced in place).
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut encoded = Vec::with_capacity(field.len() + value.len() + 4);
        match self.find(field) {
            Some(slot) => {
                push_varint(&mut encoded, value.len());
                encoded.extend_from_slice(value);
                self.splice(slot.value_at..slot.end, &encoded);
                true
            }
            None => {
                push_varint(&mut encoded, field.len());
                encoded.extend_from_slice(field);
                push_varint(&mut encoded, value.len());
                encoded.extend_from_slice(value);
                let end = self.buf.len();
                self.splice(end..end, &encoded);
                self.pairs += 1;
                false
            }
        }
    }

    /// Appends a pair whose field is known to be absent (building from another encoding).
    pub fn push_new(&mut self, field: &[u8], value: &[u8]) {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.reserve_exact(field.len() + value.len() + varint_len(field.len()) + varint_len(value.len()));
        push_varint(&mut v, field.len());
        v.extend_from_slice(field);
        push_varint(&mut v, value.len());
        v.extend_from_slice(value);
        self.buf = v.into_boxed_slice();
        self.pairs += 1;
    }

    /// Removes a field; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(slot) => {
                self.splice(slot.start..slot.end, &[]);
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }

    /// The pairs in order.
    pub fn iter(&self) -> PairIter<'_> {
        PairIter { pack: self, at: 0 }
    }
}

impl std::fmt::Debug for PackedPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

pub struct PairIter<'a> {
    pack: &'a PackedPairs,
    at: usize,
}

impl<'a> Iterator for PairIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.pack.buf.len() {
            return None;
        }
        let pack: &'a PackedPairs = self.pack;
        let (field, value_at) = pack.element(self.at);
        let (value, end) = pack.element(value_at);
        self.at = end;
        Some((field, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_replace_remove_keep_insertion_order() {
        let mut p = PackedPairs::new();
        assert!(!p.set(b"f1", b"v1"));
        assert!(!p.set(b"f2", b""));
        assert!(!p.set(b"", b"empty field"));
        assert_eq!(p.len(), 3);
        assert_eq!(p.bytes(), 3 + 3 + 3 + 1 + 1 + 1 + 11);
        assert_eq!(p.get(b"f2"), Some(&b""[..]));
        assert_eq!(p.get(b""), Some(&b"empty field"[..]));
        assert!(p.set(b"f1", b"a much longer value than before"));
        assert_eq!(p.get(b"f1"), Some(&b"a much longer value than before"[..]));
        let fields: Vec<&[u8]> = p.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![&b"f1"[..], b"f2", b""]);
        assert!(p.remove(b"f2"));
        assert!(!p.remove(b"f2"));
        assert_eq!(p.len(), 2);
        assert!(p.get(b"f2").is_none());
        assert_eq!(p.iter().count(), 2);
    }

    #[test]
    fn long_elements_use_multibyte_lengths() {
        let mut p = PackedPairs::new();
        let big = vec![b'x'; 70_000];
        p.set(&big, &big);
        p.push_new(b"k", b"v");
        assert_eq!(p.get(&big).map(|v| v.len()), Some(70_000));
        assert_eq!(p.get(b"k"), Some(&b"v"[..]));
        assert!(p.remove(&big));
        assert_eq!(p.bytes(), 4);
    }
}
