//! Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP. BITFIELD is in
//! [`super::bitfield`].
//!
//! Bitmaps are ordinary strings, bit 0 being the most significant bit of the first byte. An
//! integer-encoded string reads as its decimal text; writing turns the value into a `raw`
//! string first, as Redis does. Offsets are limited by `proto-max-bulk-len`.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::cmd::string::as_string;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::keyspace::{StrRef, Value, ValueRef};
use crate::reply::Reply;

const BITMAP: u64 = acl::BITMAP;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: WRITE | DENYOOM,
        acl: BITMAP,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(setbit),
        group: Group::Bitmap,
        since: "2.2.0",
        summary: "Sets or clears the bit at offset in the string value stored at key",
        complexity: "O(1)",
        args: "key:key offset:integer value:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: READONLY | FAST,
        acl: BITMAP,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(getbit),
        group: Group::Bitmap,
        since: "2.2.0",
        summary: "Returns the bit value at offset in the string value stored at key",
        complexity: "O(1)",
        args: "key:key offset:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: READONLY,
        acl: BITMAP,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(bitcount),
        group: Group::Bitmap,
        since: "2.6.0",
        summary: "Count set bits in a string",
        complexity: "O(N)",
        args: "key:key index=[start:integer end:integer index_unit=[BYTE|BIT]{7.0.0}]",
        history: &[("7.0.0", "Added the `BYTE|BIT` option.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: READONLY,
        acl: BITMAP,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(bitpos),
        group: Group::Bitmap,
        since: "2.8.7",
        summary: "Find first bit set or clear in a string",
        complexity: "O(N)",
        args: "key:key bit:integer index=[start:integer end_index=[end:integer index_unit=[BYTE|BIT]{7.0.0}]]",
        history: &[("7.0.0", "Added the `BYTE|BIT` option.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: WRITE | DENYOOM,
        acl: BITMAP,
        key_specs: &[KeySpec::one(2, key::OW | key::UPDATE), KeySpec::range(3, -1, 1, key::RO | key::ACCESS)],
        handler: Some(bitop),
        group: Group::Bitmap,
        since: "2.6.0",
        summary: "Perform bitwise operations between strings",
        complexity: "O(N)",
        args: "operation destkey:key key:key...",
        ..CommandSpec::DEFAULT
    },
];

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// Redis's getBitOffsetFromArgument: a bit offset below `proto-max-bulk-len` bytes. With
/// `bits` > 0 (BITFIELD), `#N` means the N-th field of that width.
pub fn bit_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> CmdResult<u64> {
    let by_field = bits > 0 && arg.first() == Some(&b'#');
    let digits = if by_field { &arg[1..] } else { arg };
    let mut offset = spinel_resp::parse_i64(digits).ok_or_else(|| err(OFFSET_ERR))?;
    if by_field {
        // Redis multiplies without an overflow check; a wrapped result is rejected below.
        offset = offset.wrapping_mul(bits as i64);
    }
    if offset < 0 || (offset >> 3) >= ctx.srv.config.int("proto-max-bulk-len") {
        return Err(err(OFFSET_ERR));
    }
    Ok(offset as u64)
}

/// Redis's lookupStringForBitCommand: the key's string as a raw buffer at least long enough
/// to hold bit `max_bit`, created if missing. Returns whether it was created or grown.
pub fn string_for_bits<'a>(ctx: &'a mut Ctx, key: &[u8], max_bit: u64) -> CmdResult<(&'a mut Vec<u8>, bool)> {
    let need = (max_bit >> 3) as usize + 1;
    let exists = match ctx.lookup_write(key) {
        None => false,
        Some(e) => {
            as_string(e)?;
            true
        }
    };
    if !exists {
        ctx.add_key(key, Value::Raw(vec![0; need]));
    }
    let raw = ctx.lookup_write(key).and_then(|e| e.raw_string_mut()).ok_or(Error::WrongType)?;
    let mut grown = !exists;
    if raw.len() < need {
        raw.resize(need, 0);
        grown = true;
    }
    Ok((raw, grown))
}

fn setbit(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    const BIT_ERR: &str = "ERR bit is not an integer or out of range";
    let key = args[1];
    let offset = bit_offset(ctx, args[2], 0)?;
    let on = args::int_or(args[3], BIT_ERR)?;
    if on & !1 != 0 {
        return Err(err(BIT_ERR));
    }
    let (raw, grown) = string_for_bits(ctx, key, offset)?;
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let old = raw[byte] & mask != 0;
    if grown || old != (on == 1) {
        if on == 1 {
            raw[byte] |= mask;
        } else {
            raw[byte] &= !mask;
        }
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(1);
    }
    Ok(Reply::Int(i64::from(old)))
}

fn getbit(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, args[2], 0)?;
    let Some(e) = ctx.lookup_read(args[1]) else { return Ok(Reply::Int(0)) };
    let s = as_string(e)?;
    let mut buf = itoa::Buffer::new();
    let bytes = s.bytes(&mut buf);
    let byte = (offset >> 3) as usize;
    let bit = bytes.get(byte).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    Ok(Reply::Int(i64::from(bit)))
}

