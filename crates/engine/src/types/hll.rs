//! HyperLogLog values in Redis's exact byte format, so a value written by redis-server (GET,
//! DUMP, RDB) and one written here are interchangeable.
//!
//! A HyperLogLog is a plain string: a 16-byte header (`HYLL`, an encoding byte, three unused
//! bytes and a little-endian cached cardinality whose top bit marks the cache stale) followed by
//! 16384 six-bit registers, either *dense* (12288 packed bytes, least significant bits first) or
//! *sparse* (run-length opcodes: `00xxxxxx` ZERO run of 1..64, `01xxxxxx yyyyyyyy` XZERO run
//! of 1..16384, `1vvvvvxx` VAL run of 1..4 registers holding 1..32). A sparse value turns dense
//! when a register needs more than 32 or the string would outgrow `hll-sparse-max-bytes`.
//!
//! Values come from clients (SETRANGE can corrupt them at will), so every read here is bounds
//! checked. Where Redis would read one byte past the end of the string it reads the sds
//! terminator, a zero; [`at`] does the same so corrupted values behave as they do in Redis.
//! Runs that would cover registers past the 16384th make a value corrupted wherever sparse data
//! is decoded, as in the redis-server 7.0.15 we compare with (Debian's build carries the
//! CVE-2025-32023 fix, which rejects them; the plain 7.0.15 source merely stopped at them).
//! Cardinality uses Redis 7's estimator (Ertl's improved raw estimator) in the same floating
//! point order, so counts are identical.

pub const HDR_SIZE: usize = 16;
pub const P: u32 = 14;
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
pub const BITS: usize = 6;
pub const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
const SEED: u32 = 0xadc8_3b19;

/// The byte at `i`, or 0 past the end (where Redis reads the sds terminator).
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// A decoded sparse opcode: `(is_val, value, run length, opcode bytes)`.
#[inline]
fn sparse_op(s: &[u8], i: usize) -> (bool, u8, usize, usize) {
    let b = s[i];
    if b & 0xc0 == 0 {
        (false, 0, (b & 0x3f) as usize + 1, 1)
    } else if b & 0x80 == 0 {
        (false, 0, ((((b & 0x3f) as usize) << 8) | at(s, i + 1) as usize) + 1, 2)
    } else {
        (true, ((b >> 2) & 0x1f) + 1, (b & 3) as usize + 1, 1)
    }
}

