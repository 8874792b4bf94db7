//! LZF compression, the format Redis uses for strings in RDB files and DUMP payloads.
//!
//! Any valid LZF stream decompresses the same, so we only need a correct compressor, not
//! Redis's exact output. The hash table is kept between calls (positions are validated
//! against the input) so compressing many small strings does not clear 64 KiB each time.

const HLOG: u32 = 14;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
/// Longest back-reference: 2 + 7 + 255 bytes.
const MAX_MATCH: usize = 264;

/// Reusable compressor state.
pub struct Compressor {
    table: Vec<u32>,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor { table: vec![0; HSIZE] }
    }
}

fn hash(v: u32) -> usize {
    ((v.wrapping_mul(2654435761)) >> (32 - HLOG)) as usize
}

impl Compressor {
    /// Compresses `input`; None unless the result is at most `max_out` bytes.
    pub fn compress(&mut self, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let n = input.len();
        if n < 3 || max_out == 0 {
            return None;
        }
        let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n + n / 16 + 8));
        // Index of the control byte of the current literal run, and its length.
        let mut lit_start = 0usize;
        let mut lit = 0usize;
        out.push(0);
        let mut ip = 0usize;
        while ip + 2 < n {
            let v = u32::from(input[ip]) << 16 | u32::from(input[ip + 1]) << 8 | u32::from(input[ip + 2]);
            let slot = hash(v);
            let candidate = self.table[slot] as usize;
            self.table[slot] = ip as u32 + 1;
            if candidate > 0 {
                let r = candidate - 1;
                let off = ip.wrapping_sub(r).wrapping_sub(1);
                if r < ip
                    && off < MAX_OFF
                    && input[r] == input[ip]
                    && input[r + 1] == input[ip + 1]
                    && input[r + 2] == input[ip + 2]
                {
                    // Extend the match.
                    let max_len = (n - ip).min(MAX_MATCH);
                    let mut len = 3;
                    while len < max_len && input[r + len] == input[ip + len] {
                        len += 1;
                    }
                    // Close the literal run (drop an empty one).
                    if lit == 0 {
                        out.pop();
                    } else {
                        out[lit_start] = (lit - 1) as u8;
                    }
                    let l = len - 2;
                    if l < 7 {
                        out.push(((l as u8) << 5) | (off >> 8) as u8);
                    } else {
                        out.push((7 << 5) | (off >> 8) as u8);
                        out.push((l - 7) as u8);
                    }
                    out.push(off as u8);
                    if out.len() + 1 > max_out {
                        return None;
                    }
                    ip += len;
                    lit_start = out.len();
                    lit = 0;
                    out.push(0);
                    continue;
                }
            }
            out.push(input[ip]);
            lit += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[lit_start] = (MAX_LIT - 1) as u8;
                lit_start = out.len();
                lit = 0;
                out.push(0);
            }
            if out.len() > max_out {
                return None;
            }
        }
        while ip < n {
            out.push(input[ip]);
            lit += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[lit_start] = (MAX_LIT - 1) as u8;
                lit_start = out.len();
                lit = 0;
                out.push(0);
            }
        }
        if lit == 0 {
            out.pop();
        } else {
            out[lit_start] = (lit - 1) as u8;
        }
        if out.len() > max_out {
            return None;
        }
        Some(out)
    }
}

/// Decompresses an LZF stream that must produce exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            if ip + len > input.len() || out.len() + len > out_len {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + len]);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            back += *input.get(ip)? as usize;
            ip += 1;
            len += 2;
            let start = out.len().checked_sub(back + 1)?;
            if out.len() + len > out_len {
                return None;
            }
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut c = Compressor::default();
        let inputs: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"hello hello hello hello world world world".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..3000u32).map(|i| ((i * 7919) % 256) as u8).collect(),
            b"abcabcabcabcabcabcxyzxyzxyzabcabc".repeat(50),
        ];
        for input in inputs {
            if let Some(z) = c.compress(&input, input.len() - 1) {
                assert!(z.len() < input.len());
                assert_eq!(decompress(&z, input.len()).unwrap(), input);
            }
        }
        let z = c.compress(&b"x".repeat(1000), 996).unwrap();
        assert!(z.len() < 30);
        assert!(decompress(&z, 999).is_none());
        assert!(decompress(&[0xe0, 0xff, 0xff], 10).is_none());
    }

    /// A stream written by Redis's liblzf: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is
    /// one literal and one long back-reference.
    #[test]
    fn decodes_liblzf_back_references() {
        let z = [0x00, b'a', 0xe0, 0x26, 0x00];
        assert_eq!(decompress(&z, 1 + 47).unwrap(), vec![b'a'; 48]);
    }
}