/// Counts set bits.
fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).count_ones() as u64;
    }
    n + chunks.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>()
}

/// Redis's redisBitpos: the first bit equal to `bit`, counting from the first byte's most
/// significant bit. Looking for a 1 in all zeros gives -1; looking for a 0 in all ones gives
/// the first bit past the end (the string is taken as zero-padded on the right).
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { bytes[i] } else { !bytes[i] };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// The unit keyword of BITCOUNT/BITPOS: true for BIT.
fn is_bit_unit(arg: &[u8]) -> CmdResult<bool> {
    if args::is(arg, "bit") {
        Ok(true)
    } else if args::is(arg, "byte") {
        Ok(false)
    } else {
        Err(Error::Syntax)
    }
}

/// Normalized range state shared by BITCOUNT and BITPOS: byte bounds and the masks of bits
/// outside a BIT range in the first and last bytes.
struct Range {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Redis's index arithmetic: negative indexes from the end, clamped, then (for BIT units)
/// converted to bytes with edge masks.
fn normalize(mut start: i64, mut end: i64, len: i64, isbit: bool) -> Range {
    let total = if isbit { len << 3 } else { len };
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if isbit && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Range { start, end, first_mask, last_mask }
}

fn bitcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(e) = ctx.lookup_read(args[1]) else { return Ok(Reply::Int(0)) };
    let s = as_string(e)?;
    let mut buf = itoa::Buffer::new();
    let p = s.bytes(&mut buf);
    let range = match args.len() {
        4 | 5 => {
            let start = args::int(args[2])?;
            let end = args::int(args[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let isbit = if args.len() == 5 { is_bit_unit(args[4])? } else { false };
            normalize(start, end, p.len() as i64, isbit)
        }
        2 => Range { start: 0, end: p.len() as i64 - 1, first_mask: 0, last_mask: 0 },
        _ => return Err(Error::Syntax),
    };
    if range.start > range.end {
        return Ok(Reply::Int(0));
    }
    let (a, b) = (range.start as usize, range.end as usize);
    let mut count = popcount(&p[a..=b]);
    // Bits of the edge bytes outside a BIT range were counted: take them back out.
    count -= (p[a] & range.first_mask).count_ones() as u64;
    count -= (p[b] & range.last_mask).count_ones() as u64;
    Ok(Reply::Int(count as i64))
}

fn bitpos(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let bit = args::int(args[2])?;
    if bit != 0 && bit != 1 {
        return Err(err("ERR The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    let Some(e) = ctx.lookup_read(args[1]) else { return Ok(Reply::Int(if bit { -1 } else { 0 })) };
    let s = as_string(e)?;
    let mut buf = itoa::Buffer::new();
    let p = s.bytes(&mut buf);
    let len = p.len() as i64;
    let mut end_given = false;
    let range = match args.len() {
        4..=6 => {
            let start = args::int(args[3])?;
            let isbit = if args.len() == 6 { is_bit_unit(args[5])? } else { false };
            let end = if args.len() >= 5 {
                end_given = true;
                args::int(args[4])?
            } else if isbit {
                (len << 3) + 7
            } else {
                len - 1
            };
            normalize(start, end, len, isbit)
        }
        3 => Range { start: 0, end: len - 1, first_mask: 0, last_mask: 0 },
        _ => return Err(Error::Syntax),
    };
    if range.start > range.end {
        return Ok(Reply::Int(-1));
    }
    let Range { mut start, end, first_mask, last_mask } = range;
    let mut bytes = end - start + 1;
    // Search the masked first byte, the whole bytes, then the masked last byte, stopping at
    // the first hit, as Redis does.
    let pos = 'search: {
        if first_mask != 0 {
            let mut c = if bit { p[start as usize] & !first_mask } else { p[start as usize] | first_mask };
            if last_mask != 0 && bytes == 1 {
                c = if bit { c & !last_mask } else { c | last_mask };
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'search pos;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - i64::from(last_mask != 0);
        if whole > 0 {
            let a = start as usize;
            let pos = first_bit(&p[a..a + whole as usize], bit);
            if bytes == whole || (pos != -1 && pos != whole << 3) {
                break 'search pos;
            }
            start += whole;
            bytes -= whole;
        }
        let c = if bit { p[end as usize] & !last_mask } else { p[end as usize] | last_mask };
        first_bit(&[c], bit)
    };
    // With an explicit end, a clear bit past the range does not count.
    if end_given && !bit && pos == bytes << 3 {
        return Ok(Reply::Int(-1));
    }
    Ok(Reply::Int(if pos != -1 { pos + (start << 3) } else { pos }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let op = if args::is(args[1], "and") {
        BitOp::And
    } else if args::is(args[1], "or") {
        BitOp::Or
    } else if args::is(args[1], "xor") {
        BitOp::Xor
    } else if args::is(args[1], "not") {
        BitOp::Not
    } else {
        return Err(Error::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(err("ERR BITOP NOT must be called with a single source key."));
    }
    let (dest, sources) = (args[2], &args[3..]);
    // First pass: look every source up (expiry, stats, type check) and find the longest.
    let mut maxlen = 0usize;
    let mut present = Vec::with_capacity(sources.len());
    for key in sources {
        let found = match ctx.lookup_read(key) {
            Some(e) => {
                maxlen = maxlen.max(as_string(e)?.len());
                true
            }
            None => false,
        };
        present.push(found);
    }
    let mut res = Vec::new();
    if maxlen > 0 {
        // Second pass, without side effects: fold each source into the result, missing
        // bytes (and missing keys) being zeros.
        res = vec![0u8; maxlen];
        let db = ctx.db();
        for (i, key) in sources.iter().enumerate() {
            let mut buf = itoa::Buffer::new();
            // A key the lookup did not return (expired on a replica) reads as empty.
            let value = if present[i] { db.peek(key).map(|e| e.value()) } else { None };
            let src: &[u8] = match value {
                Some(ValueRef::Str(StrRef::Int(n))) => buf.format(n).as_bytes(),
                Some(ValueRef::Str(StrRef::Bytes(b))) => b,
                _ => &[],
            };
            let src = &src[..src.len().min(maxlen)];
            if i == 0 {
                res[..src.len()].copy_from_slice(src);
                if op == BitOp::Not {
                    res.iter_mut().for_each(|b| *b = !*b);
                }
                continue;
            }
            match op {
                BitOp::And => {
                    res.iter_mut().zip(src).for_each(|(r, s)| *r &= s);
                    res[src.len()..].fill(0);
                }
                BitOp::Or => res.iter_mut().zip(src).for_each(|(r, s)| *r |= s),
                BitOp::Xor => res.iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
                BitOp::Not => {}
            }
        }
    }
    if maxlen > 0 {
        ctx.set_key(dest, Value::Raw(res), false);
        ctx.notify(notify::STRING, "set", dest);
        ctx.dirty(1);
    } else if ctx.delete_key(dest) {
        ctx.notify(notify::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    Ok(Reply::Int(maxlen as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bit_follows_redis() {
        assert_eq!(first_bit(&[0x00, 0x10], true), 11);
        assert_eq!(first_bit(&[0x00, 0x00], true), -1);
        assert_eq!(first_bit(&[0xff, 0xf0], false), 12);
        assert_eq!(first_bit(&[0xff, 0xff], false), 16);
        assert_eq!(first_bit(&[], false), 0);
    }

    #[test]
    fn popcount_counts_every_byte() {
        let v: Vec<u8> = (0..=255).collect();
        assert_eq!(popcount(&v), 1024);
        assert_eq!(popcount(&v[1..12]), v[1..12].iter().map(|b| b.count_ones() as u64).sum());
    }

    #[test]
    fn bit_ranges_make_edge_masks() {
        let r = normalize(5, 30, 4, true);
        assert_eq!((r.start, r.end, r.first_mask, r.last_mask), (0, 3, 0xf8, 0x01));
        let r = normalize(-2, -1, 4, false);
        assert_eq!((r.start, r.end), (2, 3));
        let r = normalize(0, -100, 4, false);
        assert_eq!((r.start, r.end), (0, 0));
    }
}
