//! The `cjson` library (Lua CJSON 2.1.0 as Redis ships it): `cjson.encode`,
//! `cjson.decode`, the configuration functions, `cjson.new` and `cjson.null`.
//!
//! Behaviour and messages follow Lua CJSON: numbers with `%.14g`, `/` escaped as `\/`,
//! arrays detected from positive integer keys (with the sparse-array rules), nesting limited
//! to 1000 levels both ways and by the Lua stack, invalid numbers (inf, nan, hex) accepted
//! when decoding. The output is built in Rust within the VM's memory budget, so a huge
//! input fails with "not enough memory" instead of overflowing (CVE-2022-24834).

use std::ffi::c_int;

use super::lua::{self, ffi, lua_callback, CbResult, State};
use super::sandbox::{check_bytes, push_arg_error, push_type_error, type_name};

#[repr(C)]
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
}

const DEFAULT: Config = Config {
    sparse_convert: 0,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    encode_number_precision: 14,
    encode_keep_buffer: 1,
    decode_invalid_numbers: 1,
};

unsafe fn config<'a>(l: State) -> &'a mut Config {
    // SAFETY: every cjson function is created with the config userdata as upvalue 1.
    &mut *(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Config)
}

/// json_arg_init: at most `args` arguments, padded with nils.
unsafe fn arg_init<'a>(l: State, args: c_int) -> Result<&'a mut Config, ()> {
    if ffi::lua_gettop(l) > args {
        push_arg_error(l, args + 1, "found too many arguments");
        return Err(());
    }
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    Ok(config(l))
}

/// luaL_checkinteger (as an `int`).
unsafe fn check_integer(l: State, idx: c_int) -> Result<i32, ()> {
    let n = ffi::lua_tonumber(l, idx);
    if n == 0.0 && ffi::lua_isnumber(l, idx) == 0 {
        push_type_error(l, idx, "number");
        return Err(());
    }
    Ok(lua::number_to_i64(n) as i32)
}

unsafe fn integer_option(l: State, idx: c_int, setting: &mut i32, min: i32, max: i32) -> CbResult {
    if ffi::lua_isnil(l, idx) == 0 {
        let value = check_integer(l, idx)?;
        if !(min..=max).contains(&value) {
            push_arg_error(l, 1, &format!("expected integer between {min} and {max}"));
            return Err(());
        }
        *setting = value;
    }
    ffi::lua_pushinteger(l, *setting as ffi::lua_Integer);
    Ok(1)
}

unsafe fn enum_option(l: State, idx: c_int, setting: &mut i32, options: &[&str]) -> CbResult {
    if ffi::lua_isnil(l, idx) == 0 {
        if ffi::lua_isboolean(l, idx) != 0 {
            *setting = ffi::lua_toboolean(l, idx);
        } else {
            let name = check_bytes(l, idx)?;
            match options.iter().position(|o| o.as_bytes() == name) {
                Some(i) => *setting = i as i32,
                None => {
                    let msg = format!("invalid option '{}'", String::from_utf8_lossy(name));
                    push_arg_error(l, idx, &msg);
                    return Err(());
                }
            }
        }
    }
    if *setting == 0 || *setting == 1 {
        ffi::lua_pushboolean(l, *setting);
    } else {
        lua::push_str(l, options.get(*setting as usize).copied().unwrap_or(""));
    }
    Ok(1)
}

const ON_OFF: &[&str] = &["off", "on"];

