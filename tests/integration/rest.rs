//! The Upstash-compatible REST API of an in-process server: every rule of docs/REST-API.md.

use std::time::{Duration, Instant};

use crate::harness::*;
use crate::http::{http, Http, HttpResp};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// POST with the server's generated token.
fn post(srv: &TestServer, path: &str, body: &str) -> HttpResp {
    let auth = bearer(&srv.http_token);
    http(srv.http_port, "POST", path, &[("Authorization", &auth)], Some(body.as_bytes()))
}

fn post_h(srv: &TestServer, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResp {
    let auth = bearer(&srv.http_token);
    let mut h = vec![("Authorization", auth.as_str())];
    h.extend_from_slice(headers);
    http(srv.http_port, "POST", path, &h, Some(body))
}

fn get(srv: &TestServer, path: &str) -> HttpResp {
    let auth = bearer(&srv.http_token);
    http(srv.http_port, "GET", path, &[("Authorization", &auth)], None)
}

fn assert_json(r: &HttpResp, status: u16, body: &str) {
    assert_eq!((r.status, r.text().as_str()), (status, body), "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn single_command_and_errors() {
    let srv = server();
    assert_json(&post(&srv, "/", r#"["SET","k","v","EX",100]"#), 200, r#"{"result":"OK"}"#);
    assert_json(&post(&srv, "/", r#"["GET","k"]"#), 200, r#"{"result":"v"}"#);
    assert_json(&post(&srv, "/", r#"["GET","missing"]"#), 200, r#"{"result":null}"#);
    assert_json(&post(&srv, "/", r#"["TTL","k"]"#), 200, r#"{"result":100}"#);
    assert_json(&post(&srv, "/", r#"["INCR","k"]"#), 400, r#"{"error":"ERR value is not an integer or out of range"}"#);
    assert_json(
        &post(&srv, "/", r#"["NOPE","a"]"#),
        400,
        r#"{"error":"ERR unknown command 'NOPE', with args beginning with: 'a' "}"#,
    );
    assert_json(&post(&srv, "/", r#"["GET"]"#), 400, r#"{"error":"ERR wrong number of arguments for 'get' command"}"#);
    // The request's Content-Type does not matter.
    let r = post_h(&srv, "/", &[("Content-Type", "application/json; charset=utf-8")], br#"["PING"]"#);
    assert_json(&r, 200, r#"{"result":"PONG"}"#);
    let r = post_h(&srv, "/", &[("Content-Type", "text/plain")], br#"["PING"]"#);
    assert_json(&r, 200, r#"{"result":"PONG"}"#);
    // PUT works as POST.
    let auth = bearer(&srv.http_token);
    let r = http(srv.http_port, "PUT", "/", &[("Authorization", &auth)], Some(br#"["ECHO","x"]"#));
    assert_json(&r, 200, r#"{"result":"x"}"#);
}

#[test]
fn arguments_keep_their_exact_text() {
    let srv = server();
    let cases = [
        ("99.5", "99.5"),
        ("1e+21", "1e+21"),
        ("1.0", "1.0"),
        ("9223372036854775807", "9223372036854775807"),
        ("-0", "-0"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ("true", "true"),
        ("false", "false"),
        ("null", ""),
        (r#""\u00e9\n\"""#, "é\\n\\\""),
    ];
    for (arg, stored) in cases {
        assert_json(&post(&srv, "/", &format!(r#"["SET","k",{arg}]"#)), 200, r#"{"result":"OK"}"#);
        assert_json(&post(&srv, "/", r#"["GET","k"]"#), 200, &format!(r#"{{"result":"{stored}"}}"#));
    }
    // Checked on the RESP side too: the bytes stored are the JSON number's text.
    post(&srv, "/", r#"["SET","n",9223372036854775807]"#);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["INCRBY", "n", "0"]), int(i64::MAX));
    assert_json(&post(&srv, "/", r#"["INCRBYFLOAT","f",1e2]"#), 200, r#"{"result":"100"}"#);
}

#[test]
fn results_are_mapped_to_json() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "bin", "x"]);
    c.send(&Frame::command([&b"SET"[..], b"bin", b"a\xffb\"\\\x01"]));
    assert_eq!(c.read(), ok());
    // Invalid UTF-8 becomes U+FFFD; JSON escapes are correct.
    assert_json(&post(&srv, "/", r#"["GET","bin"]"#), 200, "{\"result\":\"a\u{fffd}b\\\"\\\\\\u0001\"}");
    // In base64 mode the bytes are exact.
    let r = post_h(&srv, "/", &[("Upstash-Encoding", "base64")], br#"["GET","bin"]"#);
    assert_json(&r, 200, r#"{"result":"Yf9iIlwB"}"#);
    // Integers keep their digits; arrays recurse; nil is null.
    c.cmd(&["SET", "big", "-9223372036854775808"]);
    assert_json(&post(&srv, "/", r#"["INCRBY","big",0]"#), 200, r#"{"result":-9223372036854775808}"#);
    assert_json(
        &post(&srv, "/", r#"["MGET","big","nope","bin"]"#),
        200,
        "{\"result\":[\"-9223372036854775808\",null,\"a\u{fffd}b\\\"\\\\\\u0001\"]}",
    );
    // A RESP3 map (CONFIG GET) is a flat array, never an object.
    assert_json(&post(&srv, "/", r#"["CONFIG","GET","maxmemory"]"#), 200, r#"{"result":["maxmemory","0"]}"#);
    assert_json(&post(&srv, "/", r#"["CONFIG","GET","nothing-matches"]"#), 200, r#"{"result":[]}"#);
    // INCRBYFLOAT: the double as RESP2 sends it, a string.
    assert_json(&post(&srv, "/", r#"["INCRBYFLOAT","fl","1.5"]"#), 200, r#"{"result":"1.5"}"#);
}

#[test]
fn pipeline_entries_are_exactly_result_or_error() {
    let srv = server();
    let r = post(
        &srv,
        "/pipeline",
        r#"[["SET","a","1"],["INCR","a"],["SET","s","x"],["INCR","s"],["GET","nope"],["NOPE"]]"#,
    );
    assert_json(
        &r,
        200,
        r#"[{"result":"OK"},{"result":2},{"result":"OK"},{"error":"ERR value is not an integer or out of range"},{"result":null},{"error":"ERR unknown command 'NOPE', with args beginning with: "}]"#,
    );
    // A doubled slash is tolerated (the Python SDK can produce one).
    assert_json(&post(&srv, "//pipeline", r#"[["GET","a"]]"#), 200, r#"[{"result":"2"}]"#);
}

#[test]
fn multi_exec_is_atomic_and_aborts_on_validation_errors() {
    let srv = server();
    let r = post(&srv, "/multi-exec", r#"[["SET","a","1"],["INCR","a"],["SET","s","x"],["INCR","s"],["GET","a"]]"#);
    assert_json(
        &r,
        200,
        r#"[{"result":"OK"},{"result":2},{"result":"OK"},{"error":"ERR value is not an integer or out of range"},{"result":"2"}]"#,
    );
    let r = post(&srv, "/multi-exec", r#"[["SET","a","100"],["NOPE"]]"#);
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    let r = post(&srv, "/multi-exec", r#"[["SET","a","100"],["GET"]]"#);
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    let r = post(&srv, "/multi-exec", r#"[["SET","a","100"],["SELECT","1"]]"#);
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    // Nothing of the discarded transactions ran.
    assert_json(&post(&srv, "/", r#"["GET","a"]"#), 200, r#"{"result":"2"}"#);
    // The engine counted MULTI and EXEC like a RESP client's.
    let mut c = Conn::open(&srv);
    let info = String::from_utf8_lossy(&c.raw(&["INFO", "commandstats"])).into_owned();
    assert!(info.contains("cmdstat_exec:calls=3,"), "{info}");
    assert!(info.contains("cmdstat_multi:calls=4,"), "{info}");
}

#[test]
fn concurrent_transactions_never_interleave() {
    let srv = server();
    let port = srv.http_port;
    let auth = bearer(&srv.http_token);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let auth = auth.clone();
            std::thread::spawn(move || {
                let mut conn = Http::connect(port);
                let mut seen = Vec::new();
                for _ in 0..50 {
                    let r = conn.request(
                        "POST",
                        "/multi-exec",
                        &[("Authorization", &auth)],
                        Some(br#"[["INCR","c"],["INCR","c"],["INCR","c"]]"#),
                    );
                    assert_eq!(r.status, 200);
                    let nums: Vec<i64> = r
                        .text()
                        .split("\"result\":")
                        .skip(1)
                        .map(|s| s.trim_end_matches(['}', ']', ',', '{']).parse().unwrap())
                        .collect();
                    assert_eq!(nums.len(), 3);
                    assert!(nums[1] == nums[0] + 1 && nums[2] == nums[1] + 1, "interleaved: {nums:?}");
                    seen.push(nums[0]);
                }
                seen
            })
        })
        .collect();
    let mut firsts: Vec<i64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    firsts.sort_unstable();
    assert_eq!(firsts, (0..400).map(|i| i * 3 + 1).collect::<Vec<_>>());
}

#[test]
fn path_form() {
    let srv = server();
    assert_json(&get(&srv, "/set/foo/bar/EX/100"), 200, r#"{"result":"OK"}"#);
    assert_json(&get(&srv, "/get/foo"), 200, r#"{"result":"bar"}"#);
    assert_json(&get(&srv, "/ttl/foo"), 200, r#"{"result":100}"#);
    // %2F stays inside a key; other escapes are decoded per segment.
    assert_json(&get(&srv, "/set/a%2Fb/x%20y"), 200, r#"{"result":"OK"}"#);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["GET", "a/b"]), bulk("x y"));
    // A POST body is one more argument, raw (not JSON-parsed).
    assert_json(&post(&srv, "/set/raw", r#"{"not":"json args"}"#), 200, r#"{"result":"OK"}"#);
    assert_eq!(c.cmd(&["GET", "raw"]), bulk(r#"{"not":"json args"}"#));
    // Query parameters follow as pairs; a key without '=' is one argument; _token is removed.
    let r = http(srv.http_port, "GET", &format!("/set/q/v?EX=50&NX&_token={}", srv.http_token), &[], None);
    assert_json(&r, 200, r#"{"result":"OK"}"#);
    assert_eq!(c.cmd(&["TTL", "q"]), int(50));
    let r = http(srv.http_port, "GET", &format!("/set/q/w?NX&_token={}", srv.http_token), &[], None);
    assert_json(&r, 200, r#"{"result":null}"#);
    // The body comes before the query arguments.
    assert_json(&post(&srv, "/set/b?EX=70", "body value"), 200, r#"{"result":"OK"}"#);
    assert_eq!(c.cmd(&["GET", "b"]), bulk("body value"));
    assert_eq!(c.cmd(&["TTL", "b"]), int(70));
    // An unknown first segment is an unknown command.
    assert_json(
        &get(&srv, "/foo/bar"),
        400,
        r#"{"error":"ERR unknown command 'foo', with args beginning with: 'bar' "}"#,
    );
    assert_json(&get(&srv, "/ping"), 200, r#"{"result":"PONG"}"#);
    // HEAD answers the head only.
    let auth = bearer(&srv.http_token);
    let r = Http::connect(srv.http_port).request("HEAD", "/get/foo", &[("Authorization", &auth)], None);
    assert_eq!(r.status, 200);
}

#[test]
fn base64_encoding() {
    let srv = server();
    let b64 = [("Upstash-Encoding", "base64")];
    assert_json(&post_h(&srv, "/", &b64, br#"["PING"]"#), 200, r#"{"result":"UE9ORw=="}"#);
    post(&srv, "/", r#"["SET","foo","bar"]"#);
    post(&srv, "/", r#"["SET","empty",""]"#);
    assert_json(&post_h(&srv, "/", &b64, br#"["GET","foo"]"#), 200, r#"{"result":"YmFy"}"#);
    assert_json(&post_h(&srv, "/", &b64, br#"["GET","empty"]"#), 200, r#"{"result":""}"#);
    // Integers and nulls untouched; errors never encoded; nested strings encoded (OK too).
    let r = post_h(
        &srv,
        "/pipeline",
        &b64,
        br#"[["SET","n","5"],["INCR","n"],["GET","missing"],["INCR","foo"],["MGET","foo","missing"]]"#,
    );
    assert_json(
        &r,
        200,
        r#"[{"result":"T0s="},{"result":6},{"result":null},{"error":"ERR value is not an integer or out of range"},{"result":["YmFy",null]}]"#,
    );
    let r = post_h(&srv, "/multi-exec", &b64, br#"[["SET","x","1"],["GET","x"]]"#);
    assert_json(&r, 200, r#"[{"result":"T0s="},{"result":"MQ=="}]"#);
    // The header's value is case-insensitive.
    let r = post_h(&srv, "/", &[("upstash-encoding", "BASE64")], br#"["GET","foo"]"#);
    assert_json(&r, 200, r#"{"result":"YmFy"}"#);
}

#[test]
fn resp2_response_format() {
    let srv = server();
    post(&srv, "/", r#"["SET","foo","bar"]"#);
    let r = post_h(&srv, "/", &[("Upstash-Response-Format", "resp2")], br#"["GET","foo"]"#);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"$3\r\nbar\r\n"[..]));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let r =
        post_h(&srv, "/pipeline", &[("Upstash-Response-Format", "resp2")], br#"[["PING"],["INCR","foo"],["GET","x"]]"#);
    assert_eq!(r.text(), "+PONG\r\n-ERR value is not an integer or out of range\r\n$-1\r\n");
    let r = post_h(&srv, "/", &[("Upstash-Response-Format", "resp2")], br#"["INCR","foo"]"#);
    assert_eq!((r.status, r.text().as_str()), (400, "-ERR value is not an integer or out of range\r\n"));
    let both = [("Upstash-Response-Format", "resp2"), ("Upstash-Encoding", "base64")];
    assert_eq!(post_h(&srv, "/", &both, br#"["PING"]"#).status, 400);
    let r = post_h(&srv, "/multi-exec", &[("Upstash-Response-Format", "resp2")], br#"[["PING"]]"#);
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with("{\"error\":"), "{}", r.text());
}

#[test]
fn authentication() {
    let srv = server_with("http-token tok1,tok2\nhttp-readonly-token ro");
    let port = srv.http_port;
    let unauthorized = |r: HttpResp| assert_json(&r, 401, r#"{"error":"Unauthorized"}"#);
    unauthorized(http(port, "POST", "/", &[], Some(b"[\"PING\"]")));
    unauthorized(http(port, "POST", "/", &[("Authorization", "Bearer undefined")], Some(b"[\"PING\"]")));
    unauthorized(http(port, "POST", "/", &[("Authorization", "Basic dG9rMQ==")], Some(b"[\"PING\"]")));
    unauthorized(http(port, "POST", "/", &[("Authorization", "Bearer")], Some(b"[\"PING\"]")));
    unauthorized(http(port, "POST", "/", &[("Authorization", "Bearer tok")], Some(b"[\"PING\"]")));
    unauthorized(http(port, "POST", "/?_token=nope", &[], Some(b"[\"PING\"]")));
    // The generated token only stands in while no http-token is configured.
    unauthorized(http(port, "POST", "/", &[("Authorization", &bearer(&srv.http_token))], Some(b"[\"PING\"]")));
    // Auth comes first, even before a bad body.
    unauthorized(http(port, "POST", "/", &[], Some(b"{")));
    let ok = |r: HttpResp| assert_json(&r, 200, r#"{"result":"PONG"}"#);
    ok(http(port, "POST", "/", &[("Authorization", "Bearer tok1")], Some(b"[\"PING\"]")));
    ok(http(port, "POST", "/", &[("Authorization", "bearer tok2")], Some(b"[\"PING\"]")));
    ok(http(port, "POST", "/", &[("Authorization", "BEARER  tok1 ")], Some(b"[\"PING\"]")));
    ok(http(port, "POST", "/?_token=tok2", &[], Some(b"[\"PING\"]")));
    ok(http(port, "GET", "/ping?_token=tok1", &[], None));
    // Read-only tokens: writes (and admin commands) get NOPERM, reads run.
    let ro = [("Authorization", "Bearer ro")];
    assert_json(
        &http(port, "POST", "/", &ro, Some(br#"["SET","k","v"]"#)),
        400,
        r#"{"error":"NOPERM this user has no permissions to run the 'set' command or its subcommand"}"#,
    );
    assert_json(
        &http(port, "POST", "/", &ro, Some(br#"["CONFIG","SET","maxmemory","1"]"#)),
        400,
        r#"{"error":"NOPERM this user has no permissions to run the 'config|set' command or its subcommand"}"#,
    );
    assert_json(&http(port, "POST", "/", &ro, Some(br#"["GET","k"]"#)), 200, r#"{"result":null}"#);
    let r = http(port, "POST", "/pipeline", &ro, Some(br#"[["GET","k"],["DEL","k"]]"#));
    assert_json(
        &r,
        200,
        r#"[{"result":null},{"error":"NOPERM this user has no permissions to run the 'del' command or its subcommand"}]"#,
    );
    let r = http(port, "POST", "/multi-exec", &ro, Some(br#"[["GET","k"],["DEL","k"]]"#));
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    // Tokens can be rotated at run time.
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CONFIG", "SET", "http-token", "fresh"]), ok_frame());
    unauthorized(http(port, "POST", "/", &[("Authorization", "Bearer tok1")], Some(b"[\"PING\"]")));
    ok(http(port, "POST", "/", &[("Authorization", "Bearer fresh")], Some(b"[\"PING\"]")));
    // requirepass does not apply to REST clients: the token is their authentication.
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", "pw"]), ok_frame());
    ok(http(port, "POST", "/", &[("Authorization", "Bearer fresh")], Some(b"[\"PING\"]")));
}

fn ok_frame() -> Frame {
    ok()
}

#[test]
fn generated_token_when_none_is_configured() {
    let srv = server();
    assert_eq!(srv.http_token.len(), 43);
    assert_json(&post(&srv, "/", r#"["PING"]"#), 200, r#"{"result":"PONG"}"#);
    let r = http(srv.http_port, "POST", "/", &[], Some(b"[\"PING\"]"));
    assert_eq!(r.status, 401);
}

#[test]
fn health_cors_methods() {
    let srv = server();
    let r = http(srv.http_port, "GET", "/", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("{\"status\":\"ok\""), "{}", r.text());
    let r = http(srv.http_port, "OPTIONS", "/pipeline", &[("Origin", "https://x.example")], None);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let allow = r.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for h in [
        "authorization",
        "content-type",
        "upstash-encoding",
        "upstash-sync-token",
        "upstash-response-format",
        "upstash-telemetry-sdk",
        "accept",
        "cache-control",
    ] {
        assert!(allow.contains(h), "{h} missing from {allow}");
    }
    assert_eq!(r.header("access-control-expose-headers"), Some("upstash-sync-token"));
    let r = post(&srv, "/", r#"["PING"]"#);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    for m in ["DELETE", "PATCH", "TRACE"] {
        let r = http(srv.http_port, m, "/", &[("Authorization", &bearer(&srv.http_token))], None);
        assert_json(&r, 405, r#"{"error":"ERR method not allowed"}"#);
    }
}

#[test]
fn sync_token_changes_after_writes() {
    let srv = server();
    let token = |r: &HttpResp| r.header("upstash-sync-token").map(str::to_string).expect("sync token header");
    let t0 = token(&post(&srv, "/", r#"["GET","a"]"#));
    let t1 = token(&post(&srv, "/", r#"["GET","a"]"#));
    assert_eq!(t0, t1);
    let t2 = token(&post_h(&srv, "/pipeline", &[("Upstash-Sync-Token", "garbage")], br#"[["SET","a","1"]]"#));
    assert_ne!(t1, t2);
    let t3 = token(&post_h(&srv, "/", &[("Upstash-Sync-Token", "")], br#"["INCR","a"]"#));
    assert_ne!(t2, t3);
    let t4 = token(&post(&srv, "/multi-exec", r#"[["INCR","a"]]"#));
    assert_ne!(t3, t4);
    // Errors carry it too.
    assert!(http(srv.http_port, "POST", "/", &[], None).header("upstash-sync-token").is_some());
    assert!(post(&srv, "/", "{").header("upstash-sync-token").is_some());
}

#[test]
fn bad_requests_are_clean_json_400s() {
    let srv = server();
    let bodies: &[&[u8]] = &[
        b"",
        b"{",
        b"[]",
        b"[[]]",
        b"{}",
        b"null",
        b"\"PING\"",
        b"[1,2]",
        b"[null]",
        b"[\"SET\",\"k\",[1]]",
        b"[\"SET\",\"k\",{\"a\":1}]",
        b"[\"SET\",\"k\",\"\\ud800\"]",
        b"[\"SET\",\"k\",\"\\udc00x\"]",
        b"[\"SET\",\"k\",\"\xff\"]",
        b"[\"PING\"] trailing",
    ];
    for body in bodies {
        let r = post_h(&srv, "/", &[], body);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        assert!(r.text().starts_with("{\"error\":\"ERR "), "{}", r.text());
    }
    let pipelines: &[&[u8]] =
        &[b"", b"[]", b"[[]]", b"{}", b"[\"PING\"]", b"[[\"GET\",[\"x\"]]]", b"[[1]]", b"[[\"PING\"],[]]"];
    for path in ["/pipeline", "/multi-exec"] {
        for body in pipelines {
            let r = post_h(&srv, path, &[], body);
            assert_eq!(r.status, 400, "{path} {}", String::from_utf8_lossy(body));
            assert!(r.text().starts_with("{\"error\":\"ERR "), "{}", r.text());
        }
    }
    // Still serving.
    assert_json(&post(&srv, "/", r#"["PING"]"#), 200, r#"{"result":"PONG"}"#);
}

#[test]
fn oversize_bodies_are_refused() {
    let srv = server();
    let auth = bearer(&srv.http_token);
    // Declared too large: refused before reading.
    let mut conn = Http::connect(srv.http_port);
    conn.send_raw(
        format!("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 10485761\r\n\r\n").as_bytes(),
    );
    assert_json(&conn.read_response(false), 400, r#"{"error":"ERR max request size exceeded"}"#);
    // Chunked, growing past the limit.
    let mut conn = Http::connect(srv.http_port);
    conn.send_raw(
        format!("POST /pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    );
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..11 {
        let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
        piece.extend_from_slice(&chunk);
        piece.extend_from_slice(b"\r\n");
        // The server may answer and stop reading before the end.
        if conn.try_send_raw(&piece).is_err() {
            break;
        }
    }
    assert_json(&conn.read_response(false), 400, r#"{"error":"ERR max request size exceeded"}"#);
    // Just under the limit is fine.
    let mut big = br#"["SET","big",""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024 - 100));
    big.extend_from_slice(br#""]"#);
    assert_json(&post_h(&srv, "/", &[], &big), 200, r#"{"result":"OK"}"#);
}

#[test]
fn chunked_bodies_are_read_whole() {
    let srv = server();
    let auth = bearer(&srv.http_token);
    let mut conn = Http::connect(srv.http_port);
    let mut req =
        format!("POST /pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    // A body in three chunks, sent one by one, each cutting through a string.
    for piece in [r#"[["SET","ch"#, r#"unked","a"#, r#"bc"],["GET","chunked"]]"#] {
        req.extend_from_slice(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes());
        conn.send_raw(&req);
        req.clear();
    }
    conn.send_raw(b"0\r\n\r\n");
    assert_json(&conn.read_response(false), 200, r#"[{"result":"OK"},{"result":"abc"}]"#);
}

#[test]
fn stateful_commands_are_refused() {
    let srv = server();
    for cmd in [
        r#"["SELECT",1]"#,
        r#"["AUTH","x"]"#,
        r#"["HELLO","3"]"#,
        r#"["CLIENT","SETNAME","x"]"#,
        r#"["CLIENT","ID"]"#,
        r#"["QUIT"]"#,
        r#"["RESET"]"#,
        r#"["MULTI"]"#,
        r#"["EXEC"]"#,
        r#"["DISCARD"]"#,
        r#"["WATCH","k"]"#,
        r#"["SUBSCRIBE","ch"]"#,
        r#"["PSUBSCRIBE","*"]"#,
        r#"["MONITOR"]"#,
    ] {
        let r = post(&srv, "/", cmd);
        assert_eq!(r.status, 400, "{cmd}");
        assert!(r.text().contains("not allowed over the REST API"), "{cmd}: {}", r.text());
    }
    let r = post(&srv, "/pipeline", r#"[["SELECT","1"],["SET","k","db0"]]"#);
    assert_json(&r, 200, r#"[{"error":"ERR Command is not allowed over the REST API: 'select'"},{"result":"OK"}]"#);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["GET", "k"]), bulk("db0"));
    // Each request's client is freed afterwards.
    let base = srv.shared.lock().clients.len();
    for _ in 0..5 {
        post(&srv, "/pipeline", r#"[["PING"]]"#);
    }
    assert_eq!(srv.shared.lock().clients.len(), base);
}

#[test]
fn client_pause_holds_rest_writes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    // Reads are not held back.
    assert_json(&post(&srv, "/", r#"["GET","k"]"#), 200, r#"{"result":null}"#);
    let port = srv.http_port;
    let auth = bearer(&srv.http_token);
    let writer = std::thread::spawn(move || {
        let r = http(port, "POST", "/pipeline", &[("Authorization", &auth)], Some(br#"[["SET","k","v"],["GET","k"]]"#));
        r.text()
    });
    wait_until("the REST write to be paused", || srv.shared.lock().clients.iter().any(|cl| cl.blocked.is_some()));
    assert_eq!(c.cmd(&["GET", "k"]), Frame::Null);
    assert_eq!(c.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(writer.join().unwrap(), r#"[{"result":"OK"},{"result":"v"}]"#);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let srv = server();
    let auth = bearer(&srv.http_token);
    let mut conn = Http::connect(srv.http_port);
    for i in 0..20 {
        let body = format!(r#"[["SET","k{i}","{i}"],["GET","k{i}"]]"#);
        let r = conn.request("POST", "/pipeline", &[("Authorization", &auth)], Some(body.as_bytes()));
        assert_eq!(r.text(), format!(r#"[{{"result":"OK"}},{{"result":"{i}"}}]"#));
    }
}

fn subscribers(srv: &TestServer, channel: &[u8]) -> usize {
    srv.shared.lock().pubsub.channels.get(channel).map_or(0, |v| v.len())
}

#[test]
fn subscribe_streams_messages_as_events() {
    let srv = server();
    let auth = bearer(&srv.http_token);
    let mut sub = Http::connect(srv.http_port);
    sub.send("POST", "/subscribe/news", &[("Authorization", &auth)], Some(b"[]"));
    let head = sub.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert!(head.header("upstash-sync-token").is_some());
    let mut text = String::new();
    sub.read_stream_until(&mut text, "data: subscribe,news,1\n\n");
    assert_eq!(subscribers(&srv, b"news"), 1);
    {
        let mut guard = srv.shared.lock();
        spinel_engine::pubsub::publish(&mut guard, b"news", b"hello, world", false);
        spinel_engine::pubsub::publish(&mut guard, b"news", b"two\nlines", false);
    }
    sub.read_stream_until(&mut text, "data: message,news,two\ndata: lines\n\n");
    assert_eq!(
        text,
        "data: subscribe,news,1\n\ndata: message,news,hello, world\n\ndata: message,news,two\ndata: lines\n\n"
    );
    // Closing the stream releases the subscription.
    drop(sub);
    wait_until("the subscription to be released", || subscribers(&srv, b"news") == 0);
}

#[test]
fn psubscribe_streams_keyspace_events() {
    let srv = server_with("notify-keyspace-events KEA");
    let auth = bearer(&srv.http_token);
    let mut sub = Http::connect(srv.http_port);
    sub.send("POST", "/psubscribe/__keyspace@0__:*", &[("Authorization", &auth)], None);
    assert_eq!(sub.read_head().status, 200);
    let mut text = String::new();
    sub.read_stream_until(&mut text, "data: psubscribe,__keyspace@0__:*,1\n\n");
    post(&srv, "/", r#"["SET","foo","bar"]"#);
    sub.read_stream_until(&mut text, "data: pmessage,__keyspace@0__:*,__keyspace@0__:foo,set\n\n");
    // Subscribing needs a token too.
    let r = http(srv.http_port, "POST", "/subscribe/x", &[], None);
    assert_eq!(r.status, 401);
    drop(sub);
    wait_until("the pattern to be released", || srv.shared.lock().pubsub.patterns.is_empty());
}

fn monitors(srv: &TestServer) -> usize {
    srv.shared.lock().introspection.monitors.len()
}

#[test]
fn monitor_streams_commands_as_events() {
    let srv = server_with("http-token tok\nhttp-readonly-token ro");
    let mut mon = Http::connect(srv.http_port);
    mon.send("POST", "/monitor", &[("Authorization", "Bearer tok")], None);
    let head = mon.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let mut text = String::new();
    mon.read_stream_until(&mut text, "data: \"OK\"\n\n");
    assert_eq!(monitors(&srv), 1);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["SET", "k", "a b"]), ok());
    mon.read_stream_until(&mut text, "\"SET\" \"k\" \"a b\"\n\n");
    // One event per command, in MONITOR's format: `<time> [<db> <addr>] "arg" ...`.
    let line = text.lines().find(|l| l.contains("\"SET\"")).unwrap_or_default().to_string();
    let rest = line.strip_prefix("data: ").expect("a data line");
    let (time, tail) = rest.split_once(' ').expect("time then client");
    assert!(time.parse::<f64>().is_ok(), "{line}");
    assert!(tail.starts_with("[0 127.0.0.1:"), "{line}");
    // A read-only token may not monitor; closing the stream stops monitoring.
    let r = http(srv.http_port, "POST", "/monitor", &[("Authorization", "Bearer ro")], None);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("NOPERM"), "{}", r.text());
    drop(mon);
    assert_eq!(c.cmd(&["PING"]), Frame::Simple(b"PONG".to_vec()));
    wait_until("the monitor to be released", || {
        // The stream notices the closed connection when the next line is sent to it.
        let _ = c.cmd(&["PING"]);
        srv.shared.lock().clients.iter().all(|cl| !cl.has(spinel_engine::client::flags::MONITOR))
    });
}

#[test]
fn blocking_commands_do_not_wait() {
    let srv = server();
    // With nothing to pop, a blocking command answers as on timeout, at once (timeout 0
    // would otherwise wait forever).
    assert_json(&post(&srv, "/", r#"["BLPOP","empty",0]"#), 200, r#"{"result":null}"#);
    assert_json(&post(&srv, "/", r#"["BLMOVE","empty","dst","LEFT","RIGHT",0]"#), 200, r#"{"result":null}"#);
    let r = post(&srv, "/pipeline", r#"[["BRPOP","empty",0],["RPUSH","l","a","b"],["BLPOP","l",0],["BRPOP","l",0]]"#);
    assert_json(&r, 200, r#"[{"result":null},{"result":2},{"result":["l","a"]},{"result":["l","b"]}]"#);
    let r = post(&srv, "/multi-exec", r#"[["BLPOP","empty",0],["RPUSH","l","c"],["BLPOP","l",0]]"#);
    assert_json(&r, 200, r#"[{"result":null},{"result":1},{"result":["l","c"]}]"#);
    // No client is left blocked.
    assert_eq!(srv.shared.lock().blocked_clients, 0);
}
