//! The `cmsgpack` library (lua-cmsgpack 0.4.0 as Redis ships it): `pack`, `unpack`,
//! `unpack_one`, `unpack_limit`.
//!
//! Encoding follows lua-cmsgpack: integral numbers as the smallest integer type, others as
//! float when exact else double, tables as arrays when their keys are exactly 1..n, nesting
//! cut at 16 levels (deeper tables become nil). Buffers grow in Rust within the VM's memory
//! budget (CVE-2022-24834 was an overflow of this growth in C).

use std::ffi::c_int;

use super::lua::{self, ffi, lua_callback, State};
use super::sandbox::{check_bytes, check_number, push_arg_error};

const MAX_NESTING: i32 = 16;

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(out: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 65535 {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// table_is_an_array: keys are exactly the integers 1..n.
unsafe fn is_array(l: State) -> bool {
    let top = ffi::lua_gettop(l);
    let (mut count, mut max) = (0i64, 0i64);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        let int_equivalent = !n.is_infinite() && lua::number_to_i32(n) as f64 == n;
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER || n <= 0.0 || !int_equivalent {
            ffi::lua_settop(l, top);
            return false;
        }
        max = max.max(n as i64);
        count += 1;
    }
    ffi::lua_settop(l, top);
    max == count
}

/// Encodes (and pops) the value on top of the stack.
unsafe fn encode_value(l: State, out: &mut Vec<u8>, level: i32) -> Result<(), ()> {
    if out.len() > lua::budget(l) {
        lua::push_memory_error(l);
        return Err(());
    }
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => {
            let s = lua::to_bytes(l, -1).unwrap_or_default();
            if out.len().saturating_add(s.len()) > lua::budget(l) {
                lua::push_memory_error(l);
                return Err(());
            }
            encode_bytes(out, s);
        }
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(l, -1) != 0 { 0xc3 } else { 0xc2 }),
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, -1);
            let i = lua::number_to_i64(n);
            if !n.is_infinite() && i as f64 == n {
                encode_int(out, i);
            } else {
                encode_double(out, n);
            }
        }
        ffi::LUA_TTABLE => {
            if ffi::lua_checkstack(l, 3) == 0 {
                lua::push_error_at(l, 1, "stack overflow (in function mp_encode_lua_table_as_map)");
                return Err(());
            }
            if is_array(l) {
                let len = ffi::lua_objlen(l, -1);
                encode_header(out, len as u64, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
                    encode_value(l, out, level + 1)?;
                }
            } else {
                let mut len = 0u64;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    len += 1;
                }
                encode_header(out, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_value(l, out, level + 1)?;
                    encode_value(l, out, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    ffi::lua_pop(l, 1);
    Ok(())
}

lua_callback! {
    fn pack(l) {
        let nargs = ffi::lua_gettop(l);
        if nargs == 0 {
            push_arg_error(l, 0, "MessagePack pack needs input.");
            return Err(());
        }
        if ffi::lua_checkstack(l, nargs) == 0 {
            push_arg_error(l, 0, "Too many arguments for MessagePack pack.");
            return Err(());
        }
        let mut out = Vec::new();
        for i in 1..=nargs {
            ffi::lua_pushvalue(l, i);
            encode_value(l, &mut out, 0)?;
        }
        lua::push_bytes(l, &out);
        Ok(1)
    }
}

enum DecodeError {
    Eof,
    BadFormat,
    /// A Lua error message is on the stack already.
    Raised,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.data.len() - self.pos < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.data[self.pos + i]
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        (0..n).fold(0u64, |v, i| (v << 8) | self.byte(from + i) as u64)
    }
}

unsafe fn decode_array(l: State, c: &mut Cursor<'_>, len: u64) -> Result<(), DecodeError> {
    ffi::lua_newtable(l);
    if ffi::lua_checkstack(l, 1) == 0 {
        lua::push_error_at(l, 1, "stack overflow (in function mp_decode_to_lua_array)");
        return Err(DecodeError::Raised);
    }
    for index in 1..=len {
        decode_value(l, c)?;
        ffi::lua_rawseti(l, -2, index as ffi::lua_Integer);
    }
    Ok(())
}

unsafe fn decode_map(l: State, c: &mut Cursor<'_>, len: u64) -> Result<(), DecodeError> {
    ffi::lua_newtable(l);
    for _ in 0..len {
        decode_value(l, c)?;
        decode_value(l, c)?;
        // A nil key (0xc0) cannot be stored; lua_settable would raise "table index is nil".
        if ffi::lua_isnil(l, -2) != 0 {
            lua::push_error_at(l, 1, "table index is nil");
            return Err(DecodeError::Raised);
        }
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && ffi::lua_tonumber(l, -2).is_nan() {
            lua::push_error_at(l, 1, "table index is NaN");
            return Err(DecodeError::Raised);
        }
        ffi::lua_rawset(l, -3);
    }
    Ok(())
}

unsafe fn decode_value(l: State, c: &mut Cursor<'_>) -> Result<(), DecodeError> {
    c.need(1)?;
    if ffi::lua_checkstack(l, 1) == 0 {
        lua::push_error_at(
            l,
            1,
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
        );
        return Err(DecodeError::Raised);
    }
    let tag = c.byte(0);
    match tag {
        0xcc => {
            c.need(2)?;
            ffi::lua_pushnumber(l, c.byte(1) as f64);
            c.pos += 2;
        }
        0xd0 => {
            c.need(2)?;
            ffi::lua_pushnumber(l, c.byte(1) as i8 as f64);
            c.pos += 2;
        }
        0xcd => {
            c.need(3)?;
            ffi::lua_pushnumber(l, c.be(1, 2) as f64);
            c.pos += 3;
        }
        0xd1 => {
            c.need(3)?;
            ffi::lua_pushnumber(l, c.be(1, 2) as u16 as i16 as f64);
            c.pos += 3;
        }
        0xce => {
            c.need(5)?;
            ffi::lua_pushnumber(l, c.be(1, 4) as f64);
            c.pos += 5;
        }
        0xd2 => {
            c.need(5)?;
            ffi::lua_pushnumber(l, c.be(1, 4) as u32 as i32 as f64);
            c.pos += 5;
        }
        0xcf => {
            c.need(9)?;
            ffi::lua_pushnumber(l, c.be(1, 8) as f64);
            c.pos += 9;
        }
        0xd3 => {
            c.need(9)?;
            ffi::lua_pushnumber(l, c.be(1, 8) as i64 as f64);
            c.pos += 9;
        }
        0xc0 => {
            ffi::lua_pushnil(l);
            c.pos += 1;
        }
        0xc3 | 0xc2 => {
            ffi::lua_pushboolean(l, (tag == 0xc3) as c_int);
            c.pos += 1;
        }
        0xca => {
            c.need(5)?;
            ffi::lua_pushnumber(l, f32::from_bits(c.be(1, 4) as u32) as f64);
            c.pos += 5;
        }
        0xcb => {
            c.need(9)?;
            ffi::lua_pushnumber(l, f64::from_bits(c.be(1, 8)));
            c.pos += 9;
        }
        0xd9 | 0xda | 0xdb => {
            let hdr = match tag {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            c.need(1 + hdr)?;
            let len = c.be(1, hdr) as usize;
            c.pos += 1 + hdr;
            c.need(len)?;
            lua::push_bytes(l, &c.data[c.pos..c.pos + len]);
            c.pos += len;
        }
        0xdc | 0xdd | 0xde | 0xdf => {
            let hdr = if tag == 0xdc || tag == 0xde { 2 } else { 4 };
            c.need(1 + hdr)?;
            let len = c.be(1, hdr);
            c.pos += 1 + hdr;
            if tag <= 0xdd {
                decode_array(l, c, len)?;
            } else {
                decode_map(l, c, len)?;
            }
        }
        _ if tag & 0x80 == 0 => {
            ffi::lua_pushnumber(l, tag as f64);
            c.pos += 1;
        }
        _ if tag & 0xe0 == 0xe0 => {
            ffi::lua_pushnumber(l, tag as i8 as f64);
            c.pos += 1;
        }
        _ if tag & 0xe0 == 0xa0 => {
            let len = (tag & 0x1f) as usize;
            c.need(1 + len)?;
            lua::push_bytes(l, &c.data[c.pos + 1..c.pos + 1 + len]);
            c.pos += 1 + len;
        }
        _ if tag & 0xf0 == 0x90 => {
            c.pos += 1;
            decode_array(l, c, (tag & 0xf) as u64)?;
        }
        _ if tag & 0xf0 == 0x80 => {
            c.pos += 1;
            decode_map(l, c, (tag & 0xf) as u64)?;
        }
        _ => return Err(DecodeError::BadFormat),
    }
    Ok(())
}

/// mp_unpack_full: decodes up to `limit` objects from `offset` (0, 0: everything).
unsafe fn unpack_full(l: State, limit: i64, offset: i64) -> lua::CbResult {
    let data = check_bytes(l, 1)?;
    let len = data.len() as i64;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        lua::push_error_at(
            l,
            1,
            &format!("Invalid request to unpack with offset of {} and limit of {}.", offset as i32, len as i32),
        );
        return Err(());
    }
    if offset > len {
        lua::push_error_at(l, 1, &format!("Start offset {} greater than input length {}.", offset as i32, len as i32));
        return Err(());
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut c = Cursor { data, pos: offset as usize };
    let mut count: i64 = 0;
    while c.pos < data.len() && count < limit {
        match decode_value(l, &mut c) {
            Ok(()) => {}
            Err(DecodeError::Eof) => {
                lua::push_error_at(l, 1, "Missing bytes in input.");
                return Err(());
            }
            Err(DecodeError::BadFormat) => {
                lua::push_error_at(l, 1, "Bad data format in input.");
                return Err(());
            }
            Err(DecodeError::Raised) => return Err(()),
        }
        count += 1;
    }
    if !decode_all {
        let next = if c.pos == data.len() { -1 } else { c.pos as i64 };
        ffi::lua_pushinteger(l, next as ffi::lua_Integer);
        ffi::lua_insert(l, 2);
        count += 1;
    }
    Ok(count as c_int)
}

lua_callback! {
    fn unpack(l) {
        unpack_full(l, 0, 0)
    }
}

lua_callback! {
    fn unpack_one(l) {
        let offset = if ffi::lua_isnoneornil(l, 2) != 0 { 0 } else { lua::number_to_i64(check_number(l, 2)?) };
        ffi::lua_settop(l, 1);
        unpack_full(l, 1, offset)
    }
}

lua_callback! {
    fn unpack_limit(l) {
        let limit = lua::number_to_i64(check_number(l, 2)?);
        let offset = if ffi::lua_isnoneornil(l, 3) != 0 { 0 } else { lua::number_to_i64(check_number(l, 3)?) };
        ffi::lua_settop(l, 1);
        unpack_full(l, limit, offset)
    }
}

/// Creates the `cmsgpack` global.
pub unsafe fn open(l: State) {
    ffi::lua_newtable(l);
    lua::set_fn(l, "pack", pack);
    lua::set_fn(l, "unpack", unpack);
    lua::set_fn(l, "unpack_one", unpack_one);
    lua::set_fn(l, "unpack_limit", unpack_limit);
    lua::set_string(l, "_NAME", b"cmsgpack");
    lua::set_string(l, "_VERSION", b"lua-cmsgpack 0.4.0");
    lua::set_string(l, "_COPYRIGHT", b"Copyright (C) 2012, Salvatore Sanfilippo");
    lua::set_string(l, "_DESCRIPTION", b"MessagePack C implementation for Lua");
    lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "cmsgpack");
}