lua_callback! {
    fn cfg_encode_sparse_array(l) {
        let cfg = arg_init(l, 3)?;
        enum_option(l, 1, &mut cfg.sparse_convert, ON_OFF)?;
        integer_option(l, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
        integer_option(l, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
        Ok(3)
    }
}

lua_callback! {
    fn cfg_encode_max_depth(l) {
        let cfg = arg_init(l, 1)?;
        integer_option(l, 1, &mut cfg.encode_max_depth, 1, i32::MAX)
    }
}

lua_callback! {
    fn cfg_decode_max_depth(l) {
        let cfg = arg_init(l, 1)?;
        integer_option(l, 1, &mut cfg.decode_max_depth, 1, i32::MAX)
    }
}

lua_callback! {
    fn cfg_encode_number_precision(l) {
        let cfg = arg_init(l, 1)?;
        integer_option(l, 1, &mut cfg.encode_number_precision, 1, 14)
    }
}

lua_callback! {
    fn cfg_encode_keep_buffer(l) {
        let cfg = arg_init(l, 1)?;
        enum_option(l, 1, &mut cfg.encode_keep_buffer, ON_OFF)
    }
}

lua_callback! {
    fn cfg_encode_invalid_numbers(l) {
        let cfg = arg_init(l, 1)?;
        enum_option(l, 1, &mut cfg.encode_invalid_numbers, &["off", "on", "null"])
    }
}

lua_callback! {
    fn cfg_decode_invalid_numbers(l) {
        let cfg = arg_init(l, 1)?;
        enum_option(l, 1, &mut cfg.decode_invalid_numbers, ON_OFF)
    }
}

// --- Encoding ---------------------------------------------------------------------------

/// `Cannot serialise <type>: <reason>` for the value at `idx`.
unsafe fn encode_error(l: State, idx: c_int, reason: &str) -> Result<(), ()> {
    let t = type_name(l, idx);
    lua::push_error_at(l, 1, &format!("Cannot serialise {t}: {reason}"));
    Err(())
}

unsafe fn over_budget(l: State, out: &[u8], extra: usize) -> Result<(), ()> {
    if out.len().saturating_add(extra) > lua::budget(l) {
        lua::push_memory_error(l);
        return Err(());
    }
    Ok(())
}

/// Length of `s` once escaped (without the quotes).
fn escaped_len(s: &[u8]) -> usize {
    s.iter()
        .map(|&c| match c {
            b'"' | b'\\' | b'/' | 8 | b'\t' | b'\n' | 12 | b'\r' => 2,
            0..=0x1f | 0x7f => 6,
            _ => 1,
        })
        .sum()
}

unsafe fn append_string(l: State, out: &mut Vec<u8>, idx: c_int) -> Result<(), ()> {
    let s = lua::to_bytes(l, idx).unwrap_or_default();
    over_budget(l, out, escaped_len(s) + 2)?;
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
    Ok(())
}

unsafe fn append_number(l: State, cfg: &Config, out: &mut Vec<u8>, idx: c_int) -> Result<(), ()> {
    let num = ffi::lua_tonumber(l, idx);
    if !num.is_finite() {
        match cfg.encode_invalid_numbers {
            0 => return encode_error(l, idx, "must not be NaN or Inf"),
            1 if num.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    out.extend_from_slice(lua::format_g(num, cfg.encode_number_precision.max(1) as usize).as_bytes());
    Ok(())
}

/// The array length of the table on top, or -1 for an object (lua_array_length).
unsafe fn array_length(l: State, cfg: &Config) -> Result<i64, ()> {
    let mut max: i64 = 0;
    let mut items: i64 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                let k = lua::number_to_i32(k) as i64;
                max = max.max(k);
                items += 1;
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(-1);
    }
    if cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio as i64 && max > cfg.sparse_safe as i64 {
        if cfg.sparse_convert == 0 {
            encode_error(l, -1, "excessively sparse array")?;
        }
        return Ok(-1);
    }
    Ok(max)
}

unsafe fn append_data(l: State, cfg: &Config, depth: i32, out: &mut Vec<u8>) -> Result<(), ()> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => append_string(l, out, -1),
        ffi::LUA_TNUMBER => append_number(l, cfg, out, -1),
        ffi::LUA_TBOOLEAN => {
            out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 { b"true" } else { b"false" });
            Ok(())
        }
        ffi::LUA_TTABLE => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                lua::push_error_at(l, 1, &format!("Cannot serialise, excessive nesting ({depth})"));
                return Err(());
            }
            let len = array_length(l, cfg)?;
            if len > 0 {
                out.push(b'[');
                for i in 1..=len {
                    if i > 1 {
                        out.push(b',');
                    }
                    ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer);
                    append_data(l, cfg, depth, out)?;
                    ffi::lua_pop(l, 1);
                }
                out.push(b']');
            } else {
                out.push(b'{');
                let mut comma = false;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    if comma {
                        out.push(b',');
                    }
                    comma = true;
                    match ffi::lua_type(l, -2) {
                        ffi::LUA_TNUMBER => {
                            out.push(b'"');
                            append_number(l, cfg, out, -2)?;
                            out.extend_from_slice(b"\":");
                        }
                        ffi::LUA_TSTRING => {
                            append_string(l, out, -2)?;
                            out.push(b':');
                        }
                        _ => encode_error(l, -2, "table key must be a number or string")?,
                    }
                    append_data(l, cfg, depth, out)?;
                    ffi::lua_pop(l, 1);
                }
                out.push(b'}');
            }
            Ok(())
        }
        ffi::LUA_TNIL => {
            out.extend_from_slice(b"null");
            Ok(())
        }
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
            out.extend_from_slice(b"null");
            Ok(())
        }
        _ => encode_error(l, -1, "type not supported"),
    }
}

