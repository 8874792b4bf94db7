//! The HTTP side: one HTTP/1.1 connection per client (keep-alive; read by [`crate::h1`], which
//! hands anything unusual to hyper), and per request:
//! method check, CORS, routing, authentication, the 10 MB body limit, running the commands on
//! the backend, and the response (JSON, raw RESP2 or an event stream) with its
//! `upstash-sync-token` header.
//!
//! Routes (no path prefix; leading slashes are collapsed, so `//pipeline` works):
//! * `GET|HEAD /` with no command: health JSON, without authentication.
//! * `/` with a JSON body: one command. `/pipeline`, `/multi-exec`: arrays of commands.
//! * `/subscribe/<channel>`, `/psubscribe/<pattern>`, `/monitor`: server-sent events.
//! * anything else: the path form, `/<command>/<arg>/…`.
//!
//! Errors are JSON: 401 `{"error":"Unauthorized"}` for a missing, malformed or unknown token;
//! 405 for other methods; 400 for bad requests and failing commands; 500 when a proxied
//! backend is unreachable.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, AUTHORIZATION, CACHE_CONTROL,
    CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpStream;

use crate::auth::Access;
use crate::body::Body;
use crate::json::{self, Encoding};
use crate::local::{Format, Item, Outcome};
use crate::proxy::pool::Pool;
use crate::request::{self, Args, BadRequest};
use crate::{Backend, Gateway};

/// Largest request body accepted.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

// Header names as constants: looking a header up (or inserting one) by `&str` parses and
// hashes the name's text on every request.
const UPSTASH_SYNC_TOKEN: HeaderName = HeaderName::from_static("upstash-sync-token");
const UPSTASH_ENCODING: HeaderName = HeaderName::from_static("upstash-encoding");
const UPSTASH_RESPONSE_FORMAT: HeaderName = HeaderName::from_static("upstash-response-format");
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

const ALLOW_HEADERS: &str = "Authorization, Content-Type, Upstash-Encoding, Upstash-Sync-Token, \
     Upstash-Response-Format, Upstash-Telemetry-Runtime, Upstash-Telemetry-Platform, Upstash-Telemetry-Sdk, \
     Upstash-Telemetry-Retry, Accept, Cache-Control";

/// Serves one HTTP connection until the client closes it.
pub async fn serve_connection(stream: TcpStream, peer: SocketAddr, gw: Arc<Gateway>) {
    serve_io(stream, format_addr(&peer).into(), gw).await
}

/// [`serve_connection`] over any byte stream (the gateway's cost measurement drives it over
/// in-memory pipes: examples/gateway_cost.rs). `peer` is the address CLIENT LIST shows.
/// Requests are read by [`crate::h1`], which hands unusual ones to hyper ([`serve_hyper`]).
pub async fn serve_io<S>(stream: S, peer: Arc<str>, gw: Arc<Gateway>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    crate::h1::serve(stream, peer, gw).await
}

