//! The REST API's connections: a small HTTP/1.1 server for the common request, hyper for
//! everything else.
//!
//! Why: under load (`POST /pipeline` with one GET, keep-alive, 50 connections) hyper's parser,
//! encoder, dispatcher, header map and body channel cost twice what our own handler does. The
//! requests the SDKs send are all alike — HTTP/1.1, a few headers, a `Content-Length` body —
//! so those are read and answered here, and hyper keeps everything unusual.
//!
//! How: a connection starts here. Bytes are read into a buffer and each request head is
//! parsed with `httparse` (the parser hyper itself uses, with the same default settings). A
//! *plain* request is one that is:
//! * HTTP/1.1 with an origin-form target (`/…`) that `http`'s URI parser accepts, and a method
//!   `http::Method` accepts;
//! * without `Transfer-Encoding`, `Expect` or `Upgrade`, with at most one `Content-Length`
//!   (decimal, at most [`MAX_BODY`]) and at most one `Connection` (`keep-alive` or `close`);
//! * not for an event-stream route (`/subscribe/…`, `/psubscribe/…`, `/monitor`);
//! * at most [`MAX_HEADERS`] header fields, the head at most [`MAX_HEAD`] bytes.
//!
//! Once its whole body is buffered, a plain request goes through
//! [`service::respond_to`] — the routing, authentication and execution hyper's requests go
//! through — and the response is serialized as hyper would write it (status line, the
//! response's headers in order with their lowercase names, `connection: close` when closing,
//! `content-length`, `date`). Responses are collected and written with one write once no
//! further complete request is buffered, so pipelined requests are answered in order with as
//! few system calls as possible.
//!
//! The first request that is not plain (HTTP/1.0, chunked or `Expect: 100-continue` bodies,
//! an oversize `Content-Length`, event streams, a head that does not parse, …) hands the
//! connection to hyper for the rest of its life: [`Replay`] gives hyper the bytes already read
//! and then the socket, so hyper sees the request from its first byte and answers it exactly
//! as it always has (its 400/431 answers, chunked decoding, SSE streaming).
//!
//! EOF or an I/O error ends the connection quietly.

use std::cell::Cell;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use hyper::header::HeaderName;
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::body::Body;
use crate::service::{self, Headers, RequestBody, MAX_BODY};
use crate::Gateway;

/// A request head that has not ended after this many bytes goes to hyper (which has its own,
/// larger limit and answers 431 past it).
pub const MAX_HEAD: usize = 64 * 1024;

/// Header fields the fast path parses; a request with more goes to hyper.
pub const MAX_HEADERS: usize = 32;

/// Read buffer's initial size and the free room kept before each read.
const READ_CHUNK: usize = 8 * 1024;

/// Buffered responses are written once they reach this size even if more requests are
/// waiting, so a long pipeline of large replies does not pile up in memory.
const WRITE_AT: usize = 256 * 1024;

/// An incomplete head shorter than this is parsed again on every read (see [`serve`]).
const REPARSE_FREELY: usize = 1024;

/// Buffers larger than this are not kept once empty.
const KEEP_BUFFER: usize = 1024 * 1024;

