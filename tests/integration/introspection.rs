//! Introspection: MONITOR lines, the slow log, latency reports and histograms, and
//! client-side caching (CLIENT TRACKING) invalidation messages.

use crate::harness::*;

/// Checks a MONITOR line's shape (`+<secs>.<6 digits> [<db> <addr>] "arg" ...`) and returns
/// the part after the timestamp.
fn monitor_body(line: &[u8]) -> String {
    let line = String::from_utf8_lossy(line).into_owned();
    let rest = line.strip_prefix('+').expect("status line");
    let (ts, body) = rest.split_once(' ').expect("timestamp");
    let (secs, micros) = ts.split_once('.').expect("seconds.micros");
    assert!(secs.len() >= 10 && secs.bytes().all(|b| b.is_ascii_digit()), "{line}");
    assert!(micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()), "{line}");
    body.to_string()
}

fn client_addr(c: &mut Conn) -> String {
    let Frame::Bulk(info) = c.cmd(&["CLIENT", "INFO"]) else { panic!() };
    let info = String::from_utf8(info).unwrap();
    info.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string()
}

#[test]
fn monitor_shows_commands_as_redis_formats_them() {
    let srv = server();
    let mut mon = Conn::open(&srv);
    let mut c = Conn::open(&srv);
    let addr = client_addr(&mut c);
    assert_eq!(mon.cmd(&["MONITOR"]), ok());
    c.cmd(&["SET", "k", "a \"q\"\n\x01"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["AUTH", "secret"]);
    c.cmd(&["HELLO", "2", "AUTH", "default", "pw"]);
    // MIGRATE runs (and fails: nothing listens on port 1), its credentials hidden.
    c.cmd(&["MIGRATE", "127.0.0.1", "1", "k", "9", "5000", "AUTH", "pw"]);
    c.cmd(&["MIGRATE", "127.0.0.1", "1", "k", "9", "5000", "AUTH2", "user", "pw"]);
    // Admin commands are never shown; unknown or rejected commands never ran.
    c.cmd(&["CONFIG", "GET", "hz"]);
    c.cmd(&["NOSUCH"]);
    c.cmd(&["GET"]);
    c.cmd(&["PING"]);
    let expected = [
        format!(r#"[0 {addr}] "SET" "k" "a \"q\"\n\x01""#),
        format!(r#"[3 {addr}] "SELECT" "3""#),
        format!(r#"[3 {addr}] "GET" "k""#),
        format!(r#"[0 {addr}] "SELECT" "0""#),
        format!(r#"[0 {addr}] "MULTI""#),
        format!(r#"[0 {addr}] "INCR" "n""#),
        format!(r#"[0 {addr}] "EXEC""#),
        format!(r#"[0 {addr}] "AUTH" "(redacted)""#),
        format!(r#"[0 {addr}] "HELLO" "2" "AUTH" "(redacted)" "(redacted)""#),
        format!(r#"[0 {addr}] "MIGRATE" "127.0.0.1" "1" "k" "9" "5000" "AUTH" "(redacted)""#),
        format!(r#"[0 {addr}] "MIGRATE" "127.0.0.1" "1" "k" "9" "5000" "AUTH2" "(redacted)" "(redacted)""#),
        format!(r#"[0 {addr}] "PING""#),
    ];
    for want in expected {
        assert_eq!(monitor_body(&mon.read_line()), want);
    }
    // A monitor's own command: the reply first, then its line.
    mon.send_cmd(&["PING"]);
    mon.expect_raw(b"+PONG\r\n");
    let own = monitor_body(&mon.read_line());
    assert!(own.ends_with(r#"] "PING""#), "{own}");
    // MONITOR again is ignored without a reply; keyspace commands are refused.
    mon.send_cmd(&["MONITOR"]);
    assert_eq!(error_text(&mon.cmd(&["GET", "k"])), "ERR Replica can't interact with the keyspace");
    let Frame::Bulk(list) = c.cmd(&["CLIENT", "LIST"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains("flags=O "));
}

fn slowlog_args(entry: &Frame) -> Vec<String> {
    let Frame::Array(fields) = entry else { panic!("{entry:?}") };
    assert_eq!(fields.len(), 6);
    let Frame::Array(args) = &fields[3] else { panic!() };
    args.iter()
        .map(|a| match a {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn slowlog_records_trims_and_redacts() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let addr = client_addr(&mut c);
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(0));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "slowpoke"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), ok());
    let long = "A".repeat(130);
    c.cmd(&["SET", "k", &long]);
    let mut many = vec!["MSET"];
    let nums: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    many.extend(nums.iter().map(|s| s.as_str()));
    c.cmd(&many);
    c.cmd(&["CONFIG", "SET", "masterauth", "hunter2"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    c.cmd(&["EXEC"]);
    let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET", "-1"]) else { panic!() };
    // Newest first; EXEC itself is not logged, what it ran is.
    let args: Vec<Vec<String>> = entries.iter().map(slowlog_args).collect();
    assert_eq!(args[0], vec!["PING"]);
    assert_eq!(args[1], vec!["MULTI"]);
    assert_eq!(args[2], vec!["CONFIG", "SET", "masterauth", "(redacted)"]);
    assert_eq!(args[3].len(), 32);
    assert_eq!(args[3][31], "... (10 more arguments)");
    assert_eq!(args[4][2], format!("{}... (2 more bytes)", "A".repeat(128)));
    let Frame::Array(first) = &entries[0] else { panic!() };
    assert_eq!(first[4], bulk(&addr));
    assert_eq!(first[5], bulk("slowpoke"));
    let Frame::Array(second) = &entries[1] else { panic!() };
    let (Frame::Integer(newer), Frame::Integer(older)) = (&first[0], &second[0]) else { panic!() };
    assert_eq!(*newer, older + 1);
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), ok());
    // The RESET itself is the first entry of the new log.
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(1));
}

#[test]
fn slowlog_limits_and_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "3"]), ok());
    for _ in 0..10 {
        c.cmd(&["PING"]);
    }
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(3));
    let Frame::Array(two) = c.cmd(&["SLOWLOG", "GET", "2"]) else { panic!() };
    assert_eq!(two.len(), 2);
    assert_eq!(c.cmd(&["SLOWLOG", "GET", "0"]), array(vec![]));
    assert_eq!(error_text(&c.cmd(&["SLOWLOG", "GET", "-2"])), "ERR count should be greater than or equal to -1");
    assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]), ok());
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), ok());
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(0));
    let Frame::Array(help) = c.cmd(&["SLOWLOG", "HELP"]) else { panic!() };
    assert_eq!(help[0], simple("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
}

#[test]
fn latency_monitor_and_histograms() {
    let srv = server_with("enable-debug-command yes");
    let mut c = Conn::open(&srv);
    let Frame::Bulk(doctor) = c.cmd(&["LATENCY", "DOCTOR"]) else { panic!() };
    assert!(String::from_utf8_lossy(&doctor).starts_with("I'm sorry, Dave, I can't do that."));
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), array(vec![]));
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "50"]), ok());
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.06"]), ok());
    let Frame::Array(latest) = c.cmd(&["LATENCY", "LATEST"]) else { panic!() };
    let Frame::Array(event) = &latest[0] else { panic!() };
    assert_eq!(event[0], bulk("command"));
    assert!(matches!(event[2], Frame::Integer(ms) if ms >= 50));
    let Frame::Array(history) = c.cmd(&["LATENCY", "HISTORY", "command"]) else { panic!() };
    assert_eq!(history.len(), 1);
    assert_eq!(error_text(&c.cmd(&["LATENCY", "GRAPH", "nosuch"])), "ERR No samples available for event 'nosuch'");
    let Frame::Bulk(graph) = c.cmd(&["LATENCY", "GRAPH", "command"]) else { panic!() };
    assert!(String::from_utf8_lossy(&graph).starts_with("command - high "));
    assert_eq!(c.cmd(&["LATENCY", "RESET", "nosuch"]), int(0));
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), int(1));
    // RESP3: a map of command → {calls, histogram_usec: {µs → cumulative calls}}.
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    c.cmd(&["SET", "a", "b"]);
    c.cmd(&["SET", "a", "c"]);
    let Frame::Map(h) = c.cmd(&["LATENCY", "HISTOGRAM", "set", "nosuch", "get"]) else { panic!() };
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0, bulk("set"));
    let Frame::Map(fields) = &h[0].1 else { panic!() };
    assert_eq!(fields[0], (bulk("calls"), int(2)));
    assert_eq!(fields[1].0, bulk("histogram_usec"));
    let Frame::Map(buckets) = &fields[1].1 else { panic!() };
    assert_eq!(buckets.last().map(|(_, n)| n.clone()), Some(int(2)));
    let Frame::Map(all) = c.cmd(&["LATENCY", "HISTOGRAM"]) else { panic!() };
    assert!(all.iter().any(|(k, _)| *k == bulk("config|resetstat")));
    assert_eq!(
        error_text(&c.cmd(&["LATENCY", "HELP", "x"])),
        "ERR wrong number of arguments for 'latency|help' command"
    );
}