/// The rest of a connection served by hyper.
pub(crate) async fn serve_hyper<S>(stream: S, peer: Arc<str>, gw: Arc<Gateway>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc = hyper::service::service_fn(move |req| {
        let gw = gw.clone();
        let peer = peer.clone();
        async move { Ok::<_, Infallible>(handle(&gw, &peer, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, svc).await;
}

fn format_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("{}:{}", v6.ip(), v6.port()),
    }
}

/// What the path asks for.
enum Route {
    Health,
    Single,
    Pipeline,
    MultiExec,
    Subscribe { pattern: bool, name: Vec<u8> },
    Monitor,
    PathForm,
}

/// Who the token says the caller is.
enum Principal {
    Local(Access),
    Proxy(Arc<Pool>),
}

/// A response with the headers every response carries.
fn respond(gw: &Gateway, status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    // Room for these four and the few some responses add, so the map is allocated once.
    h.reserve(8);
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("upstash-sync-token"));
    h.insert(UPSTASH_SYNC_TOKEN, HeaderValue::from(gw.sync_token()));
    resp
}

pub(crate) fn json_error(gw: &Gateway, status: StatusCode, message: &str) -> Response<Body> {
    respond(gw, status, "application/json", Body::full(json::error_body(message)))
}

/// A request header lookup: hyper's [`HeaderMap`], or the fast path's parsed head
/// ([`crate::h1`]). The first value of the name, as `HeaderMap::get` gives it.
pub(crate) trait Headers: Sync {
    fn get(&self, name: &HeaderName) -> Option<&[u8]>;
}

impl Headers for HeaderMap {
    fn get(&self, name: &HeaderName) -> Option<&[u8]> {
        HeaderMap::get(self, name).map(|v| v.as_bytes())
    }
}

/// A request's body: still to be read from hyper, or already read whole by the fast path
/// (which checked its Content-Length against [`MAX_BODY`]).
pub(crate) enum RequestBody {
    Incoming(Incoming),
    Read(Bytes),
}

async fn handle(gw: &Gateway, peer: &str, req: Request<Incoming>) -> Response<Body> {
    // The head is kept apart from the body, so the path, query and headers are borrowed
    // while the body is read.
    let (head, incoming) = req.into_parts();
    let uri = &head.uri;
    respond_to(gw, peer, &head.method, uri.path(), uri.query(), &head.headers, RequestBody::Incoming(incoming)).await
}

/// Whether `path` is one of the routes answered with an event stream, which only the hyper
/// path serves (see [`crate::h1`]).
pub(crate) fn is_streaming(path: &str) -> bool {
    matches!(request::segments(path).as_slice(), ["subscribe" | "psubscribe", _] | ["monitor"])
}

/// One request, whichever HTTP implementation read it: routing, authentication, the body,
/// running the commands and the response.
pub(crate) async fn respond_to(
    gw: &Gateway,
    peer: &str,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &impl Headers,
    body: RequestBody,
) -> Response<Body> {
    if *method == Method::OPTIONS {
        let mut resp = respond(gw, StatusCode::NO_CONTENT, "text/plain", Body::empty());
        let h = resp.headers_mut();
        h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, POST, PUT, OPTIONS"));
        h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        return resp;
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::POST | Method::PUT) {
        return json_error(gw, StatusCode::METHOD_NOT_ALLOWED, "ERR method not allowed");
    }
    let segs = request::segments(path);
    let has_query_args = query.is_some_and(|q| request::query_pairs(q).iter().any(|(k, _)| k != b"_token"));
    let has_body = headers.get(&CONTENT_LENGTH).is_some_and(|v| v != b"0") || headers.get(&TRANSFER_ENCODING).is_some();
    let route = match segs.as_slice() {
        [] if matches!(*method, Method::GET | Method::HEAD) && !has_query_args && !has_body => Route::Health,
        [] => Route::Single,
        ["pipeline"] => Route::Pipeline,
        ["multi-exec"] => Route::MultiExec,
        [kind @ ("subscribe" | "psubscribe"), name] => {
            Route::Subscribe { pattern: *kind == "psubscribe", name: request::percent_decode(name.as_bytes()) }
        }
        ["monitor"] if *method == Method::POST || *method == Method::GET => Route::Monitor,
        _ => Route::PathForm,
    };
    if let Route::Health = route {
        let body = format!(
            "{{\"status\":\"ok\",\"server\":\"spinel\",\"version\":\"{}\",\"mode\":\"{}\"}}",
            spinel_engine::SPINEL_VERSION,
            match gw.backend {
                Backend::Local(_) => "local",
                Backend::Proxy(_) => "proxy",
            }
        );
        return respond(gw, StatusCode::OK, "application/json", Body::full(body));
    }

    // Authentication comes before anything about the body.
    let query_token = request::query_token(query);
    let token = match crate::auth::request_token(headers.get(&AUTHORIZATION), query_token) {
        Ok(Some(t)) => t,
        _ => return json_error(gw, StatusCode::UNAUTHORIZED, "Unauthorized"),
    };
    let principal = match &gw.backend {
        Backend::Local(local) => {
            let (access, dirty) = local.authenticate(&token);
            gw.set_sync_token(dirty);
            access.map(Principal::Local)
        }
        Backend::Proxy(proxy) => proxy.authenticate(&token).map(Principal::Proxy),
    };
    drop(token);
    let Some(principal) = principal else { return json_error(gw, StatusCode::UNAUTHORIZED, "Unauthorized") };

    let base64 = headers.get(&UPSTASH_ENCODING).is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"base64"));
    let resp2 = headers.get(&UPSTASH_RESPONSE_FORMAT).is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"resp2"));
    if resp2 && base64 {
        return json_error(
            gw,
            StatusCode::BAD_REQUEST,
            "ERR the resp2 response format cannot be combined with base64 encoding",
        );
    }
    if resp2 && matches!(route, Route::MultiExec) {
        return json_error(
            gw,
            StatusCode::BAD_REQUEST,
            "ERR the resp2 response format is not supported by /multi-exec",
        );
    }
    let fmt = Format { enc: Encoding { base64 }, resp2 };

    let body = match read_body(headers, body).await {
        Ok(b) => b,
        Err(e) => return json_error(gw, StatusCode::BAD_REQUEST, &e.0),
    };

    match route {
        Route::Subscribe { pattern, name } => return subscribe(gw, peer, &principal, pattern, name).await,
        Route::Monitor => return monitor(gw, peer, &principal).await,
        _ => {}
    }
    let (cmds, multi, single) = match parse(&route, &segs, &body, query) {
        Ok(v) => v,
        Err(e) => return json_error(gw, StatusCode::BAD_REQUEST, &e.0),
    };
    let outcome = execute(gw, peer, &principal, &cmds, multi, fmt).await;
    finish(gw, outcome, single, fmt)
}

