//! Intset: `<encoding u32: 2|4|8><length u32> <sorted little-endian integers>`.

use super::le_u32;

/// The integers, validated like intsetValidateIntegrity (deep): a known width, the size
/// matching the count, not empty, strictly ascending.
pub fn decode(is: &[u8]) -> Option<Vec<i64>> {
    let width = le_u32(is, 0)? as usize;
    if !matches!(width, 2 | 4 | 8) {
        return None;
    }
    let count = le_u32(is, 4)? as usize;
    if count == 0 || count.checked_mul(width)?.checked_add(8)? != is.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for chunk in is[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes([chunk[0], chunk[1]]) as i64,
            4 => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as i64,
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if out.last().is_some_and(|&prev| prev >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// An intset of `sorted` (ascending, distinct) integers, in the narrowest width that holds
/// them all, as Redis keeps it.
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let width: usize = match sorted.iter().fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v))) {
        (lo, hi) if lo >= i16::MIN as i64 && hi <= i16::MAX as i64 => 2,
        (lo, hi) if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 => 4,
        _ => 8,
    };
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_validates() {
        for set in [vec![1, 2, 3], vec![-70000, 5], vec![i64::MIN, 0, i64::MAX]] {
            assert_eq!(decode(&encode(&set)).unwrap(), set);
        }
        assert_eq!(encode(&[1, 2]), b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00");
        assert!(decode(&encode(&[2, 1])).is_none());
        assert!(decode(&encode(&[])).is_none());
        assert!(decode(b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00").is_none());
        assert!(decode(&encode(&[1, 2])[..11]).is_none());
    }
}