fn client_id(c: &mut Conn) -> String {
    let Frame::Integer(id) = c.cmd(&["CLIENT", "ID"]) else { panic!() };
    id.to_string()
}

#[test]
fn tracking_resp3_invalidations_follow_the_reply() {
    let srv = server();
    let mut t = Conn::open(&srv);
    let mut w = Conn::open(&srv);
    assert!(matches!(t.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on"]), ok());
    w.cmd(&["SET", "k", "1"]);
    assert_eq!(t.cmd(&["GET", "k"]), bulk("1"));
    w.cmd(&["SET", "k", "2"]);
    t.expect_raw(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    // Its own write: the reply first, then the invalidation.
    t.cmd(&["GET", "k"]);
    t.send_cmd(&["INCR", "k"]);
    t.expect_raw(b":3\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    // Only keys read since the last invalidation are reported.
    w.cmd(&["SET", "k", "9"]);
    t.cmd(&["GET", "k"]);
    t.send_cmd(&["FLUSHALL"]);
    t.expect_raw(b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n");
    // NOLOOP: no news about its own writes.
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on", "NOLOOP"]), ok());
    t.cmd(&["GET", "k"]);
    t.cmd(&["SET", "k", "own"]);
    t.cmd(&["GET", "k"]);
    w.cmd(&["SET", "k", "other"]);
    t.expect_raw(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    let Frame::Map(info) = t.cmd(&["CLIENT", "TRACKINGINFO"]) else { panic!() };
    assert_eq!(info[0], (bulk("flags"), Frame::Set(vec![bulk("on"), bulk("noloop")])));
    assert_eq!(info[1], (bulk("redirect"), int(0)));
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]), int(0));
}

#[test]
fn tracking_redirects_to_a_resp2_subscriber() {
    let srv = server();
    let mut red = Conn::open(&srv);
    let mut t = Conn::open(&srv);
    let mut w = Conn::open(&srv);
    let rid = client_id(&mut red);
    red.send_cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    red.expect_raw(b"*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n");
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid]), ok());
    assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]), int(rid.parse().unwrap()));
    w.cmd(&["MSET", "a", "1", "b", "2"]);
    t.cmd(&["MGET", "a", "b", "c"]);
    w.cmd(&["SET", "b", "3"]);
    red.expect_raw(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nb\r\n");
    w.cmd(&["FLUSHDB"]);
    red.expect_raw(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
    let Frame::Bulk(info) = w.cmd(&["INFO"]) else { panic!() };
    let info = String::from_utf8(info).unwrap();
    assert!(info.contains("\r\ntracking_clients:1\r\n"));
    assert!(info.contains("\r\ntracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n"));
    // BCAST with prefixes: one message per prefix with the keys changed under it.
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &rid, "PREFIX", "x:", "PREFIX", "y:"]), ok());
    w.cmd(&["MSET", "x:1", "1", "z:1", "1", "x:2", "2"]);
    red.expect_raw(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*2\r\n$3\r\nx:1\r\n$3\r\nx:2\r\n");
    assert_eq!(
        error_text(&t.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"])),
        "ERR Prefix 'x' overlaps with an existing prefix 'x:'. Prefixes for a single client must not overlap."
    );
    let Frame::Bulk(list) = w.cmd(&["CLIENT", "LIST"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains(&format!("flags=tB db=0 ")));
    // The redirection goes away: the next invalidation marks it broken.
    drop(red);
    let t_id = client_id(&mut t);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let Frame::Bulk(list) = w.cmd(&["CLIENT", "LIST"]) else { panic!() };
        if !String::from_utf8_lossy(&list).contains(&format!("id={rid} ")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
    }
    w.cmd(&["SET", "x:3", "1"]);
    // RESP2: the map is a flat array.
    let Frame::Array(info) = t.cmd(&["CLIENT", "TRACKINGINFO"]) else { panic!() };
    assert_eq!(info[1], bulks(&["on", "bcast", "broken_redirect"]));
    assert_eq!(info[2..4], [bulk("redirect"), int(rid.parse().unwrap())]);
    assert_eq!(info[5], bulks(&["x:", "y:"]));
    let Frame::Bulk(list) = w.cmd(&["CLIENT", "LIST", "ID", &t_id]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains("flags=tRB "));
}

#[test]
fn tracking_options_and_errors() {
    let srv = server();
    let mut t = Conn::open(&srv);
    let mut w = Conn::open(&srv);
    let cases: &[(&[&str], &str)] = &[
        (&["CLIENT", "TRACKING", "on", "PREFIX", "a"], "ERR PREFIX option requires BCAST mode to be enabled"),
        (&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"], "ERR OPTIN and OPTOUT are not compatible with BCAST"),
        (&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"], "ERR You can't specify both OPTIN mode and OPTOUT mode"),
        (&["CLIENT", "TRACKING", "on", "REDIRECT", "99999"], "ERR The client ID you want redirect to does not exist"),
        (&["CLIENT", "TRACKING", "on", "REDIRECT", "x"], "ERR value is not an integer or out of range"),
        (&["CLIENT", "TRACKING", "maybe"], "ERR syntax error"),
        (&["CLIENT", "CACHING", "yes"], "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
            "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(error_text(&t.cmd(args)), *want, "{args:?}");
    }
    assert!(matches!(t.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]), ok());
    assert_eq!(
        error_text(&t.cmd(&["CLIENT", "CACHING", "no"])),
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    );
    w.cmd(&["MSET", "a", "1", "b", "1"]);
    // OPTIN: only the command right after CLIENT CACHING yes is tracked.
    t.cmd(&["GET", "a"]);
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "yes"]), ok());
    t.cmd(&["GET", "b"]);
    w.cmd(&["MSET", "a", "2", "b", "2"]);
    t.expect_raw(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n");
    assert_eq!(t.cmd(&["PING"]), simple("PONG"));
    // The table limit: extra keys are dropped with an invalidation.
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on"]), ok());
    t.cmd(&["MGET", "k1", "k2", "k3"]);
    assert_eq!(w.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]), ok());
    w.cmd(&["PING"]);
    for _ in 0..2 {
        let Frame::Push(msg) = t.read() else { panic!() };
        assert_eq!(msg[0], bulk("invalidate"));
    }
    let Frame::Bulk(info) = w.cmd(&["INFO", "stats"]) else { panic!() };
    assert!(String::from_utf8_lossy(&info).contains("\r\ntracking_total_keys:1\r\n"));
}