/// The commands of a request, whether it is a transaction, and whether it is a single
/// command (answered as one object rather than an array).
fn parse(
    route: &Route,
    segs: &[&str],
    body: &[u8],
    query: Option<&str>,
) -> Result<(Vec<Args>, bool, bool), BadRequest> {
    match route {
        Route::Single => Ok((vec![request::single(body)?], false, true)),
        Route::Pipeline => Ok((request::many(body)?, false, false)),
        Route::MultiExec => Ok((request::many(body)?, true, false)),
        _ => Ok((vec![request::path_form(segs, body, query)], false, true)),
    }
}

async fn read_body(headers: &impl Headers, body: RequestBody) -> Result<Bytes, BadRequest> {
    let mut incoming = match body {
        RequestBody::Read(bytes) => return Ok(bytes),
        RequestBody::Incoming(incoming) => incoming,
    };
    let too_big = || BadRequest("ERR max request size exceeded".into());
    let declared = headers.get(&CONTENT_LENGTH).and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
    if let Some(len) = declared {
        if len > MAX_BODY as u64 {
            return Err(too_big());
        }
    }
    // Frame by frame rather than with a collecting combinator: a body is almost always one
    // frame, which is kept as it is (no list of buffers, no copy).
    let mut body = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = incoming.frame().await {
        let Ok(frame) = frame else { return Err(BadRequest("ERR failed to read the request body".into())) };
        let Ok(data) = frame.into_data() else { continue };
        if body.len() + joined.as_ref().map_or(0, Vec::len) + data.len() > MAX_BODY {
            return Err(too_big());
        }
        if let Some(j) = joined.as_mut() {
            j.extend_from_slice(&data);
        } else if body.is_empty() {
            body = data;
        } else {
            let mut j = Vec::with_capacity(body.len() + data.len());
            j.extend_from_slice(&body);
            j.extend_from_slice(&data);
            body = Bytes::new();
            joined = Some(j);
        }
    }
    Ok(joined.map_or(body, Bytes::from))
}

