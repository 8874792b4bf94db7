//! What a command handler returns: a RESP3-shaped value, encoded for the client's protocol
//! (or for JSON by the REST API) outside the handler.

use smallvec::SmallVec;
use spinel_resp::write;

use crate::error::Error;

/// Bulk bytes; short values stay inline (no allocation for typical GET replies).
pub type Bytes = SmallVec<[u8; 23]>;

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// A status line (`+PONG`, `+QUEUED`, `+string` from TYPE).
    Status(std::borrow::Cow<'static, str>),
    Error(Error),
    Int(i64),
    Bulk(Bytes),
    /// `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// A map (`%`): a flat array of pairs in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// A set (`~`): an array in RESP2.
    Set(Vec<Reply>),
    /// A double: `%.17g` bulk string in RESP2, `,` in RESP3.
    Double(f64),
    /// A double already formatted (long doubles): bulk in RESP2, `,` in RESP3.
    DoubleText(Vec<u8>),
    /// `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    Bool(bool),
    BigNumber(Vec<u8>),
    /// Verbatim text (`=…txt:`), a bulk string in RESP2.
    Verbatim(Vec<u8>),
    /// Verbatim text with another format than `txt` (a script's `verbatim_string`).
    VerbatimFormat([u8; 3], Vec<u8>),
    /// An out-of-band push (`>`), an array in RESP2.
    Push(Vec<Reply>),
    /// Several replies in a row (SUBSCRIBE to several channels answers once per channel).
    Multi(Vec<Reply>),
    /// Nothing is written now (the client blocked, or replies were turned off).
    NoReply,
    /// Bytes already in protocol form (a full sync's RDB payload).
    Raw(Vec<u8>),
    /// RESP3 attributes (`|`) describing the reply that follows; RESP2 sends only the reply.
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
}

impl Reply {
    pub fn bulk(data: &[u8]) -> Reply {
        Reply::Bulk(Bytes::from_slice(data))
    }

    pub fn bulk_vec(data: Vec<u8>) -> Reply {
        Reply::Bulk(Bytes::from_vec(data))
    }

    pub fn bulk_str(s: &str) -> Reply {
        Reply::bulk(s.as_bytes())
    }

    pub fn bulk_i64(n: i64) -> Reply {
        Reply::bulk(itoa::Buffer::new().format(n).as_bytes())
    }

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(s.into())
    }

    pub fn status_owned(s: String) -> Reply {
        Reply::Status(s.into())
    }

    pub fn error(e: Error) -> Reply {
        Reply::Error(e)
    }

    /// An array of bulk strings.
    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Reply::Array(items.into_iter().map(|b| Reply::bulk(b.as_ref())).collect())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the RESP encoding for a client speaking RESP3 (`resp3`) or RESP2.
    pub fn encode(&self, out: &mut Vec<u8>, resp3: bool) {
        match self {
            Reply::Ok => out.extend_from_slice(b"+OK\r\n"),
            Reply::Status(s) => write::simple(out, s.as_bytes()),
            Reply::Error(e) => write::error(out, e.message().as_bytes()),
            Reply::Int(n) => write::integer(out, *n),
            Reply::Bulk(b) => write::bulk(out, b),
            Reply::Nil => write::null(out, resp3),
            Reply::NilArray => write::null_array(out, resp3),
            Reply::Array(items) => {
                write::array_header(out, items.len());
                items.iter().for_each(|r| r.encode(out, resp3));
            }
            Reply::Map(pairs) => {
                write::map_header(out, pairs.len(), resp3);
                for (k, v) in pairs {
                    k.encode(out, resp3);
                    v.encode(out, resp3);
                }
            }
            Reply::Set(items) => {
                write::set_header(out, items.len(), resp3);
                items.iter().for_each(|r| r.encode(out, resp3));
            }
            Reply::Double(d) => write::double(out, *d, resp3),
            Reply::DoubleText(t) => write::double_text(out, t, resp3),
            Reply::Bool(b) => write::boolean(out, *b, resp3),
            Reply::BigNumber(d) => write::big_number(out, d, resp3),
            Reply::Verbatim(t) => write::verbatim(out, b"txt", t, resp3),
            Reply::VerbatimFormat(f, t) => write::verbatim(out, f, t, resp3),
            Reply::Push(items) => {
                write::push_header(out, items.len(), resp3);
                items.iter().for_each(|r| r.encode(out, resp3));
            }
            Reply::Multi(replies) => replies.iter().for_each(|r| r.encode(out, resp3)),
            Reply::NoReply => {}
            Reply::Raw(bytes) => out.extend_from_slice(bytes),
            Reply::Attribute(attrs, reply) => {
                if resp3 {
                    out.push(b'|');
                    out.extend_from_slice(itoa::Buffer::new().format(attrs.len()).as_bytes());
                    out.extend_from_slice(b"\r\n");
                    for (k, v) in attrs {
                        k.encode(out, resp3);
                        v.encode(out, resp3);
                    }
                }
                reply.encode(out, resp3);
            }
        }
    }

    /// Visits every error in this reply (nested ones too), for errorstats.
    pub fn for_each_error(&self, f: &mut impl FnMut(&Error)) {
        match self {
            Reply::Error(e) => f(e),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Multi(items) => {
                items.iter().for_each(|r| r.for_each_error(f))
            }
            Reply::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                k.for_each_error(f);
                v.for_each_error(f);
            }),
            _ => {}
        }
    }
}

impl From<Error> for Reply {
    fn from(e: Error) -> Reply {
        Reply::Error(e)
    }
}

impl From<Result<Reply, Error>> for Reply {
    fn from(r: Result<Reply, Error>) -> Reply {
        r.unwrap_or_else(Reply::Error)
    }
}
