//! Appending reply elements to an output buffer.
//!
//! These are the server's hot-path writers: no allocation beyond the buffer's own growth,
//! integers through `itoa`. Functions that differ between protocol versions take `resp3`.

use std::io::Write;

/// The protocol a client speaks, as chosen with `HELLO`.
pub type Resp3 = bool;

pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 3);
    out.push(b'+');
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// `-<message>\r\n`. Newlines in the message would break the protocol, so like Redis we
/// replace them with spaces.
pub fn error(out: &mut Vec<u8>, message: &[u8]) {
    out.reserve(message.len() + 3);
    out.push(b'-');
    out.extend(message.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
    out.extend_from_slice(b"\r\n");
}

fn prefixed_len(out: &mut Vec<u8>, prefix: u8, n: i64) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n);
    out.reserve(s.len() + 3);
    out.push(prefix);
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub fn integer(out: &mut Vec<u8>, n: i64) {
    prefixed_len(out, b':', n);
}

pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    prefixed_len(out, b'$', data.len() as i64);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// A bulk string holding the decimal form of an integer.
pub fn bulk_i64(out: &mut Vec<u8>, n: i64) {
    let mut b = itoa::Buffer::new();
    bulk(out, b.format(n).as_bytes());
}

/// Redis's "null bulk": `$-1` in RESP2, `_` in RESP3.
pub fn null(out: &mut Vec<u8>, resp3: Resp3) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}

/// Redis's "null array": `*-1` in RESP2, `_` in RESP3.
pub fn null_array(out: &mut Vec<u8>, resp3: Resp3) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" });
}

pub fn array_header(out: &mut Vec<u8>, len: usize) {
    prefixed_len(out, b'*', len as i64);
}

/// A map of `len` pairs: `%len` in RESP3, a flat array of `2*len` in RESP2.
pub fn map_header(out: &mut Vec<u8>, len: usize, resp3: Resp3) {
    if resp3 {
        prefixed_len(out, b'%', len as i64);
    } else {
        prefixed_len(out, b'*', 2 * len as i64);
    }
}

pub fn set_header(out: &mut Vec<u8>, len: usize, resp3: Resp3) {
    prefixed_len(out, if resp3 { b'~' } else { b'*' }, len as i64);
}

pub fn push_header(out: &mut Vec<u8>, len: usize, resp3: Resp3) {
    prefixed_len(out, if resp3 { b'>' } else { b'*' }, len as i64);
}

pub fn boolean(out: &mut Vec<u8>, b: bool, resp3: Resp3) {
    out.extend_from_slice(match (resp3, b) {
        (true, true) => b"#t\r\n",
        (true, false) => b"#f\r\n",
        (false, true) => b":1\r\n",
        (false, false) => b":0\r\n",
    });
}

/// A double as redis-server 7.0 writes it: `%.17g` text, as a bulk string in RESP2 and a
/// `,` double in RESP3; infinities as `inf` / `-inf`.
pub fn double(out: &mut Vec<u8>, d: f64, resp3: Resp3) {
    let mut text = [0u8; 32];
    let n = format_g17(d, &mut text);
    if resp3 {
        out.push(b',');
        out.extend_from_slice(&text[..n]);
        out.extend_from_slice(b"\r\n");
    } else {
        bulk(out, &text[..n]);
    }
}

/// A double whose text was already formatted (long doubles, `INCRBYFLOAT`).
pub fn double_text(out: &mut Vec<u8>, text: &[u8], resp3: Resp3) {
    if resp3 {
        out.push(b',');
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    } else {
        bulk(out, text);
    }
}

pub fn big_number(out: &mut Vec<u8>, digits: &[u8], resp3: Resp3) {
    if resp3 {
        out.push(b'(');
        out.extend_from_slice(digits);
        out.extend_from_slice(b"\r\n");
    } else {
        bulk(out, digits);
    }
}

/// Verbatim text (`INFO`, `CLIENT LIST` in RESP3): `=len\r\ntxt:...`; a bulk string in RESP2.
pub fn verbatim(out: &mut Vec<u8>, format: &[u8; 3], text: &[u8], resp3: Resp3) {
    if resp3 {
        prefixed_len(out, b'=', text.len() as i64 + 4);
        out.extend_from_slice(format);
        out.push(b':');
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    } else {
        bulk(out, text);
    }
}

