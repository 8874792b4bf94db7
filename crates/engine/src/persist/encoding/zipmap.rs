//! Zipmap (Redis ≤ 2.4 small hashes): `<count u8> (<len>field<len><free>value<free bytes>)...
//! <0xFF>`, lengths one byte below 254 or `254` plus a 32-bit length. Read only.

const BIGLEN: u8 = 254;
const END: u8 = 0xff;

fn length_at(zm: &[u8], p: usize) -> Option<(usize, usize)> {
    match *zm.get(p)? {
        BIGLEN => Some((super::le_u32(zm, p + 1)? as usize, 5)),
        END => None,
        n => Some((n as usize, 1)),
    }
}

/// The field/value pairs, validated like zipmapValidateIntegrity (deep): entries inside the
/// buffer, not empty, the terminator last, the count (when below 254) right.
pub fn decode(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    if zm.len() < 2 || zm[zm.len() - 1] != END {
        return None;
    }
    let end = zm.len() - 1;
    let mut out = Vec::new();
    let mut p = 1;
    while *zm.get(p)? != END {
        let (flen, s) = length_at(zm, p)?;
        p += s;
        let field = zm.get(p..p.checked_add(flen)?)?;
        p += flen;
        let (vlen, s) = length_at(zm, p)?;
        p += s;
        let free = *zm.get(p)? as usize;
        p += 1;
        let value = zm.get(p..p.checked_add(vlen)?)?;
        p += vlen + free;
        if p > end {
            return None;
        }
        out.push((field, value));
    }
    if out.is_empty() || (zm[0] < BIGLEN && zm[0] as usize != out.len()) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_free_space_and_rejects_garbage() {
        let zm = b"\x02\x03foo\x03\x01barX\x01a\x00\x00\xff";
        assert_eq!(decode(zm).unwrap(), vec![(&b"foo"[..], &b"bar"[..]), (&b"a"[..], &b""[..])]);
        assert!(decode(b"\x01\xff").is_none());
        assert!(decode(b"\x03\x03foo\x03\x01barX\x01a\x00\x00\xff").is_none());
        assert!(decode(b"\x01\x03foo\x09\x00bar\xff").is_none());
    }
}
