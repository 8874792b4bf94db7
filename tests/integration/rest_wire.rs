//! The REST API's HTTP/1.1 handling on the wire (crates/http/src/h1.rs): the fast path for
//! plain requests (pipelining, split writes, HEAD, `Connection: close`, the exact response
//! bytes) and the hand-over to hyper for everything else on a connection that has already
//! served plain requests, so hyper starts from bytes the fast path had buffered. What hyper
//! answered before the fast path existed is the reference.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::*;
use crate::http::{Http, HttpResp};

fn auth(srv: &TestServer) -> String {
    format!("Bearer {}", srv.http_token)
}

/// A POST request with a Content-Length body, as bytes.
fn post_bytes(srv: &TestServer, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        auth(srv),
        body.len()
    )
    .into_bytes()
}

fn assert_json(r: &HttpResp, status: u16, body: &str) {
    assert_eq!((r.status, r.text().as_str()), (status, body), "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

/// A connection that has served one plain request (so its next bytes are read by the fast
/// path first).
fn warmed_up(srv: &TestServer) -> Http {
    let mut conn = Http::connect(srv.http_port);
    conn.send_raw(&post_bytes(srv, "/", r#"["PING"]"#));
    assert_json(&conn.read_response(false), 200, r#"{"result":"PONG"}"#);
    conn
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let srv = server();
    let mut conn = Http::connect(srv.http_port);
    let mut bytes = post_bytes(&srv, "/pipeline", r#"[["SET","p","1"],["INCR","p"]]"#);
    bytes.extend(post_bytes(&srv, "/", r#"["GET","p"]"#));
    bytes.extend(format!("GET /incr/p HTTP/1.1\r\nAuthorization: {}\r\n\r\n", auth(&srv)).into_bytes());
    bytes.extend(b"GET / HTTP/1.1\r\n\r\n");
    conn.send_raw(&bytes);
    assert_json(&conn.read_response(false), 200, r#"[{"result":"OK"},{"result":2}]"#);
    assert_json(&conn.read_response(false), 200, r#"{"result":"2"}"#);
    assert_json(&conn.read_response(false), 200, r#"{"result":3}"#);
    let health = conn.read_response(false);
    assert_eq!(health.status, 200);
    assert!(health.text().contains("\"status\":\"ok\""), "{health:?}");
    // Still open for more.
    conn.send_raw(&post_bytes(&srv, "/", r#"["GET","p"]"#));
    assert_json(&conn.read_response(false), 200, r#"{"result":"3"}"#);
}

#[test]
fn requests_arriving_in_pieces() {
    let srv = server();
    let mut conn = Http::connect(srv.http_port);
    let bytes = post_bytes(&srv, "/pipeline", r#"[["SET","pieces","abc"],["GET","pieces"]]"#);
    // Cut inside the request line, inside a header, between head and body, inside the body.
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("head end") + 4;
    let cuts = [3, 20, head_end - 1, head_end, head_end + 7, bytes.len()];
    let mut from = 0;
    for to in cuts {
        conn.send_raw(&bytes[from..to]);
        from = to;
    }
    assert_json(&conn.read_response(false), 200, r#"[{"result":"OK"},{"result":"abc"}]"#);
    // A second request byte by byte, then a third whose start comes with the second's end.
    let second = post_bytes(&srv, "/", r#"["APPEND","pieces","d"]"#);
    let third = post_bytes(&srv, "/", r#"["GET","pieces"]"#);
    for b in &second[..second.len() - 1] {
        conn.send_raw(std::slice::from_ref(b));
    }
    let mut rest = second[second.len() - 1..].to_vec();
    rest.extend_from_slice(&third[..10]);
    conn.send_raw(&rest);
    assert_json(&conn.read_response(false), 200, r#"{"result":4}"#);
    conn.send_raw(&third[10..]);
    assert_json(&conn.read_response(false), 200, r#"{"result":"abcd"}"#);
    // A head over 1 KB in small pieces (the fast path parses a long head again only once a
    // line feed has arrived), its last line split right before the final line feed.
    let mut long = format!("GET /echo/long HTTP/1.1\r\nAuthorization: {}\r\n", auth(&srv));
    for i in 0..4 {
        long.push_str(&format!("x-filler-{i}: {}\r\n", "f".repeat(700)));
    }
    long.push_str("x-last: 1\r\n\r\n");
    let (most, end) = long.as_bytes().split_at(long.len() - 1);
    for piece in most.chunks(97) {
        conn.send_raw(piece);
    }
    conn.send_raw(end);
    assert_json(&conn.read_response(false), 200, r#"{"result":"long"}"#);
}

#[test]
fn head_gets_the_headers_of_get_without_the_body() {
    let srv = server();
    let mut conn = Http::connect(srv.http_port);
    let get = conn.request("GET", "/", &[], None);
    let head = conn.request("HEAD", "/", &[], None);
    assert_eq!(head.status, 200);
    assert!(!get.body.is_empty());
    assert_eq!(head.header("content-length"), Some(get.body.len().to_string().as_str()));
    assert_eq!(head.header("content-type"), Some("application/json"));
    // No body was sent: the next response on the connection starts right away.
    let a = auth(&srv);
    let head = conn.request("HEAD", "/get/missing", &[("Authorization", &a)], None);
    assert_eq!((head.status, head.header("content-length")), (200, Some("15")));
    let unauthorized = conn.request("HEAD", "/get/missing", &[("Authorization", "Bearer wrong")], None);
    assert_eq!((unauthorized.status, unauthorized.header("content-length")), (401, Some("24")));
    assert_json(&conn.request("GET", "/echo/x", &[("Authorization", &a)], None), 200, r#"{"result":"x"}"#);
}

#[test]
fn connection_close_closes_after_the_response() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    let a = auth(&srv);
    let r = conn.request("GET", "/echo/bye", &[("Authorization", &a), ("Connection", "Close")], None);
    assert_json(&r, 200, r#"{"result":"bye"}"#);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(conn.closed());
    // A 204 (OPTIONS) with Connection: close: no content-length, then closed.
    let mut conn = Http::connect(srv.http_port);
    let r = conn.request("OPTIONS", "/", &[("Connection", "close")], None);
    assert_eq!((r.status, r.header("connection"), r.header("content-length")), (204, Some("close"), None));
    assert!(conn.closed());
    // Keep-alive said out loud keeps it open.
    let mut conn = Http::connect(srv.http_port);
    let r = conn.request("GET", "/echo/a", &[("Authorization", &a), ("Connection", "keep-alive")], None);
    assert_json(&r, 200, r#"{"result":"a"}"#);
    assert_eq!(r.header("connection"), None);
    assert_json(&conn.request("GET", "/echo/b", &[("Authorization", &a)], None), 200, r#"{"result":"b"}"#);
}

#[test]
fn chunked_request_after_a_plain_one_goes_to_hyper() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    // The chunked request arrives in one write with the next (plain) request behind it:
    // hyper gets both from the fast path's buffer.
    let body = r#"[["SET","ch","v"],["GET","ch"]]"#;
    let mut bytes = format!(
        "POST /pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        auth(&srv)
    )
    .into_bytes();
    let (a, b) = body.split_at(9);
    for piece in [a, b] {
        bytes.extend(format!("{:x}\r\n{piece}\r\n", piece.len()).into_bytes());
    }
    bytes.extend(b"0\r\n\r\n");
    bytes.extend(post_bytes(&srv, "/", r#"["GET","ch"]"#));
    conn.send_raw(&bytes);
    assert_json(&conn.read_response(false), 200, r#"[{"result":"OK"},{"result":"v"}]"#);
    assert_json(&conn.read_response(false), 200, r#"{"result":"v"}"#);
    // hyper keeps serving the connection.
    conn.send_raw(&post_bytes(&srv, "/", r#"["ECHO","still"]"#));
    assert_json(&conn.read_response(false), 200, r#"{"result":"still"}"#);
}

#[test]
fn expect_continue_after_a_plain_one_goes_to_hyper() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    let body = r#"["ECHO","continued"]"#;
    conn.send_raw(
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            auth(&srv),
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(conn.read_head().status, 100);
    conn.send_raw(body.as_bytes());
    assert_json(&conn.read_response(false), 200, r#"{"result":"continued"}"#);
}

#[test]
fn http_1_0_is_answered_by_hyper() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    let body = r#"["ECHO","old"]"#;
    conn.send_raw(
        format!("POST / HTTP/1.0\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}", auth(&srv), body.len())
            .as_bytes(),
    );
    assert_json(&conn.read_response(false), 200, r#"{"result":"old"}"#);
    assert!(conn.closed());
    // The status line says HTTP/1.0, as hyper answers a 1.0 client.
    let raw = raw_exchange(srv.http_port, b"GET / HTTP/1.0\r\n\r\n");
    assert!(raw.starts_with("HTTP/1.0 200 OK\r\n"), "{raw}");
}

#[test]
fn malformed_request_line_gets_hyper_400() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    conn.send_raw(b"GARBAGE\r\n\r\n");
    let r = conn.read_response(false);
    assert_eq!((r.status, r.header("connection"), r.body.len()), (400, Some("close"), 0), "{r:?}");
    assert!(conn.closed());
    // A head longer than the fast path's limit (64 KB) is hyper's, which accepts it.
    let mut conn = warmed_up(&srv);
    let filler = "f".repeat(3500);
    let mut long = String::from("GET /echo/long HTTP/1.1\r\n");
    for i in 0..20 {
        long.push_str(&format!("x-filler-{i}: {filler}\r\n"));
    }
    let a = auth(&srv);
    conn.send_raw(long.as_bytes());
    conn.send_raw(format!("Authorization: {a}\r\n\r\n").as_bytes());
    assert_json(&conn.read_response(false), 200, r#"{"result":"long"}"#);
}

#[test]
fn oversize_content_length_after_a_plain_request() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    conn.send_raw(
        format!("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 10485761\r\n\r\n", auth(&srv))
            .as_bytes(),
    );
    assert_json(&conn.read_response(false), 400, r#"{"error":"ERR max request size exceeded"}"#);
    // Authentication still comes first.
    let mut conn = warmed_up(&srv);
    conn.send_raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n");
    assert_json(&conn.read_response(false), 401, r#"{"error":"Unauthorized"}"#);
}

#[test]
fn subscribe_after_a_plain_request_streams() {
    let srv = server();
    let mut conn = warmed_up(&srv);
    conn.send("POST", "/subscribe/wire", &[("Authorization", &auth(&srv))], Some(b"[]"));
    let head = conn.read_head();
    assert_eq!((head.status, head.header("content-type")), (200, Some("text/event-stream")));
    let mut text = String::new();
    conn.read_stream_until(&mut text, "data: subscribe,wire,1\n\n");
}

/// Writes `req`, reads until the server closes (the request must end with Connection: close
/// or be HTTP/1.0), returns the whole response as text.
fn raw_exchange(port: u16, req: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s.write_all(req).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn plain_response_bytes() {
    let srv = server();
    let body = r#"[["GET","nokey"]]"#;
    let req = format!(
        "POST /pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        auth(&srv),
        body.len()
    );
    let raw = raw_exchange(srv.http_port, req.as_bytes());
    let (head, body) = raw.split_once("\r\n\r\n").expect("head");
    assert_eq!(body, r#"[{"result":null}]"#);
    let lines: Vec<&str> = head.split("\r\n").collect();
    // hyper's order: status, the response's headers, connection, content-length, date.
    assert_eq!(lines.len(), 8, "{head}");
    assert_eq!(
        lines[..6],
        [
            "HTTP/1.1 200 OK",
            "content-type: application/json",
            "access-control-allow-origin: *",
            "access-control-expose-headers: upstash-sync-token",
            lines[4],
            "connection: close",
        ]
    );
    let sync = lines[4].strip_prefix("upstash-sync-token: ").expect("sync token");
    assert!(sync.parse::<u64>().is_ok(), "{sync}");
    assert_eq!(lines[6], "content-length: 17");
    let date = lines[7].strip_prefix("date: ").expect("date");
    // IMF-fixdate: `Thu, 26 Nov 2026 03:38:51 GMT`.
    let b = date.as_bytes();
    assert_eq!(b.len(), 29, "{date}");
    assert!(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&date[..3]), "{date}");
    assert_eq!((b[3], b[4], b[7], b[11], b[16], b[19], b[22]), (b',', b' ', b' ', b' ', b' ', b':', b':'));
    assert!(date.ends_with(" GMT"));
    // Errors carry the same headers.
    let raw =
        raw_exchange(srv.http_port, b"POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 8\r\n\r\n[\"PING\"]");
    assert!(raw.starts_with(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\naccess-control-allow-origin: *\r\n\
         access-control-expose-headers: upstash-sync-token\r\nupstash-sync-token: "
    ));
    assert!(raw.contains("\r\nconnection: close\r\ncontent-length: 24\r\ndate: "), "{raw}");
    assert!(raw.ends_with("\r\n\r\n{\"error\":\"Unauthorized\"}"), "{raw}");
}