lua_callback! {
    fn encode(l) {
        let cfg = *config(l);
        if ffi::lua_gettop(l) != 1 {
            push_arg_error(l, 1, "expected 1 argument");
            return Err(());
        }
        let mut out = Vec::new();
        append_data(l, &cfg, 0, &mut out)?;
        over_budget(l, &out, 0)?;
        lua::push_bytes(l, &out);
        Ok(1)
    }
}

// --- Decoding ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::String => "T_STRING",
            Tok::Number => "T_NUMBER",
            Tok::Boolean => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Tok,
    index: usize,
    number: f64,
    boolean: bool,
    /// The error description for Tok::Error.
    error: &'static str,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i32,
    cfg: Config,
    /// The last string token's bytes.
    tmp: Vec<u8>,
}

impl Parser<'_> {
    /// The byte at `i`, 0 past the end (the C string's terminator).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn error(&self, what: &'static str) -> Token {
        Token { kind: Tok::Error, index: self.pos, number: 0.0, boolean: false, error: what }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let simple = |kind| Token { kind, index, number: 0.0, boolean: false, error: "" };
        let ch = self.at(self.pos);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return simple(kind);
        }
        if ch == 0 {
            return simple(Tok::End);
        }
        let unknown = matches!(ch, b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9');
        if !unknown {
            return self.error("invalid token");
        }
        let rest = &self.data[self.pos..];
        if ch == b'"' {
            return self.string_token(index);
        }
        if ch == b'-' || ch.is_ascii_digit() {
            if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                return self.error("invalid number");
            }
            return self.number_token(index);
        }
        if rest.starts_with(b"true") {
            self.pos += 4;
            return Token { kind: Tok::Boolean, index, number: 0.0, boolean: true, error: "" };
        }
        if rest.starts_with(b"false") {
            self.pos += 5;
            return Token { kind: Tok::Boolean, index, number: 0.0, boolean: false, error: "" };
        }
        if rest.starts_with(b"null") {
            self.pos += 4;
            return simple(Tok::Null);
        }
        if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
            return self.number_token(index);
        }
        self.error("invalid token")
    }

    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).to_ascii_lowercase() == w[i]);
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        match strtod(&self.data[self.pos..]) {
            Some((n, used)) => {
                self.pos += used;
                Token { kind: Tok::Number, index, number: n, boolean: false, error: "" }
            }
            None => self.error("invalid number"),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            let d = (self.at(at + i) as char).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }

    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else { return false };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        let n = match cp {
            0..=0x7F => {
                buf[0] = cp as u8;
                1
            }
            0x80..=0x7FF => {
                buf[0] = (cp >> 6) as u8 | 0xC0;
                buf[1] = (cp & 0x3F) as u8 | 0x80;
                2
            }
            0x800..=0xFFFF => {
                buf[0] = (cp >> 12) as u8 | 0xE0;
                buf[1] = ((cp >> 6) & 0x3F) as u8 | 0x80;
                buf[2] = (cp & 0x3F) as u8 | 0x80;
                3
            }
            _ => {
                buf[0] = (cp >> 18) as u8 | 0xF0;
                buf[1] = ((cp >> 12) & 0x3F) as u8 | 0x80;
                buf[2] = ((cp >> 6) & 0x3F) as u8 | 0x80;
                buf[3] = (cp & 0x3F) as u8 | 0x80;
                4
            }
        };
        self.tmp.extend_from_slice(&buf[..n]);
        self.pos += len;
        true
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.pos += 1;
        self.tmp.clear();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            let mut out = ch;
            if ch == b'\\' {
                let esc = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                out = esc;
                self.pos += 1;
            }
            self.tmp.push(out);
            self.pos += 1;
        }
        self.pos += 1;
        Token { kind: Tok::String, index, number: 0.0, boolean: false, error: "" }
    }
}

