//! BITFIELD and BITFIELD_RO (Redis's bitops.c): integer fields of 1..64 bits (signed) or
//! 1..63 bits (unsigned) at any bit offset of a string, read, written and incremented with
//! WRAP, SAT or FAIL overflow handling.
//!
//! All operations are parsed first (errors before any change), then the string is sized once
//! for the farthest write, then the operations run in order, each seeing the previous ones.

use crate::cmd::args;
use crate::cmd::bitmap::{bit_offset, string_for_bits};
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::cmd::string::as_string;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::reply::Reply;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bitfield",
        arity: -2,
        flags: WRITE | DENYOOM,
        acl: acl::BITMAP,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE | key::ACCESS | key::VARIABLE_FLAGS)
            .with_notes("This command allows both access and modification of the key")],
        handler: Some(bitfield),
        getkeys: Some(bitfield_keys),
        group: Group::Bitmap,
        since: "3.2.0",
        summary: "Perform arbitrary bitfield integer operations on strings",
        complexity: "O(1) for each subcommand specified",
        args: "key:key operation=[GET encoding_offset=(encoding offset:integer)|write=([OVERFLOW wrap_sat_fail=[WRAP|SAT|FAIL]] write_operation=(SET encoding_offset_value=(encoding offset:integer value:integer)|INCRBY encoding_offset_increment=(encoding offset:integer increment:integer)))]...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitfield_ro",
        arity: -2,
        flags: READONLY | FAST,
        acl: acl::BITMAP,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(bitfield_ro),
        group: Group::Bitmap,
        since: "6.0.0",
        summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        complexity: "O(1) for each subcommand specified",
        args: "key:key [GET encoding_offset=(encoding offset:integer)]...",
        ..CommandSpec::DEFAULT
    },
];

/// Redis's bitfieldGetKeys: the key is read-only when every operation is a GET.
fn bitfield_keys(args: &[&[u8]]) -> Vec<(usize, u64)> {
    let mut readonly = true;
    let mut i = 2;
    while i < args.len() {
        let rem = args.len() - i - 1;
        if args::is(args[i], "get") && rem >= 2 {
            i += 2;
        } else if (args::is(args[i], "set") || args::is(args[i], "incrby")) && rem >= 3 {
            readonly = false;
            break;
        } else if args::is(args[i], "overflow") && rem >= 1 {
            i += 1;
        } else {
            readonly = false;
            break;
        }
        i += 1;
    }
    let flags = if readonly { key::RO | key::ACCESS } else { key::RW | key::ACCESS | key::UPDATE };
    vec![(1, flags)]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set,
    IncrBy,
}

struct Op {
    kind: OpKind,
    offset: u64,
    value: i64,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Redis's getBitfieldTypeFromArgument: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> CmdResult<(bool, u32)> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err(TYPE_ERR)),
    };
    // Redis reads the width as a C string: it stops at a NUL byte.
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|&c| c == 0).unwrap_or(digits.len())];
    match spinel_resp::parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(err(TYPE_ERR)),
    }
}

fn parse_ops(ctx: &Ctx, args: &[&[u8]]) -> CmdResult<Vec<Op>> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args[j];
        let kind = if args::is(sub, "get") && rem >= 2 {
            OpKind::Get
        } else if args::is(sub, "set") && rem >= 3 {
            OpKind::Set
        } else if args::is(sub, "incrby") && rem >= 3 {
            OpKind::IncrBy
        } else if args::is(sub, "overflow") && rem >= 1 {
            let t = args[j + 1];
            overflow = if args::is(t, "wrap") {
                Overflow::Wrap
            } else if args::is(t, "sat") {
                Overflow::Sat
            } else if args::is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(err("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(Error::Syntax);
        };
        let (signed, bits) = field_type(args[j + 1])?;
        let offset = bit_offset(ctx, args[j + 2], bits)?;
        let value = if kind == OpKind::Get { 0 } else { args::int(args[j + 3])? };
        ops.push(Op { kind, offset, value, overflow, bits, signed });
        j += if kind == OpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

fn get_unsigned(p: &[u8], mut offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for _ in 0..bits {
        let byte = p.get((offset >> 3) as usize).copied().unwrap_or(0);
        let bit = (byte >> (7 - (offset & 7))) & 1;
        value = (value << 1) | bit as u64;
        offset += 1;
    }
    value
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut value = get_unsigned(p, offset, bits) as i64;
    // Propagate the field's sign bit (two's complement).
    if bits < 64 && value & (1i64 << (bits - 1)) != 0 {
        value |= -1i64 << bits;
    }
    value
}

fn set_unsigned(p: &mut [u8], mut offset: u64, bits: u32, value: u64) {
    for j in 0..bits {
        let on = value & (1u64 << (bits - 1 - j)) != 0;
        if let Some(byte) = p.get_mut((offset >> 3) as usize) {
            let mask = 1u8 << (7 - (offset & 7));
            if on {
                *byte |= mask;
            } else {
                *byte &= !mask;
            }
        }
        offset += 1;
    }
}

/// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves `bits` bits, and the
/// wrapped or saturated result to store instead.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = 0u64.wrapping_sub(value) as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        })
    } else {
        None
    }
}

