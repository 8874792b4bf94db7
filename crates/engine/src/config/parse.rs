//! C-compatible parsing and formatting helpers: the exact semantics of the libc and Redis util
//! functions config.c relies on (`memtoull`, `strtoll`, `string2d`, `sdscatrepr`, `%f` +
//! `trimDoubleString`, `strerror`…), plus the directive validation functions.

use super::Config;

/// The part of `b` a C function sees: everything before the first NUL.
pub fn cstr(b: &[u8]) -> &[u8] {
    &b[..memchr::memchr(0, b).unwrap_or(b.len())]
}

/// `strcasecmp(a, b) == 0` on C strings.
pub fn eq_nocase(a: &[u8], b: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(b.as_bytes())
}

/// `yesnotoi`: Some(true) for "yes", Some(false) for "no" (case-insensitive), else None.
pub fn yes_no(s: &[u8]) -> Option<bool> {
    if eq_nocase(s, "yes") {
        Some(true)
    } else if eq_nocase(s, "no") {
        Some(false)
    } else {
        None
    }
}

/// Redis's `string2ll` (strict decimal, whole buffer).
pub fn string2ll(s: &[u8]) -> Option<i64> {
    spinel_resp::parse_i64(s)
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// libc `strtoll(s, &end, base)` for base 8 or 10 on the C string `s`: returns the value
/// (saturated on overflow), the index `end` points at, and whether errno became ERANGE.
pub fn strtoll(s: &[u8], base: u32) -> (i64, usize, bool) {
    let s = cstr(s);
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let limit: u64 = if neg { 1u64 << 63 } else { i64::MAX as u64 };
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d as u64,
            None => break,
        };
        if !overflow {
            match v.checked_mul(base as u64).and_then(|x| x.checked_add(d)) {
                Some(x) if x <= limit => v = x,
                _ => overflow = true,
            }
        }
        i += 1;
    }
    if i == start {
        return (0, 0, false);
    }
    if overflow {
        return (if neg { i64::MIN } else { i64::MAX }, i, true);
    }
    let value = if neg { (v as i64).wrapping_neg() } else { v as i64 };
    (value, i, false)
}

/// `strtoll(s, &eptr, 10)` where the caller then requires `*eptr == '\0'`: the value if the
/// whole C string was consumed (an empty string reads as 0, as in C).
pub fn strtoll_whole(s: &[u8]) -> Option<i64> {
    let c = cstr(s);
    let (v, end, _) = strtoll(c, 10);
    (end == c.len()).then_some(v)
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; case-insensitive).
/// Negative numbers are refused; overflow wraps like the C multiplication does.
pub fn memtoull(p: &[u8]) -> Option<u64> {
    let p = cstr(p);
    if p.first() == Some(&b'-') {
        return None;
    }
    let digits = p.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = &p[digits..];
    let mul: u64 = if unit.is_empty() || unit.eq_ignore_ascii_case(b"b") {
        1
    } else if unit.eq_ignore_ascii_case(b"k") {
        1000
    } else if unit.eq_ignore_ascii_case(b"kb") {
        1024
    } else if unit.eq_ignore_ascii_case(b"m") {
        1000 * 1000
    } else if unit.eq_ignore_ascii_case(b"mb") {
        1024 * 1024
    } else if unit.eq_ignore_ascii_case(b"g") {
        1000 * 1000 * 1000
    } else if unit.eq_ignore_ascii_case(b"gb") {
        1024 * 1024 * 1024
    } else {
        return None;
    };
    if digits >= 128 {
        return None;
    }
    // strtoull on a digits-only buffer: saturates on overflow, "" reads as 0.
    let mut v: u64 = 0;
    for &c in &p[..digits] {
        v = v.checked_mul(10).and_then(|x| x.checked_add((c - b'0') as u64)).unwrap_or(u64::MAX);
        if v == u64::MAX {
            break;
        }
    }
    Some(v.wrapping_mul(mul))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
}

/// Redis's `string2d`: strtod over the whole buffer, no leading space, no overflow/underflow,
/// no NaN.
pub fn string2d(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) || s.contains(&0) {
        return None;
    }
    let c = std::ffi::CString::new(s).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `c` is a valid NUL-terminated string and `end` a valid out pointer; errno is the
    // calling thread's.
    let (v, err) = unsafe {
        *errno_location() = 0;
        let v = libc::strtod(c.as_ptr(), &mut end);
        (v, *errno_location())
    };
    let consumed = end as usize - c.as_ptr() as usize;
    if consumed != s.len() || v.is_nan() || (err == libc::ERANGE && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// `sprintf("%f")` followed by Redis's `trimDoubleString`.
pub fn format_double_trimmed(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Appends `s` quoted as `sdscatrepr` does.
pub fn repr_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// `sdscatrepr` into a fresh buffer.
pub fn repr(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    repr_into(&mut out, s);
    out
}

/// `strerror(errno)` (without Rust's " (os error N)" suffix).
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local string.
    unsafe {
        let p = libc::strerror(errno);
        if p.is_null() {
            return format!("Unknown error {errno}");
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The errno of an io::Error (EIO when it has none).
pub fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// `sdssplitlen(value, len, " ", 1)`: how CONFIG SET splits a multi-arg value. An empty value
/// gives no arguments; consecutive spaces give empty ones.
pub fn split_spaces(value: &[u8]) -> Vec<Vec<u8>> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(|&c| c == b' ').map(|s| s.to_vec()).collect()
}

/// `sdstrim(s, chars)`.
pub fn trim<'a>(s: &'a [u8], chars: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !chars.contains(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !chars.contains(c)).map_or(start, |p| p + 1);
    &s[start..end.max(start)]
}

/// Lossy text of bytes for messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path_is_base_name(p: &[u8]) -> bool {
    !p.contains(&b'/') && !p.contains(&b'\\')
}

pub fn valid_db_filename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if !path_is_base_name(v) {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

pub fn valid_aof_filename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if !path_is_base_name(v) {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

pub fn valid_aof_dirname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if !path_is_base_name(v) {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

pub fn valid_announced_hostname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

pub fn valid_proc_title_template(config: &Config, v: &[u8]) -> Result<(), &'static str> {
    match config.expand_proc_title(v, b"") {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables"),
    }
}

/// Splits a list config (`http-token`, `http-bind`) on spaces and commas.
pub fn split_list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b' ' || c == b',' || c == b'\t').filter(|t| !t.is_empty())
}

/// `http-token` / `http-readonly-token`: printable ASCII tokens (they travel in an HTTP
/// header and a URL), separated by spaces or commas.
pub fn valid_http_tokens(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.iter().any(|&c| !(c.is_ascii_graphic() || c == b' ' || c == b'\t')) {
        return Err("tokens must be printable ASCII, separated by spaces or commas");
    }
    Ok(())
}

/// `http-bind`: IP addresses separated by spaces or commas (empty: the REST API is off).
pub fn valid_http_bind(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    for addr in split_list(v) {
        let ok = std::str::from_utf8(addr).ok().and_then(|a| a.parse::<std::net::IpAddr>().ok()).is_some();
        if !ok {
            return Err("Invalid bind address");
        }
    }
    Ok(())
}

pub fn valid_shutdown_on_sig(v: i32) -> Result<(), &'static str> {
    if v & 1 != 0 && v & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    Ok(())
}

