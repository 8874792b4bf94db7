//! Redis's packed encodings as they appear inside RDB files and DUMP payloads: ziplist
//! (≤ 6.2), listpack (7.0+), intset and zipmap (≤ 2.4).
//!
//! These are *wire* formats here. Decoders validate everything Redis's deep sanitization
//! (`sanitize-dump-payload yes`) validates — header sizes and counts, every entry inside the
//! buffer, back-lengths, the terminator, ordering where the format promises it — and never
//! index out of bounds, so a corrupt RESTORE payload is an error, never a panic. Encoders
//! write exactly what Redis writes for the same elements (same integer detection, same
//! smallest encodings), so a redis-server loads our files as if it had written them.

pub mod intset;
pub mod listpack;
pub mod ziplist;
pub mod zipmap;

/// One element of a packed encoding: strings that look like integers are stored as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packed<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Packed<'_> {
    /// The element as the string a client would see.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Packed::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            Packed::Str(s) => s.to_vec(),
        }
    }

    /// Length of the string form.
    pub fn str_len(self) -> usize {
        match self {
            Packed::Int(n) => itoa::Buffer::new().format(n).len(),
            Packed::Str(s) => s.len(),
        }
    }

    /// The element read as a zset score: integers exactly, strings as Redis's zzlStrtod
    /// (strtod of at most 128 bytes). None for text that is not a number or is NaN.
    pub fn to_score(self) -> Option<f64> {
        match self {
            Packed::Int(n) => Some(n as f64),
            Packed::Str(s) => {
                if s.len() > 128 {
                    return None;
                }
                let d = parse_score_text(s)?;
                (!d.is_nan()).then_some(d)
            }
        }
    }
}

/// strtod as Redis's RDB score readers use it: plain decimal/exponent text plus inf/-inf.
fn parse_score_text(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" | "-nan" | "+nan" => return None,
        _ => {}
    }
    crate::util::num::parse_f64(s).or_else(|| text.parse().ok())
}

/// A score as Redis's d2string writes it into packed zsets: an integer when the double is
/// one (in ±2^62), else `%.17g`; `inf`, `-inf`, `0`, `-0` spelled out.
pub fn score_text(d: f64) -> Vec<u8> {
    if d.is_infinite() {
        return if d < 0.0 { b"-inf".to_vec() } else { b"inf".to_vec() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { b"-0".to_vec() } else { b"0".to_vec() };
    }
    let limit = (i64::MAX / 2) as f64;
    if (-limit..=limit).contains(&d) && (d as i64) as f64 == d {
        return itoa::Buffer::new().format(d as i64).as_bytes().to_vec();
    }
    crate::util::num::format_f64(d)
}

/// Little-endian reads from a slice at an offset, None past the end.
pub(crate) fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn le_i64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_written_like_d2string() {
        assert_eq!(score_text(1.0), b"1");
        assert_eq!(score_text(-3.0), b"-3");
        assert_eq!(score_text(1.5), b"1.5");
        assert_eq!(score_text(0.1), b"0.10000000000000001");
        assert_eq!(score_text(f64::INFINITY), b"inf");
        assert_eq!(score_text(-0.0), b"-0");
        assert_eq!(score_text(1e300), b"1.0000000000000001e+300");
        assert_eq!(Packed::Str(b"inf").to_score(), Some(f64::INFINITY));
        assert_eq!(Packed::Str(b"1.5").to_score(), Some(1.5));
        assert_eq!(Packed::Str(b"nan").to_score(), None);
        assert_eq!(Packed::Str(b"x").to_score(), None);
    }
}