/// C's strtod on the start of `s`: (value, bytes used), or None if no number starts there.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(|c| c.to_ascii_lowercase()).collect();
    if lower.starts_with(b"inf") {
        let used = if lower.starts_with(b"infinity") { 8 } else { 3 };
        return Some((sign * f64::INFINITY, i + used));
    }
    if lower.starts_with(b"nan") {
        let mut used = 3;
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..].iter().position(|c| !c.is_ascii_alphanumeric() && *c != b'_') {
                if rest[4 + close] == b')' {
                    used = 5 + close;
                }
            }
        }
        return Some((f64::NAN.copysign(sign), i + used));
    }
    if lower.len() >= 2 && lower[0] == b'0' && lower[1] == b'x' {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            return Some((sign * v, i + 2 + used));
        }
        // "0x" without digits: strtod reads the 0.
        return Some((sign * 0.0, i + 1));
    }
    let start = i;
    let mut digits = 0;
    while s.get(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        digits += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while s.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if s.get(j).is_some_and(|c| c.is_ascii_digit()) {
            while s.get(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).ok()?;
    let text = if text.starts_with('.') { format!("0{text}") } else { text.to_string() };
    let v: f64 = text.parse().ok()?;
    Some((sign * v, i))
}

fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let mut mantissa = 0f64;
    let mut digits = 0;
    let mut exp: i64 = 0;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(16)) {
        mantissa = mantissa * 16.0 + d as f64;
        i += 1;
        digits += 1;
    }
    if s.get(i) == Some(&b'.') {
        let mut j = i + 1;
        while let Some(d) = s.get(j).and_then(|c| (*c as char).to_digit(16)) {
            mantissa = mantissa * 16.0 + d as f64;
            exp -= 4;
            j += 1;
            digits += 1;
        }
        if digits > 0 {
            i = j;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let mut eneg = false;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            eneg = s[j] == b'-';
            j += 1;
        }
        if s.get(j).is_some_and(|c| c.is_ascii_digit()) {
            let mut e: i64 = 0;
            while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
                e = (e * 10 + (c - b'0') as i64).min(100_000);
                j += 1;
            }
            exp += if eneg { -e } else { e };
            i = j;
        }
    }
    Some((mantissa * 2f64.powi(exp.clamp(-2000, 2000) as i32), i))
}

unsafe fn parse_error(l: State, expected: &str, t: &Token) -> Result<(), ()> {
    let found = if t.kind == Tok::Error { t.error } else { t.kind.name() };
    lua::push_error_at(l, 1, &format!("Expected {expected} but found {found} at character {}", t.index + 1));
    Err(())
}

unsafe fn descend(l: State, p: &mut Parser<'_>, slots: c_int) -> Result<(), ()> {
    p.depth += 1;
    if p.depth <= p.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
        return Ok(());
    }
    lua::push_error_at(l, 1, &format!("Found too many nested data structures ({}) at character {}", p.depth, p.pos));
    Err(())
}