/// Redis's `sdstemplate`: `{name}` is replaced by `var(name)` (None aborts), `{{` is a literal
/// `{`.
pub fn expand_template(template: &[u8], var: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let t = cstr(template);
    let mut res = Vec::new();
    let mut p = 0;
    while p < t.len() {
        let Some(open) = memchr::memchr(b'{', &t[p..]).map(|o| p + o) else {
            res.extend_from_slice(&t[p..]);
            break;
        };
        res.extend_from_slice(&t[p..open]);
        let sv = open + 1;
        if sv >= t.len() {
            return None;
        }
        if t[sv] == b'{' {
            res.push(b'{');
            p = sv + 1;
            continue;
        }
        let close = sv + memchr::memchr(b'}', &t[sv..])?;
        res.extend_from_slice(&var(&t[sv..close])?);
        p = close + 1;
    }
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memtoull_like_redis() {
        assert_eq!(memtoull(b"100"), Some(100));
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"2m"), Some(2_000_000));
        assert_eq!(memtoull(b"2Mb"), Some(2 << 20));
        assert_eq!(memtoull(b"3g"), Some(3_000_000_000));
        assert_eq!(memtoull(b"3gB"), Some(3 << 30));
        assert_eq!(memtoull(b"5b"), Some(5));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"18446744073709551616"), Some(u64::MAX));
        for bad in [&b"-1"[..], b"1.5gb", b" 1", b"+1", b"1 kb", b"1t", b"abc"] {
            assert_eq!(memtoull(bad), None, "{}", lossy(bad));
        }
    }

    #[test]
    fn strtoll_like_libc() {
        assert_eq!(strtoll(b"  -12x", 10), (-12, 5, false));
        assert_eq!(strtoll(b"", 10), (0, 0, false));
        assert_eq!(strtoll(b"-", 10), (0, 0, false));
        assert_eq!(strtoll(b"99999999999999999999", 10), (i64::MAX, 20, true));
        assert_eq!(strtoll(b"-99999999999999999999", 10), (i64::MIN, 21, true));
        assert_eq!(strtoll(b"0755", 8), (0o755, 4, false));
        assert_eq!(strtoll(b"8", 8), (0, 0, false));
        assert_eq!(strtoll_whole(b""), Some(0));
        assert_eq!(strtoll_whole(b"+5"), Some(5));
        assert_eq!(strtoll_whole(b"5 "), None);
    }

    #[test]
    fn string2d_and_double_format() {
        assert_eq!(string2d(b"99.9"), Some(99.9));
        assert_eq!(string2d(b"1e2"), Some(100.0));
        assert_eq!(string2d(b""), None);
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"1 "), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e999"), None);
        assert_eq!(string2d(b"1e-999"), None);
        assert_eq!(format_double_trimmed(99.9), "99.9");
        assert_eq!(format_double_trimmed(50.0), "50");
        assert_eq!(format_double_trimmed(99.99999), "99.99999");
    }

    #[test]
    fn repr_like_sdscatrepr() {
        assert_eq!(repr(b"a\"b\\c\n\x01\xff"), b"\"a\\\"b\\\\c\\n\\x01\\xff\"".to_vec());
    }

    #[test]
    fn template_expansion() {
        let var = |n: &[u8]| (n == b"x").then(|| b"X".to_vec());
        assert_eq!(expand_template(b"a{x}b{{c", var), Some(b"aXb{c".to_vec()));
        assert_eq!(expand_template(b"{y}", var), None);
        assert_eq!(expand_template(b"a{", var), None);
        assert_eq!(expand_template(b"a{x", var), None);
    }

    #[test]
    fn trim_and_split() {
        assert_eq!(trim(b" \t a b \r\n", b" \t\r\n"), b"a b");
        assert_eq!(trim(b"   ", b" "), b"");
        assert_eq!(split_spaces(b""), Vec::<Vec<u8>>::new());
        assert_eq!(split_spaces(b"a  b"), vec![b"a".to_vec(), vec![], b"b".to_vec()]);
    }
}