async fn execute(gw: &Gateway, peer: &str, principal: &Principal, cmds: &[Args], multi: bool, fmt: Format) -> Outcome {
    match (&gw.backend, principal) {
        (Backend::Local(local), Principal::Local(access)) => {
            let (outcome, dirty) = if multi {
                local.run_multi(peer, *access, cmds, fmt).await
            } else {
                local.run(peer, *access, cmds, fmt).await
            };
            gw.set_sync_token(dirty);
            outcome
        }
        (Backend::Proxy(proxy), Principal::Proxy(pool)) => {
            let (outcome, wrote) = proxy.run(pool, cmds, multi, fmt).await;
            if wrote {
                gw.bump_sync_token();
            }
            outcome
        }
        _ => Outcome::Fail(500, "ERR internal error: token and backend disagree".into()),
    }
}

/// Assembles the response of a command, a pipeline or a transaction.
fn finish(gw: &Gateway, outcome: Outcome, single: bool, fmt: Format) -> Response<Body> {
    let items = match outcome {
        Outcome::Items(items) => items,
        Outcome::Fail(status, message) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return json_error(gw, status, &message);
        }
    };
    if fmt.resp2 {
        let status = if single && items.iter().any(|i| !i.ok) { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        let body: Vec<u8> = items.into_iter().flat_map(|i| i.bytes).collect();
        return respond(gw, status, "application/octet-stream", Body::full(body));
    }
    if single {
        let Some(item) = items.into_iter().next() else {
            return json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, "ERR no reply");
        };
        let mut out = Vec::with_capacity(item.bytes.len() + 16);
        let status = write_item(&mut out, item);
        return respond(gw, status, "application/json", Body::full(out));
    }
    let mut out = Vec::with_capacity(items.iter().map(|i| i.bytes.len() + 16).sum::<usize>() + 2);
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(&mut out, item);
    }
    out.push(b']');
    respond(gw, StatusCode::OK, "application/json", Body::full(out))
}

/// `{"result":…}` or `{"error":…}`; returns the status a single command gets.
fn write_item(out: &mut Vec<u8>, item: Item) -> StatusCode {
    if item.ok {
        json::result(out, |o| o.extend_from_slice(&item.bytes));
        StatusCode::OK
    } else {
        json::error(out, &item.bytes);
        StatusCode::BAD_REQUEST
    }
}

async fn subscribe(gw: &Gateway, peer: &str, principal: &Principal, pattern: bool, name: Vec<u8>) -> Response<Body> {
    let body = match (&gw.backend, principal) {
        (Backend::Local(local), Principal::Local(_)) => crate::sse::local(local.engine.clone(), peer, pattern, name),
        (Backend::Proxy(proxy), Principal::Proxy(pool)) => match proxy.subscribe(pool, pattern, &name).await {
            Ok(conn) => crate::sse::proxied(conn, pattern, name),
            Err(e) => return json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, &e),
        },
        _ => return json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, "ERR internal error"),
    };
    event_stream(gw, body)
}

/// `/monitor`: MONITOR as server-sent events. MONITOR is an admin command, so a read-only
/// token gets the NOPERM a read-only token gets for MONITOR through `POST /`.
async fn monitor(gw: &Gateway, peer: &str, principal: &Principal) -> Response<Body> {
    let body = match (&gw.backend, principal) {
        (Backend::Local(_), Principal::Local(Access::ReadOnly)) => {
            return json_error(
                gw,
                StatusCode::BAD_REQUEST,
                "NOPERM this user has no permissions to run the 'monitor' command or its subcommand",
            )
        }
        (Backend::Local(local), Principal::Local(_)) => crate::sse::local_monitor(local.engine.clone(), peer),
        (Backend::Proxy(proxy), Principal::Proxy(pool)) => match proxy.monitor(pool).await {
            Ok(conn) => crate::sse::proxied_monitor(conn),
            Err(e) => return json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, &e),
        },
        _ => return json_error(gw, StatusCode::INTERNAL_SERVER_ERROR, "ERR internal error"),
    };
    event_stream(gw, body)
}

/// A `text/event-stream` response that intermediaries must neither cache nor buffer.
fn event_stream(gw: &Gateway, body: Body) -> Response<Body> {
    let mut resp = respond(gw, StatusCode::OK, "text/event-stream", body);
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    resp
}
