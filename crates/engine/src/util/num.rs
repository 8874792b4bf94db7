//! Number parsing and formatting exactly as Redis does it.
//!
//! Integers: `string2ll` (re-exported from the codec). Doubles: `strtod` with Redis's checks,
//! printed `%.17g`. Long doubles (INCRBYFLOAT): C `long double` through a tiny C helper,
//! because Rust has no 80-bit float and the results must match digit for digit.

pub use spinel_resp::parse_i64;

#[repr(C)]
#[derive(Clone, Copy)]
struct RawLd {
    bytes: [u8; 16],
}

extern "C" {
    fn spinel_ld_parse(s: *const u8, len: usize, out: *mut RawLd) -> i32;
    fn spinel_ld_from_i64(n: i64, out: *mut RawLd);
    fn spinel_ld_add(a: *const RawLd, b: *const RawLd, out: *mut RawLd) -> i32;
    fn spinel_ld_format_human(v: *const RawLd, buf: *mut u8, len: usize) -> usize;
    fn spinel_ld_format_auto(v: *const RawLd, buf: *mut u8, len: usize) -> usize;
    fn spinel_parse_double(s: *const u8, len: usize, out: *mut f64) -> i32;
}

/// A C `long double`.
#[derive(Clone, Copy)]
pub struct LongDouble(RawLd);

impl LongDouble {
    /// Redis's `string2ld`.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        let mut out = RawLd { bytes: [0; 16] };
        // SAFETY: the helper copies at most `len` bytes and writes `out`.
        (unsafe { spinel_ld_parse(s.as_ptr(), s.len(), &mut out) } == 1).then_some(LongDouble(out))
    }

    pub fn from_i64(n: i64) -> LongDouble {
        let mut out = RawLd { bytes: [0; 16] };
        // SAFETY: writes `out`.
        unsafe { spinel_ld_from_i64(n, &mut out) };
        LongDouble(out)
    }

    /// The sum, or None if it is NaN or infinite.
    pub fn checked_add(&self, other: &LongDouble) -> Option<LongDouble> {
        let mut out = RawLd { bytes: [0; 16] };
        // SAFETY: reads both operands, writes `out`.
        (unsafe { spinel_ld_add(&self.0, &other.0, &mut out) } == 1).then_some(LongDouble(out))
    }

    /// `%.17Lf` without trailing zeros: what INCRBYFLOAT stores and replies.
    pub fn to_human(&self) -> Vec<u8> {
        let mut buf = [0u8; 5200];
        // SAFETY: the helper writes at most `len` bytes.
        let n = unsafe { spinel_ld_format_human(&self.0, buf.as_mut_ptr(), buf.len()) };
        buf[..n].to_vec()
    }

    /// `%.17Lg`.
    pub fn to_auto(&self) -> Vec<u8> {
        let mut buf = [0u8; 5200];
        // SAFETY: the helper writes at most `len` bytes.
        let n = unsafe { spinel_ld_format_auto(&self.0, buf.as_mut_ptr(), buf.len()) };
        buf[..n].to_vec()
    }
}

/// Redis's `string2d`: the whole string must be a double (no spaces, no NaN, no overflow).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut stack = [0u8; 128];
    let mut heap = Vec::new();
    let z: &[u8] = if s.len() < stack.len() {
        stack[..s.len()].copy_from_slice(s);
        &stack[..=s.len()]
    } else {
        heap.extend_from_slice(s);
        heap.push(0);
        &heap
    };
    let mut out = 0.0;
    // SAFETY: `z` is NUL-terminated; strtod stops at the NUL at the latest.
    (unsafe { spinel_parse_double(z.as_ptr(), s.len(), &mut out) } == 1).then_some(out)
}

/// `%.17g` text of a double, as Redis's replies and `d2string` use (integers print plainly).
pub fn format_f64(d: f64) -> Vec<u8> {
    let mut buf = [0u8; 32];
    let n = spinel_resp::write::format_g17(d, &mut buf);
    buf[..n].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incrbyfloat_uses_long_double_semantics() {
        let a = LongDouble::parse(b"10.5").unwrap();
        let b = LongDouble::parse(b"0.1").unwrap();
        assert_eq!(a.checked_add(&b).unwrap().to_human(), b"10.6");
        let big = LongDouble::parse(b"5.0e3").unwrap();
        assert_eq!(big.to_human(), b"5000");
        assert!(LongDouble::parse(b" 1").is_none());
        assert!(LongDouble::parse(b"nan").is_none());
        assert!(LongDouble::parse(b"1x").is_none());
        let inf = LongDouble::parse(b"inf").unwrap();
        assert!(inf.checked_add(&LongDouble::from_i64(1)).is_none());
        assert_eq!(LongDouble::parse(b"-0.0").unwrap().to_human(), b"0");
    }

    #[test]
    fn parse_f64_is_string2d() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b"1\0"), None);
    }
}

/// A percentile as Redis prints it in latencystats keys: `50`, `99`, `99.9` (`%f` without
/// trailing zeros).
pub fn format_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
