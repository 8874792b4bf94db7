//! The `struct` library (Roberto Ierusalimschy's struct 0.2 as Redis ships it):
//! `struct.pack`, `struct.unpack`, `struct.size` with its format language (`<`, `>`, `!n`,
//! `b B h H l L T i[n] I[n] f d x c[n] s`), 64-bit longs, integers up to 32 bytes.

use super::lua::{self, ffi, lua_callback, CbResult, State};
use super::sandbox::{check_bytes, check_number, push_arg_error};

const MAXINTSIZE: usize = 32;
/// Alignment of a double in a struct on x86-64.
const MAXALIGN: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header { little: cfg!(target_endian = "little"), align: 1 }
    }
}

/// A parse error of the format (luaL_error / luaL_argerror).
enum FmtError {
    Error(String),
    Arg(i32, String),
}

fn getnum(fmt: &[u8], pos: &mut usize, default: usize) -> Result<usize, FmtError> {
    if !fmt.get(*pos).is_some_and(|c| c.is_ascii_digit()) {
        return Ok(default);
    }
    let mut a: i64 = 0;
    while let Some(&c) = fmt.get(*pos).filter(|c| c.is_ascii_digit()) {
        let d = (c - b'0') as i64;
        if a > (i32::MAX / 10) as i64 || a * 10 > i32::MAX as i64 - d {
            return Err(FmtError::Error("integral size overflow".into()));
        }
        a = a * 10 + d;
        *pos += 1;
    }
    Ok(a as usize)
}

fn optsize(opt: u8, fmt: &[u8], pos: &mut usize) -> Result<usize, FmtError> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' => 8,
        b'f' => 4,
        b'd' => 8,
        b'x' => 1,
        b'c' => getnum(fmt, pos, 1)?,
        b'i' | b'I' => {
            let sz = getnum(fmt, pos, 4)?;
            if sz > MAXINTSIZE {
                return Err(FmtError::Error(format!("integral size {sz} is larger than limit of {MAXINTSIZE}")));
            }
            sz
        }
        _ => 0,
    })
}

fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn controloptions(opt: u8, fmt: &[u8], pos: &mut usize, h: &mut Header) -> Result<(), FmtError> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.little = false;
            Ok(())
        }
        b'<' => {
            h.little = true;
            Ok(())
        }
        b'!' => {
            let a = getnum(fmt, pos, MAXALIGN)?;
            if a == 0 || a & (a - 1) != 0 {
                return Err(FmtError::Error(format!("alignment {a} is not a power of 2")));
            }
            h.align = a;
            Ok(())
        }
        _ => Err(FmtError::Arg(1, format!("invalid format option '{}'", opt as char))),
    }
}

unsafe fn raise_fmt(l: State, e: FmtError) -> CbResult {
    match e {
        FmtError::Error(m) => lua::push_error_at(l, 1, &m),
        FmtError::Arg(n, m) => push_arg_error(l, n, &m),
    }
    Err(())
}

/// The format string up to its first NUL (C string semantics).
unsafe fn format_arg<'a>(l: State) -> Result<&'a [u8], ()> {
    let f = check_bytes(l, 1)?;
    Ok(&f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())])
}

fn put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value: u64 = if n < 0.0 {
        lua::number_to_i64(n) as u64
    } else if n >= 18_446_744_073_709_551_616.0 {
        0
    } else {
        n as u64
    };
    let mut buf = [0u8; MAXINTSIZE];
    if little {
        for b in buf.iter_mut().take(size) {
            *b = (value & 0xff) as u8;
            value = value.checked_shr(8).unwrap_or(0);
        }
    } else {
        for i in (0..size).rev() {
            buf[i] = (value & 0xff) as u8;
            value = value.checked_shr(8).unwrap_or(0);
        }
    }
    out.extend_from_slice(&buf[..size]);
}

lua_callback! {
    fn pack(l) {
        let fmt = format_arg(l)?;
        let mut h = Header::new();
        let mut arg = 2;
        let mut total = 0usize;
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < fmt.len() {
            let opt = fmt[pos];
            pos += 1;
            let mut size = match optsize(opt, fmt, &mut pos) {
                Ok(s) => s,
                Err(e) => return raise_fmt(l, e),
            };
            let toalign = gettoalign(total, &h, opt, size);
            total += toalign;
            out.resize(out.len() + toalign, 0);
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    let n = check_number(l, arg)?;
                    arg += 1;
                    put_integer(&mut out, n, h.little, size);
                }
                b'x' => out.push(0),
                b'f' => {
                    let f = check_number(l, arg)? as f32;
                    arg += 1;
                    out.extend_from_slice(&if h.little { f.to_le_bytes() } else { f.to_be_bytes() });
                }
                b'd' => {
                    let d = check_number(l, arg)?;
                    arg += 1;
                    out.extend_from_slice(&if h.little { d.to_le_bytes() } else { d.to_be_bytes() });
                }
                b'c' | b's' => {
                    let s = check_bytes(l, arg)?;
                    arg += 1;
                    if size == 0 {
                        size = s.len();
                    }
                    if s.len() < size {
                        push_arg_error(l, arg, "string too short");
                        return Err(());
                    }
                    if out.len() + size > lua::budget(l) {
                        lua::push_memory_error(l);
                        return Err(());
                    }
                    out.extend_from_slice(&s[..size]);
                    if opt == b's' {
                        out.push(0);
                        size += 1;
                    }
                }
                _ => {
                    if let Err(e) = controloptions(opt, fmt, &mut pos, &mut h) {
                        return raise_fmt(l, e);
                    }
                }
            }
            total += size;
        }
        lua::push_bytes(l, &out);
        Ok(1)
    }
}