fn val_op(value: u8, len: usize) -> u8 {
    (((value - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn push_zero_run(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        out.push((l >> 8) as u8 | 0x40);
        out.push((l & 0xff) as u8);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Redis's MurmurHash64A (little-endian word reads, as on x86).
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = (seed as u64) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000…1` pattern (1..=Q+1).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of a dense register array.
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = at(regs, byte) as u32;
    let b1 = at(regs, byte + 1) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

#[inline]
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b &= !((REGISTER_MAX as u32) << fb) as u8;
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Calls `f` with every register of a dense array in order, four registers per three bytes
/// (the hot path of merges and counts).
#[inline]
fn for_each_dense(regs: &[u8], mut f: impl FnMut(usize, u8)) {
    for (k, c) in regs.chunks_exact(3).take(REGISTERS / 4).enumerate() {
        let (b0, b1, b2) = (c[0], c[1], c[2]);
        let i = k * 4;
        f(i, b0 & 63);
        f(i + 1, ((b0 >> 6) | (b1 << 2)) & 63);
        f(i + 2, ((b1 >> 4) | (b2 << 4)) & 63);
        f(i + 3, b2 >> 2);
    }
}

/// Raises register `i` to `count`; true if it changed.
pub fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

/// A new, empty HyperLogLog (sparse, as Redis always creates them).
pub fn create() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR_SIZE + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.resize(HDR_SIZE, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_LEN);
        push_zero_run(&mut s, run);
        left -= run;
    }
    s
}

/// Redis's isHLLObjectOrReply test on the bytes.
pub fn is_valid(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE && &s[..4] == b"HYLL" && s[4] <= SPARSE && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

pub fn encoding(s: &[u8]) -> u8 {
    s[4]
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// The cached cardinality, if valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    if s[15] & 0x80 != 0 {
        return None;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[8..16]);
    Some(u64::from_le_bytes(b))
}

pub fn set_cached(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Converts a sparse value to dense in place. Err if the sparse data is corrupted (the value
/// is then left unchanged).
pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), ()> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let (is_val, value, run, oplen) = sparse_op(s, p);
        if run + idx > REGISTERS {
            return Err(());
        }
        if is_val {
            for r in idx..idx + run {
                dense_set(regs, r, value);
            }
        }
        idx += run;
        p += oplen;
    }
    if idx != REGISTERS {
        return Err(());
    }
    *s = dense;
    Ok(())
}

/// Raises register `index` of a sparse value to `count` (Redis's hllSparseSet): Ok(true) if
/// it changed, Ok(false) if not, Err on corrupted data. May promote the value to dense.
pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, ()> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = s.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let (_, _, run, oplen) = sparse_op(s, p);
        span = run;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(());
    }
    let (is_val, curval, runlen, oldlen) = sparse_op(s, p);
    let is_zero = !is_val && oldlen == 1;
    if is_val {
        if curval >= count {
            return Ok(false);
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            merge_adjacent(s, prev);
            invalidate_cache(s);
            return Ok(true);
        }
    }
    if is_zero && runlen == 1 {
        s[p] = val_op(count, 1);
        merge_adjacent(s, prev);
        invalidate_cache(s);
        return Ok(true);
    }
    // Step 2: split the opcode into up to three.
    let last = first + span - 1;
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    if is_val {
        if index != first {
            seq.push(val_op(curval, index - first));
        }
        seq.push(val_op(count, 1));
        if index != last {
            seq.push(val_op(curval, last - index));
        }
    } else {
        if index != first {
            push_zero_run(&mut seq, index - first);
        }
        seq.push(val_op(count, 1));
        if index != last {
            push_zero_run(&mut seq, last - index);
        }
    }
    let delta = seq.len() as isize - oldlen as isize;
    if delta > 0 && (s.len() as isize + delta) as usize > max_bytes {
        return promote(s, index, count);
    }
    // Step 3: splice. An XZERO cut short by the end of a corrupted string keeps Redis's
    // resulting length (old length + delta).
    let new_len = (s.len() as isize + delta) as usize;
    let old_end = (p + oldlen).min(s.len());
    s.splice(p..old_end, seq.iter().copied());
    s.truncate(new_len);
    merge_adjacent(s, prev);
    invalidate_cache(s);
    Ok(true)
}

/// Step 4 of hllSparseSet: merge adjacent VAL opcodes of equal value, scanning up to five
/// opcodes from `prev`.
fn merge_adjacent(s: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let b = s[p];
        if b & 0xc0 == 0x40 {
            p += 2;
            continue;
        } else if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < s.len() && s[p + 1] & 0x80 != 0 {
            let (_, v1, l1, _) = sparse_op(s, p);
            let (_, v2, l2, _) = sparse_op(s, p + 1);
            if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                s[p + 1] = val_op(v1, l1 + l2);
                s.remove(p);
                continue;
            }
        }
        p += 1;
    }
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, ()> {
    sparse_to_dense(s)?;
    dense_raise(&mut s[HDR_SIZE..], index, count);
    Ok(true)
}

/// Adds an element (Redis's hllAdd): Ok(true) if a register changed, Err if corrupted.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, ()> {
    let (index, count) = pat_len(ele);
    match s[4] {
        DENSE => Ok(dense_raise(&mut s[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(()),
    }
}

/// Merges registers into `max` (Redis's hllMerge). Err on corrupted sparse data.
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), ()> {
    if s[4] == DENSE {
        for_each_dense(&s[HDR_SIZE..], |i, v| {
            if v > max[i] {
                max[i] = v;
            }
        });
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let (is_val, value, run, oplen) = sparse_op(s, p);
        if run + i > REGISTERS {
            return Err(());
        }
        if is_val {
            for m in &mut max[i..i + run] {
                if value > *m {
                    *m = value;
                }
            }
        }
        i += run;
        p += oplen;
    }
    if i != REGISTERS {
        return Err(());
    }
    Ok(())
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Ertl, arXiv:1702.01284, as Redis computes it).
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The cardinality of a value; None if its sparse data does not cover exactly 16384
/// registers (corrupted).
pub fn count(s: &[u8]) -> Option<u64> {
    let mut histo = [0u64; 64];
    if s[4] == DENSE {
        for_each_dense(&s[HDR_SIZE..], |_, v| histo[v as usize] += 1);
    } else {
        let mut idx = 0usize;
        let mut p = HDR_SIZE;
        while p < s.len() {
            let (is_val, value, run, oplen) = sparse_op(s, p);
            if run + idx > REGISTERS {
                return None;
            }
            histo[if is_val { value as usize } else { 0 }] += run as u64;
            idx += run;
            p += oplen;
        }
        if idx != REGISTERS {
            return None;
        }
    }
    Some(estimate(&histo))
}

/// The cardinality of raw byte-per-register registers (PFCOUNT of several keys).
pub fn count_raw(regs: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in regs.iter() {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// PFDEBUG DECODE's text for a sparse value.
pub fn decode(s: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut p = HDR_SIZE;
    while p < s.len() {
        let (is_val, value, run, oplen) = sparse_op(s, p);
        let _ = if is_val {
            write!(out, "v:{value},{run} ")
        } else if oplen == 1 {
            write!(out, "z:{run} ")
        } else {
            write!(out, "Z:{run} ")
        };
        p += oplen;
    }
    out.trim_matches(' ').to_string()
}

/// PFSELFTEST: registers keep their values, and sparse and dense estimates agree and stay
/// within bounds. Err carries Redis's TESTFAILED message.
pub fn self_test(rng: &mut crate::util::rand::Rng, max_bytes: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    let mut expect = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        let regs = &mut dense[HDR_SIZE..];
        for (i, e) in expect.iter_mut().enumerate() {
            let r = (rng.next_u64() & REGISTER_MAX as u64) as u8;
            *e = r;
            dense_set(regs, i, r);
        }
        for (i, &e) in expect.iter().enumerate() {
            let v = dense_get(regs, i);
            if v != e {
                return Err(format!("TESTFAILED Register {i} should be {e} but is {v}"));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse = create();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next_u64();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, cnt) = pat_len(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, cnt);
        add(&mut sparse, &ele, max_bytes).map_err(|_| "TESTFAILED sparse add failed".to_string())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dense_card = count(&dense).unwrap_or(0);
        if Some(dense_card) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - dense_card as i64).unsigned_abs();
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_value_matches_redis() {
        let s = create();
        assert_eq!(s, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert_eq!(count(&s), Some(0));
        assert_eq!(decode(&s), "Z:16384");
    }

    #[test]
    fn murmur_matches_redis_vectors() {
        // Redis: PFADD of these single elements sets these registers (checked against
        // redis-server 7.0.15 through PFDEBUG DECODE).
        let mut s = create();
        for e in [&b"a"[..], b"b", b"c", b"d", b"e", b"f", b"g", b"1", b"2", b"3", b"hello", b"world"] {
            add(&mut s, e, 3000).unwrap();
        }
        let hex: String = s.iter().map(|b| format!("{b:02x}")).collect();
        let redis = "48594c4c010000000c00000000000000466d8044468851c48040e9804351843880430a8046db8046c884498c8040d48c419780425a";
        // The cache differs (Redis's PFCOUNT wrote 12 there); the registers must match.
        assert_eq!(&hex[32..], &redis[32..]);
        assert_eq!(count(&s), Some(12));
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        let mut s = create();
        let mut d = create();
        sparse_to_dense(&mut d).unwrap();
        for i in 0..5000u32 {
            let e = i.to_string();
            let a = add(&mut s, e.as_bytes(), 3000).unwrap();
            let b = add(&mut d, e.as_bytes(), 3000).unwrap();
            assert_eq!(a, b, "element {i}");
            assert_eq!(count(&s), count(&d));
        }
        assert_eq!(s[4], DENSE);
        assert_eq!(s.len(), DENSE_SIZE);
        assert_eq!(&s[16..], &d[16..]);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
        let mut seen = 0;
        for_each_dense(&regs, |i, v| {
            assert_eq!(v, (i % 64) as u8);
            seen += 1;
        });
        assert_eq!(seen, REGISTERS);
    }

    #[test]
    fn corrupted_sparse_is_detected_not_crashing() {
        let mut s = create();
        s.push(0x40); // a truncated XZERO
        assert_eq!(count(&s), None);
        assert!(sparse_to_dense(&mut s.clone()).is_err());
        let mut short = create();
        short.truncate(HDR_SIZE + 1);
        assert!(add(&mut short, b"x", 3000).is_err() || count(&short).is_none());
        let mut max = [0u8; REGISTERS];
        assert!(merge_into(&mut max, &s).is_err());
    }
}
