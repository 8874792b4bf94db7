//! Redis's listpack, byte for byte: the packed form of one quicklist node.
//!
//! ```text
//! [total bytes: u32 LE][entries: u16 LE, 65535 = unknown][entry]...[0xFF]
//! entry = encoding byte(s) + data + backlen (the entry's encoded length, 1-5 bytes,
//!         readable from its last byte backwards)
//! ```
//!
//! Integers in canonical decimal form are stored as integers of 1 to 9 bytes; other strings
//! carry a 1, 2 or 5 byte length header. Keeping Redis's exact format gives the same memory
//! profile, and lets DUMP/RDB write and read list nodes without re-encoding them. Every entry
//! is self-contained (its back-length describes only itself), so splitting or joining nodes is
//! copying byte ranges.
//!
//! Functions here take the listpack bytes our own code built; [`validate`] checks bytes from
//! outside (RESTORE, RDB) before they are used.

/// Header: total bytes (u32) + entry count (u16).
pub const HDR: usize = 6;
pub const EOF: u8 = 0xFF;
/// The count field's "too many to say" value.
const COUNT_UNKNOWN: usize = u16::MAX as usize;

/// One element, borrowed from a listpack (or a plain node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The element's bytes (an integer formatted into `buf`).
    pub fn bytes<'b>(&'b self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Elem::Int(n) => buf.format(*n).as_bytes(),
            Elem::Str(s) => s,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    /// Length of the element as a string.
    pub fn len(&self) -> usize {
        match self {
            Elem::Int(n) => itoa::Buffer::new().format(*n).len(),
            Elem::Str(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's lpCompare: equal as strings. `needle_int` is the needle parsed with
    /// [`string_to_i64`] (done once by the caller).
    pub fn matches(&self, needle: &[u8], needle_int: Option<i64>) -> bool {
        match self {
            Elem::Int(n) => needle_int == Some(*n),
            Elem::Str(s) => *s == needle,
        }
    }
}

/// Redis's lpStringToInt64: the strict decimal form of an i64 (no sign on zero, no leading
/// zeros, no spaces, at most 20 bytes).
pub fn string_to_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// An empty listpack.
pub fn new() -> Vec<u8> {
    let mut lp = Vec::with_capacity(HDR + 1);
    lp.extend_from_slice(&[0; HDR]);
    lp.push(EOF);
    set_header(&mut lp, 0);
    lp
}

/// A listpack holding one element.
pub fn with_one(value: &[u8]) -> Vec<u8> {
    let enc = Encoded::new(value);
    let mut lp = Vec::with_capacity(HDR + enc.total() + 1);
    lp.extend_from_slice(&[0; HDR]);
    enc.write_to(&mut lp);
    lp.push(EOF);
    set_header(&mut lp, 1);
    lp
}

/// Rewrites the header for the current length and `count` entries.
pub fn set_header(lp: &mut [u8], count: usize) {
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    let n = if count >= COUNT_UNKNOWN { COUNT_UNKNOWN } else { count } as u16;
    lp[4..6].copy_from_slice(&n.to_le_bytes());
}

/// Bytes of the encoding header plus data of the entry at `p` (without its back-length).
fn encoded_len(lp: &[u8], p: usize) -> usize {
    let b = lp[p];
    if b & 0x80 == 0 {
        1
    } else if b & 0xC0 == 0x80 {
        1 + (b & 0x3F) as usize
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        2 + ((((b & 0x0F) as usize) << 8) | lp[p + 1] as usize)
    } else {
        match b {
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            0xF4 => 9,
            0xF0 => 5 + u32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as usize,
            _ => 1, // EOF
        }
    }
}

/// Bytes the back-length of an entry of encoded length `l` takes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

/// Redis's lpEncodeBacklen into `buf`; returns the bytes used.
fn backlen_into(buf: &mut [u8; 5], l: usize) -> usize {
    let n = backlen_size(l);
    let l = l as u64;
    // The first byte holds the highest bits without the continuation flag; every following
    // byte (read backwards first) has it.
    for i in 0..n {
        let shift = 7 * (n - 1 - i);
        let bits = ((l >> shift) & 127) as u8;
        buf[i] = if i == 0 { (l >> shift) as u8 } else { bits | 128 };
    }
    n
}

/// Reads the back-length ending at byte `end` (inclusive); None if malformed.
fn read_backlen(lp: &[u8], end: usize) -> Option<usize> {
    let mut val: usize = 0;
    let mut shift = 0;
    let mut p = end;
    loop {
        let b = *lp.get(p)?;
        val |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            return Some(val);
        }
        shift += 7;
        if shift > 28 || p == 0 {
            return None;
        }
        p -= 1;
    }
}

/// Full size of the entry at `p` (encoding, data and back-length).
pub fn entry_size(lp: &[u8], p: usize) -> usize {
    let l = encoded_len(lp, p);
    l + backlen_size(l)
}

/// Offset of the first entry, or None if empty.
pub fn first(lp: &[u8]) -> Option<usize> {
    (lp[HDR] != EOF).then_some(HDR)
}

/// Offset of the last entry, or None if empty.
pub fn last(lp: &[u8]) -> Option<usize> {
    let eof = lp.len() - 1;
    if eof == HDR {
        return None;
    }
    prev(lp, eof)
}

/// Offset of the entry after the one at `p`, or None at the end.
pub fn next(lp: &[u8], p: usize) -> Option<usize> {
    let q = p + entry_size(lp, p);
    (lp[q] != EOF).then_some(q)
}

/// Offset of the entry before position `p` (an entry or the EOF byte), or None at the start.
pub fn prev(lp: &[u8], p: usize) -> Option<usize> {
    if p <= HDR {
        return None;
    }
    let l = read_backlen(lp, p - 1)?;
    Some(p - l - backlen_size(l))
}

/// The element at `p`.
pub fn get(lp: &[u8], p: usize) -> Elem<'_> {
    let b = lp[p];
    if b & 0x80 == 0 {
        return Elem::Int(b as i64);
    }
    if b & 0xC0 == 0x80 {
        let len = (b & 0x3F) as usize;
        return Elem::Str(&lp[p + 1..p + 1 + len]);
    }
    if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as u64) << 8) | lp[p + 1] as u64;
        return Elem::Int(sign_extend(u, 13));
    }
    if b & 0xF0 == 0xE0 {
        let len = (((b & 0x0F) as usize) << 8) | lp[p + 1] as usize;
        return Elem::Str(&lp[p + 2..p + 2 + len]);
    }
    let le = |n: usize| -> u64 { (0..n).fold(0u64, |acc, i| acc | (lp[p + 1 + i] as u64) << (8 * i)) };
    match b {
        0xF1 => Elem::Int(sign_extend(le(2), 16)),
        0xF2 => Elem::Int(sign_extend(le(3), 24)),
        0xF3 => Elem::Int(sign_extend(le(4), 32)),
        0xF4 => Elem::Int(le(8) as i64),
        _ => {
            let len = le(4) as usize;
            Elem::Str(&lp[p + 5..p + 5 + len])
        }
    }
}