/// Serves one connection: the fast path until a request needs hyper (see the module docs).
pub async fn serve<S>(mut stream: S, peer: Arc<str>, gw: Arc<Gateway>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output: Vec<u8> = Vec::new();
    // Where each header field's name and value are in the current request (reused).
    let mut fields: Vec<Field> = Vec::new();
    // Bytes needed before the buffer is worth parsing again: the whole of a request whose
    // head has been seen, or one more byte than an incomplete head.
    let mut wanted = 1;
    // While a head is incomplete: how far the buffer has been parsed. A head can only end
    // at a line feed, so a long one is parsed again only once one arrives: a head sent a
    // byte at a time is not parsed from its start once per byte. (Short ones are parsed at
    // once, so a malformed request line gets hyper's 400 without waiting for a line feed.)
    let mut parsed_to: Option<usize> = None;
    loop {
        while input.len() >= wanted {
            if let Some(at) = parsed_to.filter(|&at| at >= REPARSE_FREELY) {
                if !input.get(at..).is_some_and(|new| new.contains(&b'\n')) && input.len() <= MAX_HEAD {
                    parsed_to = Some(input.len());
                    break;
                }
            }
            parsed_to = None;
            let plain = match examine(&input, &mut fields) {
                Examined::Partial if input.len() <= MAX_HEAD => {
                    wanted = input.len() + 1;
                    parsed_to = Some(input.len());
                    break;
                }
                // A head this long without its end: hyper decides (431, or a very long head).
                Examined::Partial | Examined::NotPlain => None,
                Examined::Plain(p) => Some(p),
            };
            let Some(plain) = plain else {
                if write_out(&mut stream, &mut output).await.is_err() {
                    return;
                }
                return hand_over(stream, input.freeze(), peer, gw).await;
            };
            let total = plain.head_len + plain.body_len;
            if input.len() < total {
                wanted = total;
                input.reserve(total - input.len());
                break;
            }
            wanted = 1;
            let msg = input.split_to(total).freeze();
            let Ok(target) = PathAndQuery::from_maybe_shared(msg.slice(plain.target.clone())) else {
                // hyper refuses this target: it answers, from the start of this request.
                if write_out(&mut stream, &mut output).await.is_err() {
                    return;
                }
                let mut rest = BytesMut::with_capacity(msg.len() + input.len());
                rest.extend_from_slice(&msg);
                rest.extend_from_slice(&input);
                return hand_over(stream, rest.freeze(), peer, gw).await;
            };
            let headers = RawHeaders { msg: &msg, fields: &fields };
            let body = RequestBody::Read(msg.slice(plain.head_len..));
            let resp =
                service::respond_to(&gw, &peer, &plain.method, target.path(), target.query(), &headers, body).await;
            encode(&gw, resp, plain.method == Method::HEAD, plain.close, &mut output);
            if plain.close {
                if write_out(&mut stream, &mut output).await.is_ok() {
                    let _ = stream.shutdown().await;
                }
                return;
            }
            if output.len() >= WRITE_AT && write_out(&mut stream, &mut output).await.is_err() {
                return;
            }
        }
        if write_out(&mut stream, &mut output).await.is_err() {
            return;
        }
        if input.is_empty() && input.capacity() > KEEP_BUFFER {
            // After a large body, an idle connection does not keep its space.
            input = BytesMut::with_capacity(READ_CHUNK);
        }
        if input.capacity() - input.len() < READ_CHUNK / 2 {
            input.reserve(READ_CHUNK);
        }
        match stream.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

async fn write_out<S: AsyncWrite + Unpin>(stream: &mut S, output: &mut Vec<u8>) -> io::Result<()> {
    if output.is_empty() {
        return Ok(());
    }
    let r = stream.write_all(output).await;
    output.clear();
    if output.capacity() > KEEP_BUFFER {
        *output = Vec::new();
    }
    r
}

/// The rest of the connection goes to hyper, starting with the bytes already read.
async fn hand_over<S>(stream: S, read: Bytes, peer: Arc<str>, gw: Arc<Gateway>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    service::serve_hyper(Replay { read, stream }, peer, gw).await
}

/// A header field's name and value, as positions in the request's bytes.
type Field = (Range<usize>, Range<usize>);

/// What the start of the buffer holds.
#[derive(Debug)]
enum Examined {
    /// The head is not complete yet.
    Partial,
    /// A request hyper must serve (see the module docs).
    NotPlain,
    Plain(Plain),
}

/// A plain request whose head is complete (its body may still be arriving).
#[derive(Debug)]
struct Plain {
    method: Method,
    /// The request target's position.
    target: Range<usize>,
    head_len: usize,
    body_len: usize,
    /// `Connection: close`: the connection ends after the response.
    close: bool,
}

/// Parses the head at the start of `buf` and decides whether it is plain; the header fields'
/// positions go to `fields`.
fn examine(buf: &[u8], fields: &mut Vec<Field>) -> Examined {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Examined::Partial,
        Err(_) => return Examined::NotPlain,
    };
    if req.version != Some(1) || head_len > MAX_HEAD {
        return Examined::NotPlain;
    }
    let (Some(method), Some(target)) = (req.method, req.path) else { return Examined::NotPlain };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return Examined::NotPlain };
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || service::is_streaming(path) {
        return Examined::NotPlain;
    }
    // Positions rather than slices, so the fields can be read from the request's own
    // `Bytes` once it is split off the buffer.
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        start..start + s.len()
    };
    let target = at(target.as_bytes());
    let mut body_len = None;
    let mut close = None;
    fields.clear();
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            match (body_len, content_length(h.value)) {
                (None, Some(n)) => body_len = Some(n),
                _ => return Examined::NotPlain,
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            match (close, h.value) {
                (None, v) if v.eq_ignore_ascii_case(b"close") => close = Some(true),
                (None, v) if v.eq_ignore_ascii_case(b"keep-alive") => close = Some(false),
                _ => return Examined::NotPlain,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"expect")
            || name.eq_ignore_ascii_case(b"upgrade")
        {
            return Examined::NotPlain;
        }
        fields.push((at(name), at(h.value)));
    }
    Examined::Plain(Plain { method, target, head_len, body_len: body_len.unwrap_or(0), close: close.unwrap_or(false) })
}