/// Formats `d` like C's `printf("%.17g", d)` into `buf`, returning the length.
pub fn format_g17(d: f64, buf: &mut [u8; 32]) -> usize {
    format_g(d, 17, buf)
}

/// Formats `d` like C's `printf("%.<precision>g", d)` (1 ≤ precision ≤ 17).
pub fn format_g(d: f64, precision: usize, buf: &mut [u8; 32]) -> usize {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    if d.is_nan() {
        let _ = cursor.write_all(if d.is_sign_negative() { b"-nan" } else { b"nan" });
        return cursor.position() as usize;
    }
    if d.is_infinite() {
        let _ = cursor.write_all(if d < 0.0 { b"-inf" } else { b"inf" });
        return cursor.position() as usize;
    }
    // Rust's `{:e}` rounds correctly to the requested digits, as glibc does.
    let mut sci = [0u8; 40];
    let mut w = std::io::Cursor::new(&mut sci[..]);
    let _ = write!(w, "{:.*e}", precision - 1, d);
    let sci_len = w.position() as usize;
    let sci = &sci[..sci_len];
    let e_at = sci.iter().position(|&c| c == b'e').unwrap_or(sci.len());
    let exp: i32 = std::str::from_utf8(&sci[e_at + 1..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let (negative, mantissa) = match sci[..e_at].split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, &sci[..e_at]),
    };
    // Significant digits without the dot.
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &c in mantissa {
        if c != b'.' {
            digits[nd] = c;
            nd += 1;
        }
    }
    let digits = &digits[..nd];
    if negative {
        let _ = cursor.write_all(b"-");
    }
    if exp < -4 || exp >= precision as i32 {
        let mut sig = digits.len();
        while sig > 1 && digits[sig - 1] == b'0' {
            sig -= 1;
        }
        let _ = cursor.write_all(&digits[..1]);
        if sig > 1 {
            let _ = cursor.write_all(b".");
            let _ = cursor.write_all(&digits[1..sig]);
        }
        let _ = write!(cursor, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        let _ = cursor.write_all(&digits[..int_len]);
        let mut frac = &digits[int_len..];
        while let [rest @ .., b'0'] = frac {
            frac = rest;
        }
        if !frac.is_empty() {
            let _ = cursor.write_all(b".");
            let _ = cursor.write_all(frac);
        }
    } else {
        let mut frac = digits;
        while let [rest @ .., b'0'] = frac {
            frac = rest;
        }
        let _ = cursor.write_all(b"0.");
        for _ in 0..(-exp - 1) {
            let _ = cursor.write_all(b"0");
        }
        let _ = cursor.write_all(frac);
    }
    cursor.position() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g17(d: f64) -> String {
        let mut b = [0u8; 32];
        let n = format_g17(d, &mut b);
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    #[test]
    fn format_g17_matches_printf() {
        assert_eq!(g17(1.1), "1.1000000000000001");
        assert_eq!(g17(0.0), "0");
        assert_eq!(g17(-0.0), "-0");
        assert_eq!(g17(1.0), "1");
        assert_eq!(g17(10.0), "10");
        assert_eq!(g17(1.5), "1.5");
        assert_eq!(g17(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(g17(1e16), "10000000000000000");
        assert_eq!(g17(1e17), "1e+17");
        assert_eq!(g17(0.0001), "0.0001");
        assert_eq!(g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(g17(1e300), "1.0000000000000001e+300");
        assert_eq!(g17(-2.5), "-2.5");
        assert_eq!(g17(f64::INFINITY), "inf");
        assert_eq!(g17(3.0e-5), "3.0000000000000001e-05");
        assert_eq!(g17(0.1), "0.10000000000000001");
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut out = Vec::new();
        map_header(&mut out, 2, false);
        map_header(&mut out, 2, true);
        null(&mut out, false);
        null_array(&mut out, false);
        null(&mut out, true);
        double(&mut out, 1.5, false);
        double(&mut out, 1.5, true);
        boolean(&mut out, true, false);
        error(&mut out, b"ERR a\nb");
        assert_eq!(out, b"*4\r\n%2\r\n$-1\r\n*-1\r\n_\r\n$3\r\n1.5\r\n,1.5\r\n:1\r\n-ERR a b\r\n");
    }
}