fn sign_extend(u: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((u << shift) as i64) >> shift
}

/// An element encoded as a listpack entry, ready to be written.
pub struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    data: &'a [u8],
}

impl<'a> Encoded<'a> {
    /// Redis's lpEncodeGetType: integers in canonical form as integers, else a string.
    pub fn new(value: &'a [u8]) -> Encoded<'a> {
        let mut head = [0u8; 9];
        if let Some(v) = string_to_i64(value) {
            let head_len = encode_int(v, &mut head);
            return Encoded { head, head_len, data: &[] };
        }
        let len = value.len();
        let head_len = if len < 64 {
            head[0] = 0x80 | len as u8;
            1
        } else if len < 4096 {
            head[0] = 0xE0 | (len >> 8) as u8;
            head[1] = (len & 0xFF) as u8;
            2
        } else {
            head[0] = 0xF0;
            head[1..5].copy_from_slice(&(len as u32).to_le_bytes());
            5
        };
        Encoded { head, head_len, data: value }
    }

    /// An integer entry (Redis's lpAppendInteger/lpReplaceInteger), without going through
    /// its decimal form.
    pub fn int(v: i64) -> Encoded<'static> {
        let mut head = [0u8; 9];
        let head_len = encode_int(v, &mut head);
        Encoded { head, head_len, data: &[] }
    }