/// A Content-Length value the fast path takes: decimal digits, at most [`MAX_BODY`].
fn content_length(v: &[u8]) -> Option<usize> {
    if v.is_empty() {
        return None;
    }
    let mut n: usize = 0;
    for &c in v {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(c - b'0'))?;
        if n > MAX_BODY {
            return None;
        }
    }
    Some(n)
}

/// The request's header fields, looked up as hyper's `HeaderMap::get` would: the first
/// field of that name, compared case-insensitively.
struct RawHeaders<'a> {
    msg: &'a [u8],
    fields: &'a [Field],
}

impl Headers for RawHeaders<'_> {
    fn get(&self, name: &HeaderName) -> Option<&[u8]> {
        let name = name.as_str().as_bytes();
        let (_, value) =
            self.fields.iter().find(|(n, _)| self.msg.get(n.clone()).is_some_and(|n| n.eq_ignore_ascii_case(name)))?;
        self.msg.get(value.clone())
    }
}

/// Appends the response as hyper writes it: status line, the headers in the map's order,
/// `connection: close` when closing, `content-length` (none for 204, nor for an empty
/// response to HEAD), `date`, then the body (none for HEAD or 204).
fn encode(gw: &Gateway, resp: Response<Body>, head: bool, close: bool, out: &mut Vec<u8>) {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Full(b) => b.unwrap_or_default(),
        Body::Stream(_) => {
            // No plain request's route streams (see `service::is_streaming`).
            let resp = service::json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, "ERR internal error");
            return encode(gw, resp, head, close, out);
        }
    };
    let status = parts.status;
    out.reserve(160 + parts.headers.len() * 48 + bytes.len());
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in parts.headers.iter() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    let bodyless_status = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    if !bodyless_status && (!bytes.is_empty() || !head) {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(bytes.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"date: ");
    out.extend_from_slice(&http_date());
    out.extend_from_slice(b"\r\n\r\n");
    if !head && !bodyless_status {
        out.extend_from_slice(&bytes);
    }
}

thread_local! {
    /// The current second and its IMF-fixdate text: formatted once a second per thread, as
    /// hyper does.
    static DATE: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
}

/// Now, as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date() -> [u8; 29] {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let (secs, text) = cell.get();
        if secs == now {
            return text;
        }
        let text = imf_fixdate(now);
        cell.set((now, text));
        text
    })
}

/// The IMF-fixdate of a Unix time (RFC 9110 §5.6.7), years 1970..=9999.
fn imf_fixdate(secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    // Civil date from a day count (proleptic Gregorian, years starting in March).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = (yoe + era * 400 + u64::from(month <= 2)).min(9999);

    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(DAYS[((days + 4) % 7) as usize]);
    let two = |out: &mut [u8; 29], at: usize, v: u64| {
        out[at] = b'0' + (v / 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(&mut out, 5, day);
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize % 12]);
    two(&mut out, 12, year / 100);
    two(&mut out, 14, year % 100);
    two(&mut out, 17, in_day / 3_600);
    two(&mut out, 20, in_day / 60 % 60);
    two(&mut out, 23, in_day % 60);
    out
}

