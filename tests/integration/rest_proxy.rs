//! Proxy mode (SRH-compatible): the REST gateway in front of other servers. The backends here
//! are in-process Spinel servers on ephemeral ports; tests/node/run.sh repeats the SDK tests
//! against a real redis-server 7.0.15 (subscriptions and TLS included).

use std::time::{Duration, Instant};

use spinel_http::proxy::TokenEntry;
use spinel_server::TestProxy;

use crate::harness::*;
use crate::http::{http, Http, HttpResp};

fn entry(token: &str, srh_id: &str, url: &str, max: usize) -> TokenEntry {
    TokenEntry { token: token.into(), srh_id: srh_id.into(), connection_string: url.into(), max_connections: max }
}

fn url(srv: &TestServer) -> String {
    format!("redis://127.0.0.1:{}", srv.port)
}

fn post(proxy: &TestProxy, token: &str, path: &str, body: &str) -> HttpResp {
    let auth = format!("Bearer {token}");
    http(proxy.http_port, "POST", path, &[("Authorization", &auth)], Some(body.as_bytes()))
}

fn assert_json(r: &HttpResp, status: u16, body: &str) {
    assert_eq!((r.status, r.text().as_str()), (status, body), "{r:?}");
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A backend with the closed port 1 (nothing listens there).
const DEAD: &str = "redis://127.0.0.1:1";

#[test]
fn forwards_every_endpoint() {
    let backend = server();
    let proxy = TestProxy::start(&[entry("t", "main", &url(&backend), 3)], Duration::from_secs(900)).unwrap();
    assert_json(&post(&proxy, "t", "/", r#"["SET","k","v","EX",100]"#), 200, r#"{"result":"OK"}"#);
    let mut c = Conn::open(&backend);
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_json(
        &post(&proxy, "t", "/", r#"["INCR","k"]"#),
        400,
        r#"{"error":"ERR value is not an integer or out of range"}"#,
    );
    let r = post(
        &proxy,
        "t",
        "/pipeline",
        r#"[["SET","n",99.5],["GET","n"],["INCR","k"],["GET","nope"],["CONFIG","GET","maxmemory"]]"#,
    );
    assert_json(
        &r,
        200,
        r#"[{"result":"OK"},{"result":"99.5"},{"error":"ERR value is not an integer or out of range"},{"result":null},{"result":["maxmemory","0"]}]"#,
    );
    let r = post(&proxy, "t", "/multi-exec", r#"[["SET","a","1"],["INCR","a"],["INCR","k"]]"#);
    assert_json(&r, 200, r#"[{"result":"OK"},{"result":2},{"error":"ERR value is not an integer or out of range"}]"#);
    let r = post(&proxy, "t", "/multi-exec", r#"[["SET","a","100"],["NOPE"]]"#);
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    assert_eq!(c.cmd(&["GET", "a"]), bulk("2"));
    let r = post(&proxy, "t", "/multi-exec", r#"[["SET","a","100"],["SELECT","1"]]"#);
    assert_json(&r, 400, r#"{"error":"EXECABORT Transaction discarded because of previous errors."}"#);
    let r = post(&proxy, "t", "/", r#"["SELECT","1"]"#);
    assert_json(&r, 400, r#"{"error":"ERR Command is not allowed over the REST API: 'select'"}"#);
    // Path form, base64, resp2.
    let r = http(proxy.http_port, "GET", "/get/k?_token=t", &[], None);
    assert_json(&r, 200, r#"{"result":"v"}"#);
    let r = http(
        proxy.http_port,
        "POST",
        "/pipeline",
        &[("Authorization", "Bearer t"), ("Upstash-Encoding", "base64")],
        Some(br#"[["PING"],["GET","k"],["INCR","a"]]"#),
    );
    assert_json(&r, 200, r#"[{"result":"UE9ORw=="},{"result":"dg=="},{"result":3}]"#);
    let r = http(
        proxy.http_port,
        "POST",
        "/",
        &[("Authorization", "Bearer t"), ("Upstash-Response-Format", "resp2")],
        Some(br#"["GET","k"]"#),
    );
    assert_eq!(r.body, b"$1\r\nv\r\n");
    // Auth and bad input as in local mode.
    assert_json(&post(&proxy, "nope", "/", r#"["PING"]"#), 401, r#"{"error":"Unauthorized"}"#);
    assert_json(&http(proxy.http_port, "POST", "/", &[], Some(b"[]")), 401, r#"{"error":"Unauthorized"}"#);
    assert_eq!(post(&proxy, "t", "/", "[[]]").status, 400);
    // The sync token changes after writes.
    let t1 = post(&proxy, "t", "/", r#"["GET","k"]"#).header("upstash-sync-token").map(str::to_string);
    let t2 = post(&proxy, "t", "/", r#"["SET","k","w"]"#).header("upstash-sync-token").map(str::to_string);
    assert!(t1.is_some() && t1 != t2);
}

#[test]
fn a_dead_backend_fails_alone() {
    let backend = server();
    let proxy = TestProxy::start(
        &[entry("good", "a", &url(&backend), 2), entry("bad", "b", DEAD, 2)],
        Duration::from_secs(900),
    )
    .unwrap();
    let r = post(&proxy, "bad", "/", r#"["PING"]"#);
    assert_eq!(r.status, 500);
    assert!(r.text().starts_with("{\"error\":\"ERR unable to connect"), "{}", r.text());
    let r = post(&proxy, "bad", "/pipeline", r#"[["PING"]]"#);
    assert_eq!(r.status, 500);
    assert_json(&post(&proxy, "good", "/", r#"["PING"]"#), 200, r#"{"result":"PONG"}"#);
    let r = post(&proxy, "bad", "/subscribe/x", "");
    assert_eq!(r.status, 500);
    assert_json(&post(&proxy, "good", "/pipeline", r#"[["PING"]]"#), 200, r#"[{"result":"PONG"}]"#);
}

#[test]
fn pools_are_shared_by_srh_id_and_bounded() {
    let backend = server();
    let u = url(&backend);
    let proxy =
        TestProxy::start(&[entry("t1", "shared", &u, 2), entry("t2", "shared", &u, 2)], Duration::from_secs(900))
            .unwrap();
    assert_eq!(proxy.pools().len(), 1);
    let port = proxy.http_port;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let auth = format!("Bearer t{}", 1 + i % 2);
                let mut conn = Http::connect(port);
                for _ in 0..40 {
                    let r = conn.request(
                        "POST",
                        "/multi-exec",
                        &[("Authorization", &auth)],
                        Some(br#"[["INCR","c"],["INCR","c"]]"#),
                    );
                    let text = r.text();
                    let nums: Vec<i64> = text
                        .split("\"result\":")
                        .skip(1)
                        .map(|s| s.trim_end_matches(['}', ']', ',', '{']).parse().unwrap())
                        .collect();
                    assert_eq!(nums.len(), 2, "{text}");
                    assert_eq!(nums[1], nums[0] + 1, "a transaction was interleaved: {text}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = Conn::open(&backend);
    assert_eq!(c.cmd(&["GET", "c"]), bulk("640"));
    let pool = &proxy.pools()[0];
    assert!(pool.opened() <= 2, "opened {} connections for a pool of 2", pool.opened());
}

#[test]
fn reconnects_after_a_dropped_connection_and_idles_out() {
    let backend = server();
    let proxy = TestProxy::start(&[entry("t", "main", &url(&backend), 1)], Duration::from_secs(2)).unwrap();
    let pool = proxy.pools()[0].clone();
    assert_eq!(pool.opened(), 0, "pools connect lazily");
    assert_json(&post(&proxy, "t", "/", r#"["SET","k","1"]"#), 200, r#"{"result":"OK"}"#);
    assert_eq!(pool.opened(), 1);
    // The backend drops the connection: the next request reconnects.
    let mut c = Conn::open(&backend);
    assert_eq!(c.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]), int(1));
    assert_json(&post(&proxy, "t", "/", r#"["INCR","k"]"#), 200, r#"{"result":2}"#);
    assert_eq!(pool.opened(), 2);
    // Unused for the idle timeout, the pool closes its connections; the next request
    // connects again.
    wait_until("the idle pool to close its connection", || pool.idle_count() == 0);
    assert_json(&post(&proxy, "t", "/", r#"["INCR","k"]"#), 200, r#"{"result":3}"#);
    assert_eq!(pool.opened(), 3);
}

#[test]
fn blocking_commands_do_not_wait_through_the_proxy() {
    let backend = server();
    let proxy = TestProxy::start(&[entry("t", "main", &url(&backend), 1)], Duration::from_secs(900)).unwrap();
    assert_json(&post(&proxy, "t", "/", r#"["BLPOP","empty",0]"#), 200, r#"{"result":null}"#);
    let r =
        post(&proxy, "t", "/pipeline", r#"[["RPUSH","l","a"],["BLPOP","l",0],["BLPOP","l",0],["BLPOP"],["GET","l"]]"#);
    assert_json(
        &r,
        200,
        r#"[{"result":1},{"result":["l","a"]},{"result":null},{"error":"ERR wrong number of arguments for 'blpop' command"},{"result":null}]"#,
    );
    // The one pooled connection is still in step.
    assert_json(&post(&proxy, "t", "/", r#"["PING"]"#), 200, r#"{"result":"PONG"}"#);
}