fn get_integer(buf: &[u8], little: bool, signed: bool, size: usize) -> f64 {
    let mut v: u64 = 0;
    let bytes: Box<dyn Iterator<Item = &u8>> =
        if little { Box::new(buf[..size].iter().rev()) } else { Box::new(buf[..size].iter()) };
    for &b in bytes {
        v = v.checked_shl(8).unwrap_or(0) | b as u64;
    }
    if !signed {
        return v as f64;
    }
    let mask = (!0u64).checked_shl((size * 8).saturating_sub(1) as u32).unwrap_or(0);
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

lua_callback! {
    fn unpack(l) {
        let fmt = format_arg(l)?;
        let data = check_bytes(l, 2)?;
        let ld = data.len();
        let start = if ffi::lua_isnoneornil(l, 3) != 0 { 1 } else { check_number(l, 3)? as i64 };
        if start <= 0 {
            push_arg_error(l, 3, "offset must be 1 or greater");
            return Err(());
        }
        let mut pos = (start - 1) as usize;
        let mut n = 0;
        let mut h = Header::new();
        let mut fpos = 0;
        while fpos < fmt.len() {
            let opt = fmt[fpos];
            fpos += 1;
            let mut size = match optsize(opt, fmt, &mut fpos) {
                Ok(s) => s,
                Err(e) => return raise_fmt(l, e),
            };
            pos += gettoalign(pos, &h, opt, size);
            if size > ld || pos > ld - size {
                push_arg_error(l, 2, "data string too short");
                return Err(());
            }
            if ffi::lua_checkstack(l, 2) == 0 {
                lua::push_error_at(l, 1, "stack overflow (too many results)");
                return Err(());
            }
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    let v = get_integer(&data[pos..], h.little, opt.is_ascii_lowercase(), size);
                    ffi::lua_pushnumber(l, v);
                    n += 1;
                }
                b'x' => {}
                b'f' => {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(&data[pos..pos + 4]);
                    let f = if h.little { f32::from_le_bytes(b) } else { f32::from_be_bytes(b) };
                    ffi::lua_pushnumber(l, f as f64);
                    n += 1;
                }
                b'd' => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[pos..pos + 8]);
                    let d = if h.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) };
                    ffi::lua_pushnumber(l, d);
                    n += 1;
                }
                b'c' => {
                    if size == 0 {
                        if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                            lua::push_error_at(l, 1, "format 'c0' needs a previous size");
                            return Err(());
                        }
                        let prev = ffi::lua_tonumber(l, -1);
                        size = if prev < 0.0 { usize::MAX } else { prev as usize };
                        ffi::lua_pop(l, 1);
                        n -= 1;
                        if size > ld || pos > ld - size {
                            push_arg_error(l, 2, "data string too short");
                            return Err(());
                        }
                    }
                    lua::push_bytes(l, &data[pos..pos + size]);
                    n += 1;
                }
                b's' => {
                    let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                        lua::push_error_at(l, 1, "unfinished string in data");
                        return Err(());
                    };
                    size = end + 1;
                    lua::push_bytes(l, &data[pos..pos + end]);
                    n += 1;
                }
                _ => {
                    if let Err(e) = controloptions(opt, fmt, &mut fpos, &mut h) {
                        return raise_fmt(l, e);
                    }
                }
            }
            pos += size;
        }
        ffi::lua_pushinteger(l, (pos + 1) as ffi::lua_Integer);
        Ok(n + 1)
    }
}

lua_callback! {
    fn size(l) {
        let fmt = format_arg(l)?;
        let mut h = Header::new();
        let mut pos = 0usize;
        let mut fpos = 0;
        while fpos < fmt.len() {
            let opt = fmt[fpos];
            fpos += 1;
            let size = match optsize(opt, fmt, &mut fpos) {
                Ok(s) => s,
                Err(e) => return raise_fmt(l, e),
            };
            pos += gettoalign(pos, &h, opt, size);
            if opt == b's' {
                push_arg_error(l, 1, "option 's' has no fixed size");
                return Err(());
            } else if opt == b'c' && size == 0 {
                push_arg_error(l, 1, "option 'c0' has no fixed size");
                return Err(());
            }
            if !opt.is_ascii_alphanumeric() {
                if let Err(e) = controloptions(opt, fmt, &mut fpos, &mut h) {
                    return raise_fmt(l, e);
                }
            }
            pos += size;
        }
        ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
        Ok(1)
    }
}

/// Creates the `struct` global.
pub unsafe fn open(l: State) {
    ffi::lua_newtable(l);
    lua::set_fn(l, "pack", pack);
    lua::set_fn(l, "unpack", unpack);
    lua::set_fn(l, "size", size);
    lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "struct");
}