/// Redis's checkSignedBitfieldOverflow, same contract as [`unsigned_overflow`].
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        })
    } else {
        None
    }
}

/// Runs a SET or INCRBY on `p`: the reply (Nil when FAIL refused it) and whether the field
/// changed.
fn write_op(p: &mut [u8], op: &Op) -> (Reply, bool) {
    let fail = op.overflow == Overflow::Fail;
    if op.signed {
        let old = get_signed(p, op.offset, op.bits);
        let (new, overflowed, reply) = if op.kind == OpKind::IncrBy {
            let ow = signed_overflow(old, op.value, op.bits, op.overflow);
            let new = ow.unwrap_or(old.wrapping_add(op.value));
            (new, ow.is_some(), new)
        } else {
            let ow = signed_overflow(op.value, 0, op.bits, op.overflow);
            (ow.unwrap_or(op.value), ow.is_some(), old)
        };
        if overflowed && fail {
            return (Reply::Nil, false);
        }
        set_unsigned(p, op.offset, op.bits, new as u64);
        (Reply::Int(reply), old != new)
    } else {
        let old = get_unsigned(p, op.offset, op.bits);
        let (new, overflowed, reply) = if op.kind == OpKind::IncrBy {
            let ow = unsigned_overflow(old, op.value, op.bits, op.overflow);
            let new = ow.unwrap_or(old.wrapping_add(op.value as u64));
            (new, ow.is_some(), new)
        } else {
            let ow = unsigned_overflow(op.value as u64, 0, op.bits, op.overflow);
            (ow.unwrap_or(op.value as u64), ow.is_some(), old)
        };
        if overflowed && fail {
            return (Reply::Nil, false);
        }
        set_unsigned(p, op.offset, op.bits, new);
        (Reply::Int(reply as i64), old != new)
    }
}

fn read_op(p: &[u8], op: &Op) -> Reply {
    if op.signed {
        Reply::Int(get_signed(p, op.offset, op.bits))
    } else {
        Reply::Int(get_unsigned(p, op.offset, op.bits) as i64)
    }
}

fn bitfield_generic(ctx: &mut Ctx, args: &[&[u8]], ro_command: bool) -> CmdResult {
    let key = args[1];
    let ops = parse_ops(ctx, args)?;
    let highest_write = ops.iter().filter(|op| op.kind != OpKind::Get).map(|op| op.offset + op.bits as u64 - 1).max();
    let Some(highest_write) = highest_write else {
        // Only GETs: a missing key reads as zeros.
        let out = match ctx.lookup_read(key) {
            None => ops.iter().map(|op| read_op(&[], op)).collect(),
            Some(e) => {
                let s = as_string(e)?;
                let mut buf = itoa::Buffer::new();
                let p = s.bytes(&mut buf);
                ops.iter().map(|op| read_op(p, op)).collect()
            }
        };
        return Ok(Reply::Array(out));
    };
    if ro_command {
        return Err(err("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    let (p, grown) = string_for_bits(ctx, key, highest_write)?;
    let mut changes = 0u64;
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        if op.kind == OpKind::Get {
            out.push(read_op(p, op));
            continue;
        }
        let (reply, changed) = write_op(p, op);
        if !matches!(reply, Reply::Nil) && (grown || changed) {
            changes += 1;
        }
        out.push(reply);
    }
    if changes > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(changes);
    }
    Ok(Reply::Array(out))
}

fn bitfield(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types() {
        assert_eq!(field_type(b"i64").unwrap(), (true, 64));
        assert_eq!(field_type(b"u63").unwrap(), (false, 63));
        assert!(field_type(b"u64").is_err());
        assert!(field_type(b"i0").is_err());
        assert!(field_type(b"I8").is_err());
        assert!(field_type(b"u").is_err());
    }

    #[test]
    fn fields_round_trip_across_bytes() {
        let mut p = vec![0u8; 16];
        set_unsigned(&mut p, 5, 13, 0x1abc);
        assert_eq!(get_unsigned(&p, 5, 13), 0x1abc);
        set_unsigned(&mut p, 3, 64, (-2i64) as u64);
        assert_eq!(get_signed(&p, 3, 64), -2);
        set_unsigned(&mut p, 0, 4, 0b1010);
        assert_eq!(get_signed(&p, 0, 4), -6);
    }

    #[test]
    fn overflow_rules_match_redis() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 10, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Overflow::Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(-1, 0, 64, Overflow::Sat), None);
    }
}