unsafe fn process_value(l: State, p: &mut Parser<'_>, t: &Token) -> Result<(), ()> {
    match t.kind {
        Tok::String => lua::push_bytes(l, &p.tmp),
        Tok::Number => ffi::lua_pushnumber(l, t.number),
        Tok::Boolean => ffi::lua_pushboolean(l, t.boolean as c_int),
        Tok::ObjBegin => {
            descend(l, p, 3)?;
            ffi::lua_newtable(l);
            let mut t = p.next_token();
            if t.kind == Tok::ObjEnd {
                p.depth -= 1;
                return Ok(());
            }
            loop {
                if t.kind != Tok::String {
                    return parse_error(l, "object key string", &t);
                }
                lua::push_bytes(l, &p.tmp);
                t = p.next_token();
                if t.kind != Tok::Colon {
                    return parse_error(l, "colon", &t);
                }
                t = p.next_token();
                process_value(l, p, &t)?;
                ffi::lua_rawset(l, -3);
                t = p.next_token();
                if t.kind == Tok::ObjEnd {
                    p.depth -= 1;
                    return Ok(());
                }
                if t.kind != Tok::Comma {
                    return parse_error(l, "comma or object end", &t);
                }
                t = p.next_token();
            }
        }
        Tok::ArrBegin => {
            descend(l, p, 2)?;
            ffi::lua_newtable(l);
            let mut t = p.next_token();
            if t.kind == Tok::ArrEnd {
                p.depth -= 1;
                return Ok(());
            }
            let mut i: i64 = 1;
            loop {
                process_value(l, p, &t)?;
                ffi::lua_rawseti(l, -2, i as ffi::lua_Integer);
                i += 1;
                t = p.next_token();
                if t.kind == Tok::ArrEnd {
                    p.depth -= 1;
                    return Ok(());
                }
                if t.kind != Tok::Comma {
                    return parse_error(l, "comma or array end", &t);
                }
                t = p.next_token();
            }
        }
        Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
        _ => return parse_error(l, "value", t),
    }
    Ok(())
}

lua_callback! {
    fn decode(l) {
        if ffi::lua_gettop(l) != 1 {
            push_arg_error(l, 1, "expected 1 argument");
            return Err(());
        }
        let cfg = *config(l);
        let data = check_bytes(l, 1)?;
        if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
            lua::push_error_at(l, 1, "JSON parser does not support UTF-16 or UTF-32");
            return Err(());
        }
        let mut p = Parser { data, pos: 0, depth: 0, cfg, tmp: Vec::new() };
        let t = p.next_token();
        process_value(l, &mut p, &t)?;
        let t = p.next_token();
        if t.kind != Tok::End {
            parse_error(l, "the end", &t)?;
        }
        Ok(1)
    }
}

lua_callback! {
    fn new(l) {
        push_module(l);
        Ok(1)
    }
}

/// Pushes a new cjson module table with its own configuration.
unsafe fn push_module(l: State) {
    ffi::lua_newtable(l);
    let cfg = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()) as *mut Config;
    cfg.write(DEFAULT);
    let funcs: [(&str, ffi::lua_CFunction); 10] = [
        ("encode", encode),
        ("decode", decode),
        ("encode_sparse_array", cfg_encode_sparse_array),
        ("encode_max_depth", cfg_encode_max_depth),
        ("decode_max_depth", cfg_decode_max_depth),
        ("encode_number_precision", cfg_encode_number_precision),
        ("encode_keep_buffer", cfg_encode_keep_buffer),
        ("encode_invalid_numbers", cfg_encode_invalid_numbers),
        ("decode_invalid_numbers", cfg_decode_invalid_numbers),
        ("new", new),
    ];
    for (name, f) in funcs {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, f, 1);
        lua::raw_set_field(l, -3, name);
    }
    ffi::lua_pop(l, 1);
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    lua::raw_set_field(l, -2, "null");
    lua::set_string(l, "_NAME", b"cjson");
    lua::set_string(l, "_VERSION", b"2.1.0");
}

/// Creates the `cjson` global.
pub unsafe fn open(l: State) {
    push_module(l);
    lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "cjson");
}

#[cfg(test)]
mod tests {
    use super::strtod;

    #[test]
    fn strtod_reads_prefixes() {
        assert_eq!(strtod(b"1.5]"), Some((1.5, 3)));
        assert_eq!(strtod(b"-5e3,"), Some((-5000.0, 4)));
        assert_eq!(strtod(b"0x10"), Some((16.0, 4)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"-"), None);
        assert!(strtod(b"nan").is_some_and(|(n, u)| n.is_nan() && u == 3));
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
    }
}
