//! Ziplist (Redis ≤ 6.2): `<zlbytes u32><zltail u32><zllen u16> <entry>... <0xFF>`, each
//! entry being `<prevlen><encoding><data>`. Read only: Redis 7 converts ziplists to
//! listpacks on load and never writes them.

use super::{le_i64, le_u16, le_u32, Packed};

const HEADER: usize = 10;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 254;

/// Decodes the entry at `p`: (prevlen, header size, element, data size).
fn entry_at(zl: &[u8], p: usize) -> Option<(usize, usize, Packed<'_>, usize)> {
    let (prevlen, prev_size) = match *zl.get(p)? {
        BIG_PREVLEN => (le_u32(zl, p + 1)? as usize, 5),
        n => (n as usize, 1),
    };
    let q = p + prev_size;
    let enc = *zl.get(q)?;
    let int = |n: usize| -> Option<u64> {
        let b = zl.get(q + 1..q + 1 + n)?;
        Some(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    let sign = |v: u64, bits: u32| ((v << (64 - bits)) as i64) >> (64 - bits);
    let (hdr, elem, data) = match enc >> 6 {
        0 => {
            let len = (enc & 0x3f) as usize;
            (1, Packed::Str(zl.get(q + 1..q + 1 + len)?), len)
        }
        1 => {
            let len = (((enc & 0x3f) as usize) << 8) | *zl.get(q + 1)? as usize;
            (2, Packed::Str(zl.get(q + 2..(q + 2).checked_add(len)?)?), len)
        }
        2 => {
            if enc != 0x80 {
                return None;
            }
            let b = zl.get(q + 1..q + 5)?;
            let len = u32::from_be_bytes(b.try_into().ok()?) as usize;
            (5, Packed::Str(zl.get(q + 5..(q + 5).checked_add(len)?)?), len)
        }
        _ => match enc {
            0xc0 => (1, Packed::Int(sign(int(2)?, 16)), 2),
            0xd0 => (1, Packed::Int(sign(int(4)?, 32)), 4),
            0xe0 => (1, Packed::Int(le_i64(zl, q + 1)?), 8),
            0xf0 => (1, Packed::Int(sign(int(3)?, 24)), 3),
            0xfe => (1, Packed::Int(sign(int(1)?, 8)), 1),
            0xf1..=0xfd => (1, Packed::Int((enc & 0x0f) as i64 - 1), 0),
            _ => return None,
        },
    };
    Some((prevlen, prev_size + hdr, elem, data))
}

/// Every element of a ziplist, validated like ziplistValidateIntegrity with deep checks:
/// sizes, the tail offset, each entry's prevlen, the terminator and the count.
pub fn decode(zl: &[u8]) -> Option<Vec<Packed<'_>>> {
    if zl.len() < HEADER + 1 || le_u32(zl, 0)? as usize != zl.len() || zl[zl.len() - 1] != END {
        return None;
    }
    let tail = le_u32(zl, 4)? as usize;
    if tail > zl.len() - 1 {
        return None;
    }
    let declared = le_u16(zl, 8)?;
    let end = zl.len() - 1;
    let mut out = Vec::new();
    let mut p = HEADER;
    let mut prev_size = 0;
    let mut last = None;
    while *zl.get(p)? != END {
        let (prevlen, header, elem, data) = entry_at(zl, p)?;
        if prevlen != prev_size {
            return None;
        }
        let size = header + data;
        if p + size > end {
            return None;
        }
        out.push(elem);
        last = Some(p);
        prev_size = size;
        p += size;
    }
    if p != end || last.is_some_and(|l| l != tail) || (declared != u16::MAX && declared as usize != out.len()) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ziplist as Redis 6 would write it (test helper; Spinel never writes ziplists).
    pub fn build(items: &[Packed<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = HEADER;
        for it in items {
            let start = body.len();
            tail = HEADER + start;
            if prev < BIG_PREVLEN as usize {
                body.push(prev as u8);
            } else {
                body.push(BIG_PREVLEN);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *it {
                Packed::Int(v) if (0..=12).contains(&v) => body.push(0xf1 + v as u8),
                Packed::Int(v) if (-128..=127).contains(&v) => body.extend_from_slice(&[0xfe, v as u8]),
                Packed::Int(v) if (-32768..=32767).contains(&v) => {
                    body.push(0xc0);
                    body.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Packed::Int(v) if (-8388608..=8388607).contains(&v) => {
                    body.push(0xf0);
                    body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Packed::Int(v) if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => {
                    body.push(0xd0);
                    body.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Packed::Int(v) => {
                    body.push(0xe0);
                    body.extend_from_slice(&v.to_le_bytes());
                }
                Packed::Str(s) if s.len() < 64 => {
                    body.push(s.len() as u8);
                    body.extend_from_slice(s);
                }
                Packed::Str(s) if s.len() < 16384 => {
                    body.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]);
                    body.extend_from_slice(s);
                }
                Packed::Str(s) => {
                    body.push(0x80);
                    body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    body.extend_from_slice(s);
                }
            }
            prev = body.len() - start;
        }
        let mut zl = Vec::new();
        zl.extend_from_slice(&((HEADER + body.len() + 1) as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    #[test]
    fn decodes_every_entry_kind() {
        let long = vec![b'q'; 300];
        let huge = vec![b'h'; 17000];
        let items = [
            Packed::Int(0),
            Packed::Int(12),
            Packed::Int(-5),
            Packed::Int(1000),
            Packed::Int(-100000),
            Packed::Int(1 << 30),
            Packed::Int(1 << 40),
            Packed::Str(b"hello"),
            Packed::Str(&long),
            Packed::Str(&huge),
            Packed::Str(b""),
        ];
        let zl = build(&items);
        assert_eq!(decode(&zl).unwrap(), items);
        for i in 0..zl.len().min(400) {
            let mut bad = zl.clone();
            bad[i] ^= 0x55;
            let _ = decode(&bad);
            let _ = decode(&zl[..i]);
        }
    }
}
