//! A generic RESP3 value, with a decoder for what servers send and an encoder.
//!
//! The server itself never builds frames on its hot path (it writes replies directly with
//! [`crate::write`]); frames are for the client side: tests, the REST proxy, tools.

use crate::parse_i64;
use crate::write;

#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    Bulk(Vec<u8>),
    /// `$-1` (RESP2) or `_` (RESP3).
    Null,
    /// `*-1` (RESP2 only).
    NullArray,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    /// The text of a `,` double, kept as sent so nothing is lost in a round trip.
    Double(Vec<u8>),
    Boolean(bool),
    BigNumber(Vec<u8>),
    Verbatim {
        format: [u8; 3],
        text: Vec<u8>,
    },
    Push(Vec<Frame>),
    /// `|` attributes come before the frame they describe.
    Attribute {
        attributes: Vec<(Frame, Frame)>,
        frame: Box<Frame>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes are not valid RESP.
    Invalid(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Invalid(why) => write!(f, "invalid RESP: {why}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Frames nested deeper than this are refused, so a hostile peer cannot overflow our stack.
const MAX_DEPTH: usize = 512;

impl Frame {
    /// Decodes one frame from the start of `buf`: `Ok(Some((frame, bytes_used)))`, or
    /// `Ok(None)` if `buf` does not yet hold a whole frame.
    pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let mut pos = 0;
        match decode_at(buf, &mut pos, 0)? {
            Some(frame) => Ok(Some((frame, pos))),
            None => Ok(None),
        }
    }

    /// Encodes the frame as RESP3 (or RESP2 when `resp3` is false: maps and sets become
    /// arrays, doubles bulk strings, booleans integers, nulls `$-1`).
    pub fn encode(&self, out: &mut Vec<u8>, resp3: bool) {
        match self {
            Frame::Simple(s) => write::simple(out, s),
            Frame::Error(e) => write::error(out, e),
            Frame::Integer(n) => write::integer(out, *n),
            Frame::Bulk(b) => write::bulk(out, b),
            Frame::Null => write::null(out, resp3),
            Frame::NullArray => write::null_array(out, resp3),
            Frame::Array(items) => {
                write::array_header(out, items.len());
                items.iter().for_each(|f| f.encode(out, resp3));
            }
            Frame::Map(pairs) => {
                write::map_header(out, pairs.len(), resp3);
                for (k, v) in pairs {
                    k.encode(out, resp3);
                    v.encode(out, resp3);
                }
            }
            Frame::Set(items) => {
                write::set_header(out, items.len(), resp3);
                items.iter().for_each(|f| f.encode(out, resp3));
            }
            Frame::Push(items) => {
                write::push_header(out, items.len(), resp3);
                items.iter().for_each(|f| f.encode(out, resp3));
            }
            Frame::Double(text) => write::double_text(out, text, resp3),
            Frame::Boolean(b) => write::boolean(out, *b, resp3),
            Frame::BigNumber(d) => write::big_number(out, d, resp3),
            Frame::Verbatim { format, text } => write::verbatim(out, format, text, resp3),
            Frame::Attribute { attributes, frame } => {
                if resp3 {
                    out.extend_from_slice(format!("|{}\r\n", attributes.len()).as_bytes());
                    for (k, v) in attributes {
                        k.encode(out, resp3);
                        v.encode(out, resp3);
                    }
                }
                frame.encode(out, resp3);
            }
        }
    }

    /// A command as a client sends it: an array of bulk strings.
    pub fn command<I, A>(args: I) -> Vec<u8>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let args: Vec<A> = args.into_iter().collect();
        let mut out = Vec::new();
        write::array_header(&mut out, args.len());
        for a in &args {
            write::bulk(&mut out, a.as_ref());
        }
        out
    }
}

fn invalid<T>(why: impl Into<String>) -> Result<T, FrameError> {
    Err(FrameError::Invalid(why.into()))
}

/// The line starting at `*pos` (without CRLF), advancing past it; `None` if incomplete.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = &buf[*pos..];
    let cr = memchr::memmem::find(rest, b"\r\n")?;
    *pos += cr + 2;
    Some(&rest[..cr])
}

