//! Stream entry IDs: a 128-bit number written `<ms>-<seq>`, ordered as (ms, seq).
//!
//! Parsing follows Redis's streamGenericParseIDOrReply exactly, including its use of
//! `string2ull`: the strict integer form first, then C's `strtoull` (which accepts leading
//! blanks and a sign, and wraps a negative number). Both halves are unsigned 64-bit.

use std::fmt::Write as _;

/// A stream entry ID. The derived order (ms, then seq) is the stream's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, or None past the last possible one (Redis's streamIncrID failing).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId { ms: self.ms, seq: self.seq + 1 })
        } else if self.ms < u64::MAX {
            Some(StreamId { ms: self.ms + 1, seq: 0 })
        } else {
            None
        }
    }

    /// The previous ID, or None before 0-0 (Redis's streamDecrID failing).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId { ms: self.ms, seq: self.seq - 1 })
        } else if self.ms > 0 {
            Some(StreamId { ms: self.ms - 1, seq: u64::MAX })
        } else {
            None
        }
    }

    /// The 128-bit big-endian form Redis uses as radix-tree keys and in RDB files.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId { ms: u64::from_be_bytes(ms), seq: u64::from_be_bytes(seq) }
    }

    /// `<ms>-<seq>` as bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut s = String::with_capacity(41);
        let _ = write!(s, "{}-{}", self.ms, self.seq);
        s.into_bytes()
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// How an ID argument may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOpts {
    /// The sequence when only `<ms>` is given.
    pub missing_seq: u64,
    /// Reject `-` and `+` (Redis's "strict" IDs).
    pub strict: bool,
    /// Accept `<ms>-*` (XADD), reported as `seq_given == false`.
    pub seq_auto: bool,
}

/// A parsed ID and whether its sequence was given (false only for `<ms>-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Redis's streamGenericParseIDOrReply; `None` is "Invalid stream ID specified as stream
/// command argument".
pub fn parse(arg: &[u8], opts: ParseOpts) -> Option<Parsed> {
    if arg.len() > 127 {
        return None;
    }
    // Redis copies the argument into a C string: a NUL byte ends it.
    let buf = match arg.iter().position(|&c| c == 0) {
        Some(n) => &arg[..n],
        None => arg,
    };
    if opts.strict && (buf == b"-" || buf == b"+") {
        return None;
    }
    if buf == b"-" {
        return Some(Parsed { id: StreamId::MIN, seq_given: true });
    }
    if buf == b"+" {
        return Some(Parsed { id: StreamId::MAX, seq_given: true });
    }
    let (ms_part, seq_part) = match buf.iter().position(|&c| c == b'-') {
        Some(dash) => (&buf[..dash], Some(&buf[dash + 1..])),
        None => (buf, None),
    };
    let ms = string_to_u64(ms_part)?;
    let (seq, seq_given) = match seq_part {
        Some(b"*") if opts.seq_auto => (0, false),
        Some(s) => (string_to_u64(s)?, true),
        None => (opts.missing_seq, true),
    };
    Some(Parsed { id: StreamId { ms, seq }, seq_given })
}

/// Redis's string2ull: the strict signed form (negative values rejected), else `strtoull`
/// base 10 over the whole string.
pub fn string_to_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::num::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    strtoull(s)
}

/// C's `strtoull(s, &end, 10)` requiring the whole string to be consumed: leading
/// whitespace, an optional sign (a minus negates modulo 2^64), at least one digit; ERANGE on
/// overflow is a failure.
fn strtoull(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        match v.checked_mul(10).and_then(|x| x.checked_add((s[i] - b'0') as u64)) {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start || i != s.len() || overflow {
        return None;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOSE: ParseOpts = ParseOpts { missing_seq: 0, strict: false, seq_auto: false };

    fn id(s: &str) -> Option<StreamId> {
        parse(s.as_bytes(), LOOSE).map(|p| p.id)
    }

    #[test]
    fn parses_like_redis() {
        assert_eq!(id("1-2"), Some(StreamId::new(1, 2)));
        assert_eq!(id("5"), Some(StreamId::new(5, 0)));
        assert_eq!(id("-"), Some(StreamId::MIN));
        assert_eq!(id("+"), Some(StreamId::MAX));
        assert_eq!(id("18446744073709551615-18446744073709551615"), Some(StreamId::MAX));
        assert_eq!(id("18446744073709551616"), None);
        assert_eq!(id("-1"), None);
        assert_eq!(id("1-2-3"), None);
        assert_eq!(id(""), None);
        assert_eq!(id("abc"), None);
        assert_eq!(id("1-*"), None);
        // strtoull leniency: leading zeros, blanks, signs.
        assert_eq!(id("007-01"), Some(StreamId::new(7, 1)));
        assert_eq!(id("+5"), Some(StreamId::new(5, 0)));
        assert_eq!(id(" 5"), Some(StreamId::new(5, 0)));
        assert_eq!(id("5 "), None);
        assert_eq!(id("1\0junk"), Some(StreamId::new(1, 0)));
        let strict = ParseOpts { strict: true, ..LOOSE };
        assert_eq!(parse(b"-", strict), None);
        assert_eq!(parse(b"+", strict), None);
        let auto = ParseOpts { seq_auto: true, ..LOOSE };
        assert_eq!(parse(b"7-*", auto), Some(Parsed { id: StreamId::new(7, 0), seq_given: false }));
        let max_seq = ParseOpts { missing_seq: u64::MAX, ..LOOSE };
        assert_eq!(parse(b"7", max_seq).map(|p| p.id), Some(StreamId::new(7, u64::MAX)));
    }

    #[test]
    fn increments_and_byte_order() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
        let a = StreamId::new(1, 5);
        assert_eq!(StreamId::from_be_bytes(&a.to_be_bytes()), a);
        assert!(StreamId::new(1, 5).to_be_bytes() < StreamId::new(2, 0).to_be_bytes());
        assert_eq!(StreamId::new(12, 3).to_bytes(), b"12-3".to_vec());
    }
}
