//! The `bit` library (LuaBitOp 1.0.2 as Redis ships it): 32-bit operations on Lua numbers.
//!
//! Arguments are normalised like LuaBitOp: adding 2^52+2^51 to the double and keeping the
//! low 32 bits of its representation, which rounds to the nearest integer modulo 2^32.
//! `bit.tohex` clamps its count so that `-2^31` cannot overflow (CVE-2024-31449).

use super::lua::{self, ffi, lua_callback, State};
use super::sandbox::push_type_error;

/// LuaBitOp's `barg`.
unsafe fn barg(l: State, idx: i32) -> Result<u32, ()> {
    let n = ffi::lua_tonumber(l, idx);
    let b = (n + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        push_type_error(l, idx, "number");
        return Err(());
    }
    Ok(b)
}

unsafe fn bret(l: State, b: u32) -> lua::CbResult {
    ffi::lua_pushnumber(l, b as i32 as f64);
    Ok(1)
}

lua_callback! { fn tobit(l) { let b = barg(l, 1)?; bret(l, b) } }
lua_callback! { fn bnot(l) { let b = barg(l, 1)?; bret(l, !b) } }

unsafe fn fold(l: State, op: fn(u32, u32) -> u32) -> lua::CbResult {
    let mut b = barg(l, 1)?;
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = op(b, barg(l, i)?);
        i -= 1;
    }
    bret(l, b)
}

lua_callback! { fn band(l) { fold(l, |a, b| a & b) } }
lua_callback! { fn bor(l) { fold(l, |a, b| a | b) } }
lua_callback! { fn bxor(l) { fold(l, |a, b| a ^ b) } }

unsafe fn shift(l: State, op: fn(u32, u32) -> u32) -> lua::CbResult {
    let b = barg(l, 1)?;
    let n = barg(l, 2)? & 31;
    bret(l, op(b, n))
}

lua_callback! { fn lshift(l) { shift(l, |b, n| b << n) } }
lua_callback! { fn rshift(l) { shift(l, |b, n| b >> n) } }
lua_callback! { fn arshift(l) { shift(l, |b, n| ((b as i32) >> n) as u32) } }
lua_callback! { fn rol(l) { shift(l, |b, n| b.rotate_left(n)) } }
lua_callback! { fn ror(l) { shift(l, |b, n| b.rotate_right(n)) } }
lua_callback! { fn bswap(l) { let b = barg(l, 1)?; bret(l, b.swap_bytes()) } }

lua_callback! {
    fn tohex(l) {
        let mut b = barg(l, 1)?;
        let mut n: i32 = if ffi::lua_isnone(l, 2) != 0 { 8 } else { barg(l, 2)? as i32 };
        let mut digits: &[u8; 16] = b"0123456789abcdef";
        if n == i32::MIN {
            n = i32::MIN + 1;
        }
        if n < 0 {
            n = -n;
            digits = b"0123456789ABCDEF";
        }
        let n = n.min(8) as usize;
        let mut buf = [0u8; 8];
        for i in (0..n).rev() {
            buf[i] = digits[(b & 15) as usize];
            b >>= 4;
        }
        lua::push_bytes(l, &buf[..n]);
        Ok(1)
    }
}

/// Creates the `bit` global.
pub unsafe fn open(l: State) {
    ffi::lua_newtable(l);
    let funcs: [(&str, ffi::lua_CFunction); 12] = [
        ("tobit", tobit),
        ("bnot", bnot),
        ("band", band),
        ("bor", bor),
        ("bxor", bxor),
        ("lshift", lshift),
        ("rshift", rshift),
        ("arshift", arshift),
        ("rol", rol),
        ("ror", ror),
        ("bswap", bswap),
        ("tohex", tohex),
    ];
    for (name, f) in funcs {
        lua::set_fn(l, name, f);
    }
    lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "bit");
}