/// The socket as hyper gets it: first the bytes the fast path had read but not used, then
/// the socket itself. Writes go straight to the socket.
struct Replay<S> {
    read: Bytes,
    stream: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read.is_empty() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let n = this.read.len().min(buf.remaining());
        buf.put_slice(&this.read[..n]);
        this.read.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(req: &[u8]) -> Plain {
        match examine(req, &mut Vec::new()) {
            Examined::Plain(p) => p,
            other => panic!("{other:?} for {}", String::from_utf8_lossy(req)),
        }
    }

    fn not_plain(req: &[u8]) -> bool {
        matches!(examine(req, &mut Vec::new()), Examined::NotPlain)
    }

    #[test]
    fn plain_requests() {
        let req = b"POST /pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 5\r\n\r\n[[1]]";
        let p = plain(req);
        assert_eq!((p.method, p.head_len, p.body_len, p.close), (Method::POST, req.len() - 5, 5, false));
        assert_eq!(&req[p.target], b"/pipeline");
        let p = plain(b"GET /get/k?x=1 HTTP/1.1\r\nConnection: Close\r\n\r\n");
        assert!(p.close && p.body_len == 0);
        assert!(!plain(b"HEAD / HTTP/1.1\r\nconnection: keep-alive\r\n\r\n").close);
        assert_eq!(plain(b"GET /monitorx HTTP/1.1\r\n\r\n").body_len, 0);
        assert_eq!(plain(b"PROPFIND / HTTP/1.1\r\n\r\n").method.as_str(), "PROPFIND");
        let p = plain(b"POST / HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n");
        assert_eq!(p.body_len, MAX_BODY);
        assert!(matches!(examine(b"POST / HTTP/1.1\r\nContent-Le", &mut Vec::new()), Examined::Partial));
        assert!(matches!(examine(b"", &mut Vec::new()), Examined::Partial));
    }

    #[test]
    fn unusual_requests_go_to_hyper() {
        for req in [
            &b"GET / HTTP/1.0\r\n\r\n"[..],
            b"GET http://x/ HTTP/1.1\r\n\r\n",
            b"OPTIONS * HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 10485761\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n",
            b"POST /subscribe/ch HTTP/1.1\r\n\r\n",
            b"POST //psubscribe/p* HTTP/1.1\r\n\r\n",
            b"GET /monitor?x HTTP/1.1\r\n\r\n",
            b"GARBAGE\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        ] {
            assert!(not_plain(req), "{}", String::from_utf8_lossy(req));
        }
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(not_plain(&many));
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_takes_the_first() {
        let req = b"POST / HTTP/1.1\r\nauthorization: Bearer a\r\nAUTHORIZATION: Bearer b\r\nX-Y:  z \r\n\r\n";
        let mut fields = Vec::new();
        assert!(matches!(examine(req, &mut fields), Examined::Plain(_)));
        let h = RawHeaders { msg: req, fields: &fields };
        assert_eq!(h.get(&hyper::header::AUTHORIZATION), Some(&b"Bearer a"[..]));
        assert_eq!(h.get(&HeaderName::from_static("x-y")), Some(&b"z"[..]));
        assert_eq!(h.get(&hyper::header::CONTENT_LENGTH), None);
    }

    #[test]
    fn dates() {
        assert_eq!(&imf_fixdate(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&imf_fixdate(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&imf_fixdate(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&imf_fixdate(1_798_761_599), b"Thu, 31 Dec 2026 23:59:59 GMT");
        assert_eq!(&imf_fixdate(4_107_542_400), b"Mon, 01 Mar 2100 00:00:00 GMT");
        assert_eq!(http_date().len(), 29);
    }

    #[test]
    fn replay_yields_the_buffered_bytes_first() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (near, mut far) = tokio::io::duplex(64);
            far.write_all(b" world").await.unwrap();
            drop(far);
            let mut replay = Replay { read: Bytes::from_static(b"hello"), stream: near };
            let mut all = String::new();
            replay.read_to_string(&mut all).await.unwrap();
            assert_eq!(all, "hello world");
        });
    }
}