fn length(text: &[u8]) -> Result<Option<usize>, FrameError> {
    match parse_i64(text) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => Ok(Some(n as usize)),
        _ => invalid(format!("bad length {:?}", String::from_utf8_lossy(text))),
    }
}

fn decode_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, FrameError> {
    if depth > MAX_DEPTH {
        return invalid("nested too deeply");
    }
    let Some(&kind) = buf.get(*pos) else { return Ok(None) };
    let start = *pos;
    *pos += 1;
    let Some(head) = line(buf, pos) else {
        *pos = start;
        return Ok(None);
    };
    macro_rules! need {
        ($e:expr) => {
            match $e {
                Some(v) => v,
                None => {
                    *pos = start;
                    return Ok(None);
                }
            }
        };
    }
    let frame = match kind {
        b'+' => Frame::Simple(head.to_vec()),
        b'-' => Frame::Error(head.to_vec()),
        b':' => Frame::Integer(parse_i64(head).ok_or_else(|| FrameError::Invalid("bad integer".into()))?),
        b'_' => Frame::Null,
        b'#' => match head {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return invalid("bad boolean"),
        },
        b',' => Frame::Double(head.to_vec()),
        b'(' => Frame::BigNumber(head.to_vec()),
        b'$' | b'=' | b'!' => match length(head)? {
            None => Frame::Null,
            Some(n) => {
                if buf.len() < *pos + n + 2 {
                    *pos = start;
                    return Ok(None);
                }
                let data = buf[*pos..*pos + n].to_vec();
                *pos += n + 2;
                match kind {
                    b'$' => Frame::Bulk(data),
                    b'!' => Frame::Error(data),
                    _ => {
                        if data.len() < 4 || data[3] != b':' {
                            return invalid("bad verbatim string");
                        }
                        Frame::Verbatim { format: [data[0], data[1], data[2]], text: data[4..].to_vec() }
                    }
                }
            }
        },
        b'*' | b'~' | b'>' => match length(head)? {
            None => Frame::NullArray,
            Some(n) => {
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(need!(decode_at(buf, pos, depth + 1)?));
                }
                match kind {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    _ => Frame::Push(items),
                }
            }
        },
        b'%' | b'|' => {
            let n = length(head)?.unwrap_or(0);
            let mut pairs = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let k = need!(decode_at(buf, pos, depth + 1)?);
                let v = need!(decode_at(buf, pos, depth + 1)?);
                pairs.push((k, v));
            }
            if kind == b'%' {
                Frame::Map(pairs)
            } else {
                let frame = need!(decode_at(buf, pos, depth + 1)?);
                Frame::Attribute { attributes: pairs, frame: Box::new(frame) }
            }
        }
        other => return invalid(format!("unknown type byte {:?}", other as char)),
    };
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_resp3() {
        let frame = Frame::Array(vec![
            Frame::Simple(b"OK".to_vec()),
            Frame::Map(vec![(Frame::Bulk(b"a".to_vec()), Frame::Integer(-3))]),
            Frame::Set(vec![Frame::Boolean(true)]),
            Frame::Double(b"1.5".to_vec()),
            Frame::Null,
            Frame::Verbatim { format: *b"txt", text: b"hi".to_vec() },
            Frame::Push(vec![]),
            Frame::Error(b"ERR x".to_vec()),
        ]);
        let mut out = Vec::new();
        frame.encode(&mut out, true);
        assert_eq!(Frame::decode(&out).unwrap(), Some((frame, out.len())));
        for cut in 0..out.len() {
            assert_eq!(Frame::decode(&out[..cut]).unwrap(), None);
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(Frame::decode(b"?x\r\n").is_err());
        assert!(Frame::decode(b"*-5\r\n").is_err());
    }
}
