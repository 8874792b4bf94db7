//! LZF compression (the format of Marc Lehmann's liblzf, which Redis uses for compressed
//! quicklist nodes and RDB strings), written from the format description.
//!
//! A stream is a sequence of items:
//! * `000LLLLL` then L+1 literal bytes (1 to 32);
//! * `LLLooooo [extra length] oooooooo`: a back-reference of length L+2 (L = 7 adds the extra
//!   byte) at distance `o + 1` (13 bits, up to 8 KiB back).
//!
//! The compressor is a greedy matcher over a hash of the next three bytes: any valid stream
//! decompresses with any LZF decoder, so output need not equal liblzf's byte for byte.

const HLOG: u32 = 14;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 32;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

fn hash(b: &[u8], i: usize) -> usize {
    let v = (b[i] as u32) << 16 | (b[i + 1] as u32) << 8 | b[i + 2] as u32;
    ((v.wrapping_mul(2654435761)) >> (32 - HLOG)) as usize
}

/// Compresses `input`; None if the result would not be shorter than `max_out` bytes.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n == 0 {
        return None;
    }
    let mut table = vec![0u32; HSIZE];
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n + n / 16 + 64));
    let mut lit_start = 0usize;
    let mut ip = 0usize;
    let flush_literals = |out: &mut Vec<u8>, from: usize, to: usize| {
        let mut s = from;
        while s < to {
            let run = (to - s).min(MAX_LIT);
            out.push((run - 1) as u8);
            out.extend_from_slice(&input[s..s + run]);
            s += run;
        }
    };
    while ip + 2 < n {
        let h = hash(input, ip);
        // Positions are stored +1 so that 0 means "empty".
        let candidate = table[h] as usize;
        table[h] = (ip + 1) as u32;
        if candidate > 0 {
            let r = candidate - 1;
            let off = ip - r - 1;
            if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let max_len = (n - ip).min(MAX_REF);
                let mut len = 3;
                while len < max_len && input[r + len] == input[ip + len] {
                    len += 1;
                }
                flush_literals(&mut out, lit_start, ip);
                let l = len - 2;
                if l < 7 {
                    out.push(((l as u8) << 5) | (off >> 8) as u8);
                } else {
                    out.push((7 << 5) | (off >> 8) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xFF) as u8);
                // Index the positions inside the match so later data can refer to them.
                let end = ip + len;
                let mut k = ip + 1;
                while k < end && k + 2 < n {
                    table[hash(input, k)] = (k + 1) as u32;
                    k += 1;
                }
                ip = end;
                lit_start = ip;
                if out.len() >= max_out {
                    return None;
                }
                continue;
            }
        }
        ip += 1;
        if out.len() + (ip - lit_start) + (ip - lit_start) / MAX_LIT + 1 >= max_out {
            return None;
        }
    }
    flush_literals(&mut out, lit_start, n);
    (out.len() < max_out).then_some(out)
}

/// Decompresses into exactly `out_len` bytes; None if the stream is malformed or its size
/// differs.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            len += 2;
            let low = *input.get(ip)? as usize;
            ip += 1;
            let back = ((ctrl & 0x1F) << 8) + low + 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            // Overlapping copies repeat the pattern, so copy byte by byte when they overlap.
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                for k in 0..len {
                    let b = out[start + k];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        if let Some(c) = compress(data, data.len()) {
            assert!(c.len() < data.len());
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
        }
    }

    #[test]
    fn compresses_repetitive_data_and_round_trips() {
        let data = vec![b'a'; 50000];
        let c = compress(&data, data.len()).expect("compressible");
        assert!(c.len() < 2000);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        let text: Vec<u8> = (0..20000u32).flat_map(|i| format!("item:{} ", i % 97).into_bytes()).collect();
        round_trip(&text);
        let mut rng = crate::util::rand::Rng::seeded();
        let noise: Vec<u8> = (0..5000).map(|_| rng.next_u64() as u8).collect();
        assert!(compress(&noise, noise.len()).is_none());
        round_trip(b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc");
    }

    #[test]
    fn decoder_rejects_bad_streams() {
        assert!(decompress(&[0x20, 0x00], 3).is_none());
        assert!(decompress(&[0x05, b'a'], 6).is_none());
        assert!(decompress(&[0x00, b'a'], 2).is_none());
        assert_eq!(decompress(&[0x00, b'a', 0x20, 0x00], 4).unwrap(), b"aaaa");
    }
}
