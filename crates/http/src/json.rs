//! Replies as JSON, the way Upstash's clients read them.
//!
//! Strings (simple, bulk, verbatim, doubles, big numbers) are JSON strings — invalid UTF-8
//! becomes U+FFFD, unless base64 mode encodes every string at every depth; integers are JSON
//! numbers with their exact digits; nils are `null`; arrays, sets and pushes are arrays; a
//! RESP3 map is a flat `[k1, v1, …]`; a boolean is 1 or 0. Doubles are the text RESP2 sends
//! (`"1.5"`), never a JSON float, and results never contain a JSON object or boolean (the JS
//! SDK turns a top-level object into null in base64 mode). An error nested in an array (EXEC,
//! EVAL) is its message string. The same rules are written twice, once for the engine's
//! [`Reply`] and once for the codec's [`Frame`] the proxy reads, so neither is converted into
//! the other on the hot path.

use base64::Engine as _;
use spinel_engine::reply::Reply;
use spinel_resp::Frame;

/// How strings are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Encoding {
    /// `Upstash-Encoding: base64`.
    pub base64: bool,
}

/// Appends `bytes` as a JSON string literal (lossy UTF-8, escaped).
pub fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    out.reserve(text.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 15) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Appends a string value: base64 (standard, padded) in base64 mode, else lossy UTF-8.
pub fn write_value_str(out: &mut Vec<u8>, bytes: &[u8], enc: Encoding) {
    if enc.base64 {
        out.push(b'"');
        let start = out.len();
        out.resize(start + bytes.len().div_ceil(3) * 4, 0);
        let n = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
        out.truncate(start + n);
        out.push(b'"');
    } else {
        write_str(out, bytes);
    }
}

fn write_int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn write_array<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

/// Appends an engine reply as a JSON value.
pub fn reply(out: &mut Vec<u8>, r: &Reply, enc: Encoding) {
    match r {
        Reply::Ok => write_value_str(out, b"OK", enc),
        Reply::Status(s) => write_value_str(out, s.as_bytes(), enc),
        Reply::Error(e) => write_value_str(out, e.message().as_bytes(), enc),
        Reply::Int(n) => write_int(out, *n),
        Reply::Bulk(b) => write_value_str(out, b, enc),
        Reply::Nil | Reply::NilArray | Reply::NoReply => out.extend_from_slice(b"null"),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Multi(items) => {
            write_array(out, items, |o, r| reply(o, r, enc))
        }
        Reply::Map(pairs) => {
            out.push(b'[');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                reply(out, k, enc);
                out.push(b',');
                reply(out, v, enc);
            }
            out.push(b']');
        }
        Reply::Double(d) => {
            let mut buf = [0u8; 32];
            let n = spinel_resp::write::format_g17(*d, &mut buf);
            write_value_str(out, &buf[..n], enc);
        }
        Reply::DoubleText(t) | Reply::BigNumber(t) | Reply::Verbatim(t) | Reply::VerbatimFormat(_, t) => {
            write_value_str(out, t, enc)
        }
        Reply::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        // Attributes are out-of-band metadata (RESP3 only): the value is what counts.
        Reply::Attribute(_, inner) => reply(out, inner, enc),
        // Pre-encoded RESP (DEBUG PROTOCOL and the like): decoded, then mapped like a
        // backend's reply.
        Reply::Raw(bytes) => match Frame::decode(bytes) {
            Ok(Some((f, _))) => frame(out, &f, enc),
            _ => write_value_str(out, bytes, enc),
        },
    }
}

/// Appends a RESP frame (from a backend server) as a JSON value.
pub fn frame(out: &mut Vec<u8>, f: &Frame, enc: Encoding) {
    match f {
        Frame::Simple(s) | Frame::Bulk(s) | Frame::Error(s) => write_value_str(out, s, enc),
        Frame::Integer(n) => write_int(out, *n),
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"null"),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            write_array(out, items, |o, f| frame(o, f, enc))
        }
        Frame::Map(pairs) => {
            out.push(b'[');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                frame(out, k, enc);
                out.push(b',');
                frame(out, v, enc);
            }
            out.push(b']');
        }
        Frame::Double(t) | Frame::BigNumber(t) => write_value_str(out, t, enc),
        Frame::Verbatim { text, .. } => write_value_str(out, text, enc),
        Frame::Boolean(b) => out.push(if *b { b'1' } else { b'0' }),
        Frame::Attribute { frame: inner, .. } => frame(out, inner, enc),
    }
}

/// `{"result":<value>}` around a value written by `value`.
pub fn result(out: &mut Vec<u8>, value: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"{\"result\":");
    value(out);
    out.push(b'}');
}

/// `{"error":"<message>"}` (the message is never base64).
pub fn error(out: &mut Vec<u8>, message: &[u8]) {
    out.extend_from_slice(b"{\"error\":");
    write_str(out, message);
    out.push(b'}');
}

/// A whole `{"error":…}` body.
pub fn error_body(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 12);
    error(&mut out, message.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinel_engine::error::err;

    fn r(x: &Reply, base64: bool) -> String {
        let mut out = Vec::new();
        reply(&mut out, x, Encoding { base64 });
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn replies_as_json() {
        assert_eq!(r(&Reply::Ok, false), "\"OK\"");
        assert_eq!(r(&Reply::Int(i64::MIN), false), "-9223372036854775808");
        assert_eq!(r(&Reply::bulk(b"a\"\\\n\x01\xff"), false), "\"a\\\"\\\\\\n\\u0001\u{fffd}\"");
        assert_eq!(r(&Reply::Double(1.5), false), "\"1.5\"");
        assert_eq!(r(&Reply::Double(1.1), false), "\"1.1000000000000001\"");
        assert_eq!(r(&Reply::Double(f64::INFINITY), false), "\"inf\"");
        assert_eq!(r(&Reply::Bool(true), false), "1");
        assert_eq!(r(&Reply::Map(vec![(Reply::bulk(b"k"), Reply::Int(1))]), false), "[\"k\",1]");
        assert_eq!(r(&Reply::Array(vec![Reply::Nil, Reply::Error(err("ERR x"))]), false), "[null,\"ERR x\"]");
        assert_eq!(r(&Reply::status("PONG"), true), "\"UE9ORw==\"");
        assert_eq!(r(&Reply::bulk(b"bar"), true), "\"YmFy\"");
        assert_eq!(r(&Reply::bulk(b""), true), "\"\"");
        assert_eq!(r(&Reply::Array(vec![Reply::Ok, Reply::Int(3)]), true), "[\"T0s=\",3]");
    }

    #[test]
    fn frames_as_json() {
        let f = Frame::Array(vec![
            Frame::Map(vec![(Frame::Simple(b"a".to_vec()), Frame::Double(b"2.5".to_vec()))]),
            Frame::Boolean(false),
            Frame::NullArray,
            Frame::Verbatim { format: *b"txt", text: b"hi".to_vec() },
        ]);
        let mut out = Vec::new();
        frame(&mut out, &f, Encoding::default());
        assert_eq!(String::from_utf8(out).unwrap(), "[[\"a\",\"2.5\"],0,null,\"hi\"]");
        assert_eq!(String::from_utf8(error_body("ERR \"x\"")).unwrap(), "{\"error\":\"ERR \\\"x\\\"\"}");
    }
}