    /// Encoding header plus data.
    pub fn encoded_len(&self) -> usize {
        self.head_len + self.data.len()
    }

    /// Everything the entry takes, back-length included.
    pub fn total(&self) -> usize {
        let l = self.encoded_len();
        l + backlen_size(l)
    }

    /// Appends the whole entry (encoding, data, back-length) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head[..self.head_len]);
        out.extend_from_slice(self.data);
        let mut back = [0u8; 5];
        let n = backlen_into(&mut back, self.encoded_len());
        out.extend_from_slice(&back[..n]);
    }
}

/// Writes Redis's integer encoding of `v` into `out`, returning its length.
fn encode_int(v: i64, out: &mut [u8; 9]) -> usize {
    if (0..=127).contains(&v) {
        out[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
        out[0] = 0xC0 | (u >> 8) as u8;
        out[1] = (u & 0xFF) as u8;
        2
    } else {
        let (tag, n) = if (-32768..=32767).contains(&v) {
            (0xF1, 2)
        } else if (-8388608..=8388607).contains(&v) {
            (0xF2, 3)
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            (0xF3, 4)
        } else {
            (0xF4, 8)
        };
        out[0] = tag;
        let bytes = (v as u64).to_le_bytes();
        out[1..1 + n].copy_from_slice(&bytes[..n]);
        1 + n
    }
}

/// Inserts `value` at byte offset `p` (an entry's offset, or the EOF byte to append).
/// `count` is the entry count after the insertion.
pub fn insert(lp: &mut Vec<u8>, p: usize, value: &[u8], count: usize) {
    insert_encoded(lp, p, &Encoded::new(value), count);
}

/// Replaces the entry at `p` with the integer `v`, in place when the encoded size does not
/// change (Redis's lpReplaceInteger).
pub fn replace_int(lp: &mut Vec<u8>, p: usize, v: i64, count: usize) {
    let enc = Encoded::int(v);
    let old = entry_size(lp, p);
    if old == enc.total() {
        let h = enc.head_len;
        lp[p..p + h].copy_from_slice(&enc.head[..h]);
        return;
    }
    lp.drain(p..p + old);
    insert_encoded(lp, p, &enc, count);
}

/// Inserts an encoded entry at byte offset `p`; `count` is the entry count after.
pub fn insert_encoded(lp: &mut Vec<u8>, p: usize, enc: &Encoded<'_>, count: usize) {
    let size = enc.total();
    let old = lp.len();
    reserve(lp, size);
    lp.resize(old + size, 0);
    lp.copy_within(p..old, p + size);
    let mut back = [0u8; 5];
    let back_len = backlen_into(&mut back, enc.encoded_len());
    let h = enc.head_len;
    let d = enc.data.len();
    let dst = &mut lp[p..p + size];
    dst[..h].copy_from_slice(&enc.head[..h]);
    dst[h..h + d].copy_from_slice(enc.data);
    dst[h + d..].copy_from_slice(&back[..back_len]);
    set_header(lp, count);
}

/// Makes room for `extra` more bytes. Redis reallocates a listpack to its exact size on
/// every change, so it occupies the allocator's size class for that size; growing to the
/// next class (rather than doubling) keeps the same footprint with fewer reallocations.
fn reserve(lp: &mut Vec<u8>, extra: usize) {
    let need = lp.len() + extra;
    if need > lp.capacity() {
        lp.reserve_exact(size_class(need) - lp.len());
    }
}

/// The allocation size class holding `n` bytes: 16-byte steps up to 128, then four classes
/// per doubling (jemalloc's spacing).
pub fn size_class(n: usize) -> usize {
    if n <= 128 {
        return (n.max(1) + 15) & !15;
    }
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = (1usize << lg) / 4;
    n.div_ceil(step) * step
}

/// Appends `value` at the end.
pub fn push_back(lp: &mut Vec<u8>, value: &[u8], count: usize) {
    let eof = lp.len() - 1;
    insert(lp, eof, value, count);
}

/// Prepends `value`.
pub fn push_front(lp: &mut Vec<u8>, value: &[u8], count: usize) {
    insert(lp, HDR, value, count);
}

/// Deletes `n` consecutive entries starting at offset `p`; `count` is the count after.
pub fn delete(lp: &mut Vec<u8>, p: usize, n: usize, count: usize) {
    let mut end = p;
    for _ in 0..n {
        if lp[end] == EOF {
            break;
        }
        end += entry_size(lp, end);
    }
    lp.drain(p..end);
    set_header(lp, count);
}

/// Replaces the entry at `p` with `value`.
pub fn replace(lp: &mut Vec<u8>, p: usize, value: &[u8], count: usize) {
    let old = entry_size(lp, p);
    lp.drain(p..p + old);
    insert(lp, p, value, count);
}

/// Offset of entry number `index` (negative: from the end) of a listpack of `count` entries.
pub fn seek(lp: &[u8], count: usize, index: i64) -> Option<usize> {
    let idx = if index < 0 { count as i64 + index } else { index };
    if idx < 0 || idx as usize >= count {
        return None;
    }
    let idx = idx as usize;
    if idx < count / 2 {
        let mut p = first(lp)?;
        for _ in 0..idx {
            p = next(lp, p)?;
        }
        Some(p)
    } else {
        let mut p = last(lp)?;
        for _ in 0..(count - 1 - idx) {
            p = prev(lp, p)?;
        }
        Some(p)
    }
}

/// The entry bytes (no header, no EOF) of entries `[from, to)`, by entry offsets
/// (`to` may be the EOF offset).
pub fn body(lp: &[u8], from: usize, to: usize) -> &[u8] {
    &lp[from..to]
}

/// A listpack from raw entry bytes and their count.
pub fn from_body(body: &[u8], count: usize) -> Vec<u8> {
    let mut lp = Vec::with_capacity(HDR + body.len() + 1);
    lp.extend_from_slice(&[0; HDR]);
    lp.extend_from_slice(body);
    lp.push(EOF);
    set_header(&mut lp, count);
    lp
}

/// Offset of the EOF byte.
pub fn eof(lp: &[u8]) -> usize {
    lp.len() - 1
}

/// Checks a listpack from outside (RESTORE, RDB): header, every entry's encoding and
/// back-length, the terminator. Returns the entry count.
pub fn validate(lp: &[u8]) -> Option<usize> {
    if lp.len() < HDR + 1 {
        return None;
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() || lp[lp.len() - 1] != EOF {
        return None;
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    let mut p = HDR;
    let mut count = 0usize;
    let end = lp.len() - 1;
    while p < end {
        let b = lp[p];
        let need = match b {
            _ if b & 0x80 == 0 => 1,
            _ if b & 0xC0 == 0x80 => 1 + (b & 0x3F) as usize,
            _ if b & 0xE0 == 0xC0 => 2,
            _ if b & 0xF0 == 0xE0 => 2 + ((((b & 0x0F) as usize) << 8) | *lp.get(p + 1)? as usize),
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            0xF4 => 9,
            0xF0 => {
                5 + u32::from_le_bytes([*lp.get(p + 1)?, *lp.get(p + 2)?, *lp.get(p + 3)?, *lp.get(p + 4)?]) as usize
            }
            _ => return None,
        };
        let size = need.checked_add(backlen_size(need))?;
        let next = p.checked_add(size)?;
        if next > end {
            return None;
        }
        if read_backlen(lp, next - 1)? != need {
            return None;
        }
        p = next;
        count += 1;
    }
    if declared != COUNT_UNKNOWN && declared != count {
        return None;
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(values: &[&[u8]]) -> Vec<u8> {
        let mut lp = new();
        for (i, v) in values.iter().enumerate() {
            push_back(&mut lp, v, i + 1);
        }
        lp
    }

    fn collect(lp: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut p = first(lp);
        while let Some(q) = p {
            out.push(get(lp, q).to_vec());
            p = next(lp, q);
        }
        out
    }

    #[test]
    fn strict_integer_parsing() {
        assert_eq!(string_to_i64(b"0"), Some(0));
        assert_eq!(string_to_i64(b"-0"), None);
        assert_eq!(string_to_i64(b"01"), None);
        assert_eq!(string_to_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(string_to_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string_to_i64(b"9223372036854775808"), None);
        assert_eq!(string_to_i64(b" 1"), None);
        assert_eq!(string_to_i64(b"-"), None);
    }

    #[test]
    fn every_encoding_round_trips_both_ways() {
        let big = vec![b'x'; 70000];
        let mid = vec![b'y'; 5000];
        let values: Vec<Vec<u8>> = vec![
            b"127".to_vec(),
            b"32767".to_vec(),
            b"2147483647".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"0".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-8388608".to_vec(),
            b"18446744073709551616".to_vec(),
            b"".to_vec(),
            vec![b'z'; 63],
            vec![b'z'; 64],
            vec![b'w'; 4095],
            mid,
            big,
        ];
        let refs: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
        let lp = build(&refs);
        assert_eq!(validate(&lp), Some(values.len()));
        assert_eq!(collect(&lp), values);
        // Backwards.
        let mut back = Vec::new();
        let mut p = last(&lp);
        while let Some(q) = p {
            back.push(get(&lp, q).to_vec());
            p = prev(&lp, q);
        }
        back.reverse();
        assert_eq!(back, values);
    }

    #[test]
    fn redis_byte_layout() {
        // Same bytes as Redis's lpAppend: 7-bit uint, 6-bit string, 13-bit int.
        let lp = build(&[b"1", b"ab", b"-1"]);
        assert_eq!(lp, vec![16, 0, 0, 0, 3, 0, 0x01, 0x01, 0x82, b'a', b'b', 0x03, 0xDF, 0xFF, 0x02, 0xFF]);
    }

    #[test]
    fn insert_delete_replace_seek() {
        let mut lp = build(&[b"a", b"b", b"c"]);
        let p = seek(&lp, 3, 1).unwrap();
        insert(&mut lp, p, b"x", 4);
        assert_eq!(collect(&lp), vec![b"a".to_vec(), b"x".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let p = seek(&lp, 4, -1).unwrap();
        replace(&mut lp, p, &[b'q'; 300], 4);
        assert_eq!(get(&lp, seek(&lp, 4, 3).unwrap()), Elem::Str(&[b'q'; 300]));
        let p = seek(&lp, 4, 0).unwrap();
        delete(&mut lp, p, 2, 2);
        assert_eq!(collect(&lp).len(), 2);
        assert_eq!(validate(&lp), Some(2));
        assert_eq!(seek(&lp, 2, 2), None);
        assert_eq!(seek(&lp, 2, -3), None);
    }

    #[test]
    fn size_classes_follow_jemalloc_spacing() {
        let classes: Vec<usize> =
            [1, 16, 17, 128, 129, 160, 161, 257, 8192, 8193].iter().map(|&n| size_class(n)).collect();
        assert_eq!(classes, vec![16, 16, 32, 128, 160, 160, 192, 320, 8192, 10240]);
    }

    #[test]
    fn validate_rejects_garbage() {
        assert_eq!(validate(&[]), None);
        assert_eq!(validate(&[7, 0, 0, 0, 0, 0, 0xFF]), Some(0));
        assert_eq!(validate(&[8, 0, 0, 0, 1, 0, 0x01, 0xFF]), None);
        assert_eq!(validate(&[9, 0, 0, 0, 1, 0, 0x01, 0x02, 0xFF]), None);
        assert_eq!(validate(&[9, 0, 0, 0, 1, 0, 0x01, 0x01, 0xFF]), Some(1));
        assert_eq!(validate(&[9, 0, 0, 0, 1, 0, 0x85, 0x01, 0xFF]), None);
    }
}
