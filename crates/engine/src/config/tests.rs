//! Unit tests: the table, defaults, CONFIG GET / SET semantics and error texts, value parsing
//! and formatting, the command line. Expected texts come from redis-server 7.0.15.

use super::table::{self, DIRECTIVES, HIDDEN};
use super::*;

/// Serializes the tests that change or depend on the process's working directory.
pub(super) fn cwd_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn get1(c: &Config, name: &str) -> String {
    let r = c.get(&[name.as_bytes()]);
    assert_eq!(r.len(), 1, "{name}: {r:?}");
    String::from_utf8(r[0].1.clone()).unwrap()
}

fn set1(c: &mut Config, name: &str, value: &str) -> Result<Vec<&'static str>, String> {
    c.set(&[(name.as_bytes(), value.as_bytes())])
}

fn set_err(c: &mut Config, name: &str, value: &str) -> String {
    set1(c, name, value).expect_err(name)
}

fn failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

#[test]
fn table_has_every_directive_once() {
    assert_eq!(DIRECTIVES.len(), 182);
    let mut names = std::collections::HashSet::new();
    for d in DIRECTIVES.iter() {
        assert!(names.insert(d.name), "{}", d.name);
        if let Some(a) = d.alias {
            assert!(names.insert(a), "{a}");
        }
    }
    assert_eq!(DIRECTIVES.iter().filter(|d| d.alias.is_some()).count(), 19);
    let hidden: Vec<_> = DIRECTIVES.iter().filter(|d| d.flags & HIDDEN != 0).map(|d| d.name).collect();
    assert_eq!(
        hidden,
        [
            "use-exit-on-panic",
            "rdb-key-save-delay",
            "key-load-delay",
            "watchdog-period",
            "loading-process-events-interval-bytes",
            "http-port",
            "http-bind",
            "http-token",
            "http-readonly-token"
        ]
    );
    assert_eq!(table::registered().count(), 201);
}

#[test]
fn typed_defaults() {
    let c = Config::new();
    assert_eq!(c.int("port"), 6379);
    assert_eq!(c.int("databases"), 16);
    assert_eq!(c.int("hz"), 10);
    assert_eq!(c.uint("maxmemory"), 0);
    assert_eq!(c.int("proto-max-bulk-len"), 512 << 20);
    assert_eq!(c.int("client-query-buffer-limit"), 1 << 30);
    assert_eq!(c.int("list-max-listpack-size"), -2);
    assert_eq!(c.int("hash-max-ziplist-entries"), 512);
    assert_eq!(c.int("busy-reply-threshold"), 5000);
    assert_eq!(c.int("maxclients"), 10000);
    assert_eq!(c.int("maxmemory-policy"), 7 << 8);
    assert_eq!(c.enum_name("maxmemory-policy"), "noeviction");
    assert_eq!(c.enum_name("loglevel"), "notice");
    assert_eq!(c.enum_name("appendfsync"), "everysec");
    assert_eq!(c.enum_name("tls-auth-clients"), "yes");
    assert_eq!(c.enum_name("shutdown-on-sigint"), "default");
    assert!(c.bool("protected-mode"));
    assert!(c.bool("replica-read-only"));
    assert!(c.bool("slave-read-only"));
    assert!(!c.bool("appendonly"));
    assert_eq!(c.string("dbfilename"), Some("dump.rdb"));
    assert_eq!(c.string("appenddirname"), Some("appendonlydir"));
    assert_eq!(c.string("logfile"), Some(""));
    assert_eq!(c.string("requirepass"), None);
    assert_eq!(c.string("unixsocket"), None);
    assert_eq!(c.string("proc-title-template"), Some("{title} {listen-addr} {server-mode}"));
    assert_eq!(c.save_points(), &[(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(c.output_buffer_limits(), OBUF_DEFAULTS);
    assert_eq!(c.notify_flags(), 0);
    assert_eq!(c.bind_addrs(), ["*", "-::*"]);
    assert_eq!(c.oom_score_adj_values(), [0, 200, 800]);
    assert_eq!(c.latency_percentiles(), [50.0, 99.0, 99.9]);
    assert_eq!(c.replicaof(), None);
    assert!(c.renamed_commands().is_empty());
    assert_eq!(c.config_file(), None);
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "bind"), "* -::*");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    let _guard = cwd_lock();
    assert_eq!(get1(&c, "dir"), std::env::current_dir().unwrap().to_str().unwrap());
}

#[test]
#[should_panic(expected = "no such config directive")]
fn typed_getter_panics_on_unknown_name() {
    Config::new().int("no-such-thing");
}

#[test]
#[should_panic(expected = "is not a bool")]
fn typed_getter_panics_on_wrong_type() {
    Config::new().bool("port");
}

#[test]
fn sensitive_and_names() {
    assert!(Config::is_sensitive("requirepass"));
    assert!(Config::is_sensitive("MASTERAUTH"));
    assert!(Config::is_sensitive("masteruser"));
    assert!(!Config::is_sensitive("port"));
    assert!(!Config::is_sensitive("nope"));
    assert_eq!(Config::canonical_name(b"SLAVEOF"), Some("replicaof"));
    assert_eq!(Config::canonical_name(b"lua-time-limit"), Some("busy-reply-threshold"));
    assert!(Config::exists(b"hash-max-ziplist-value"));
    assert!(!Config::exists(b"list-max-ziplist-entries"));
}

#[test]
fn get_exact_names_answer_as_asked() {
    let c = Config::new();
    assert_eq!(c.get(&[b"MAXMEMORY"]), vec![("MAXMEMORY".to_string(), b"0".to_vec())]);
    assert_eq!(c.get(&[b"maxmemory", b"MaxMemory"]), vec![("maxmemory".to_string(), b"0".to_vec())]);
    assert_eq!(c.get(&[b"slaveof"]), vec![("slaveof".to_string(), Vec::new())]);
    assert_eq!(c.get(&[b"lua-time-limit"]), vec![("lua-time-limit".to_string(), b"5000".to_vec())]);
    assert_eq!(c.get(&[b"nonexistent"]), vec![]);
    // Hidden configs: only by exact name.
    assert_eq!(c.get(&[b"use-exit-on-panic"]), vec![("use-exit-on-panic".to_string(), b"no".to_vec())]);
    assert_eq!(c.get(&[b"*exit*"]), vec![]);
    assert_eq!(get1(&c, "loading-process-events-interval-bytes"), "2097152");
}

#[test]
fn get_globs() {
    let c = Config::new();
    let all = c.get(&[b"*"]);
    assert_eq!(all.len(), 192);
    let names: std::collections::HashSet<_> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 192);
    assert!(names.contains("slave-read-only") && names.contains("replica-read-only"));
    let mut slave: Vec<_> = c.get(&[b"*SLAVE*"]).into_iter().map(|(n, _)| n).collect();
    slave.sort();
    assert_eq!(
        slave,
        [
            "cluster-slave-no-failover",
            "cluster-slave-validity-factor",
            "min-slaves-max-lag",
            "min-slaves-to-write",
            "repl-ping-slave-period",
            "slave-announce-ip",
            "slave-announce-port",
            "slave-ignore-maxmemory",
            "slave-lazy-flush",
            "slave-priority",
            "slave-read-only",
            "slave-serve-stale-data",
            "slaveof",
        ]
    );
    // An exact name first, then a pattern covering it: listed once, under the name asked.
    let r = c.get(&[b"PORT", b"p?rt", b"[p]ort"]);
    assert_eq!(r, vec![("PORT".to_string(), b"6379".to_vec())]);
    let r = c.get(&[b"maxmemory*", b"maxmemory"]);
    assert_eq!(r.len(), 5, "{r:?}");
    let r = c.get(&[b"tls-*-file"]);
    assert_eq!(r.len(), 6, "{r:?}");
}

#[test]
fn set_basic_and_aliases() {
    let mut c = Config::new();
    assert_eq!(set1(&mut c, "maxmemory", "10mb"), Ok(vec!["maxmemory"]));
    assert_eq!(c.uint("maxmemory"), 10 << 20);
    assert_eq!(get1(&c, "maxmemory"), "10485760");
    assert_eq!(set1(&mut c, "HASH-MAX-ZIPLIST-ENTRIES", "100"), Ok(vec!["hash-max-listpack-entries"]));
    assert_eq!(c.int("hash-max-listpack-entries"), 100);
    assert_eq!(get1(&c, "hash-max-ziplist-entries"), "100");
    // An alias and its primary in one CONFIG SET are not duplicates: both are set, in order.
    let names = c.set(&[(b"hash-max-ziplist-entries", b"1"), (b"hash-max-listpack-entries", b"2")]).unwrap();
    assert_eq!(names, ["hash-max-listpack-entries", "hash-max-listpack-entries"]);
    assert_eq!(c.int("hash-max-listpack-entries"), 2);
    assert_eq!(set1(&mut c, "protected-mode", "NO"), Ok(vec!["protected-mode"]));
    assert!(!c.bool("protected-mode"));
    set1(&mut c, "maxmemory-policy", "ALLKEYS-LRU").unwrap();
    assert_eq!(c.enum_name("maxmemory-policy"), "allkeys-lru");
    assert_eq!(c.int("maxmemory-policy"), 1029);
    set1(&mut c, "oom-score-adj", "relative").unwrap();
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
}

#[test]
fn set_errors() {
    let mut c = Config::new();
    assert_eq!(set_err(&mut c, "foo", "bar"), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    assert_eq!(
        c.set(&[(b"foo", b"bar"), (b"maxmemory", b"x")]).unwrap_err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    // The first problem wins.
    assert_eq!(
        c.set(&[(b"databases", b"3"), (b"foo", b"bar")]).unwrap_err(),
        failed("databases", "can't set immutable config")
    );
    assert_eq!(set_err(&mut c, "DATABASES", "3"), failed("DATABASES", "can't set immutable config"));
    assert_eq!(set_err(&mut c, "slaveof", "a 1"), failed("slaveof", "can't set immutable config"));
    assert_eq!(set_err(&mut c, "dir", "/tmp"), failed("dir", "can't set protected config"));
    assert_eq!(set_err(&mut c, "dbfilename", "x.rdb"), failed("dbfilename", "can't set protected config"));
    assert_eq!(
        c.set(&[(b"maxmemory", b"1"), (b"maxmemory", b"2")]).unwrap_err(),
        failed("maxmemory", "duplicate parameter")
    );
    assert_eq!(
        c.set(&[(b"maxmemory", b"1"), (b"MAXMEMORY", b"2")]).unwrap_err(),
        failed("MAXMEMORY", "duplicate parameter")
    );
    assert_eq!(set_err(&mut c, "Maxmemory", "foo"), failed("maxmemory", "argument must be a memory value"));
    assert_eq!(
        set_err(&mut c, "hash-max-ziplist-entries", "foo"),
        failed("hash-max-ziplist-entries", "argument couldn't be parsed into an integer")
    );
    assert_eq!(set_err(&mut c, "protected-mode", "1"), failed("protected-mode", "argument must be 'yes' or 'no'"));
    assert_eq!(
        set_err(&mut c, "loglevel", "foo"),
        failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")
    );
    assert_eq!(
        set_err(&mut c, "maxclients", "-1"),
        failed("maxclients", "argument must be between 1 and 4294967295 inclusive")
    );
    assert_eq!(set_err(&mut c, "port", "70000"), failed("port", "argument must be between 0 and 65535 inclusive"));
    assert_eq!(
        set_err(&mut c, "slowlog-log-slower-than", "-2"),
        failed("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive")
    );
    assert_eq!(
        set_err(&mut c, "list-max-listpack-size", "99999999999"),
        failed("list-max-listpack-size", "argument must be between -2147483648 and 2147483647 inclusive")
    );
    assert_eq!(set_err(&mut c, "appendfilename", "x"), failed("appendfilename", "can't set immutable config"));
    assert_eq!(
        set_err(&mut c, "proc-title-template", "{foo}"),
        failed("proc-title-template", "template format is invalid or contains unknown variables")
    );
    assert_eq!(
        set_err(&mut c, "proc-title-template", "{title}"),
        failed("proc-title-template", "template format is invalid or contains unknown variables")
    );
    assert_eq!(
        set_err(&mut c, "proc-title-template", "{server-mode}"),
        failed("proc-title-template", "template format is invalid or contains unknown variables")
    );
    set1(&mut c, "proc-title-template", "{title} {port}").unwrap();
    assert_eq!(
        set_err(&mut c, "cluster-announce-hostname", "a_b"),
        failed("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots")
    );
    assert_eq!(
        set_err(&mut c, "cluster-announce-hostname", &"a".repeat(256)),
        failed("cluster-announce-hostname", "Hostnames must be less than 256 characters")
    );
    set1(&mut c, "cluster-announce-hostname", "a-b.c").unwrap();
    assert_eq!(c.string("cluster-announce-hostname"), Some("a-b.c"));
}

#[test]
fn set_is_atomic() {
    let mut c = Config::new();
    let err = c
        .set(&[
            (b"maxmemory", b"10mb"),
            (b"save", b""),
            (b"notify-keyspace-events", b"KEA"),
            (b"bind", b"127.0.0.1"),
            (b"maxmemory-policy", b"bogus"),
        ])
        .unwrap_err();
    assert!(err.starts_with(&failed("maxmemory-policy", "argument(s) must be one of")), "{err}");
    assert_eq!(c.uint("maxmemory"), 0);
    assert_eq!(c.save_points().len(), 3);
    assert_eq!(c.notify_flags(), 0);
    assert_eq!(c.bind_addrs(), ["*", "-::*"]);
    let names = c.set(&[(b"maxmemory", b"10mb"), (b"save", b""), (b"timeout", b"5")]).unwrap();
    assert_eq!(names, ["maxmemory", "save", "timeout"]);
    assert_eq!(c.uint("maxmemory"), 10 << 20);
    assert!(c.save_points().is_empty());
    assert_eq!(c.int("timeout"), 5);
}

#[test]
fn set_protected_and_loading() {
    let mut c = Config::new();
    c.load_string("enable-protected-configs local").unwrap();
    let local = SetContext { loading: false, local_client: true };
    assert_eq!(set_err(&mut c, "dbfilename", "x.rdb"), failed("dbfilename", "can't set protected config"));
    assert_eq!(c.set_with(&[(b"dbfilename", b"x.rdb")], local), Ok(vec!["dbfilename"]));
    assert_eq!(
        c.set_with(&[(b"dbfilename", b"a/b")], local).unwrap_err(),
        failed("dbfilename", "dbfilename can't be a path, just a filename")
    );
    assert_eq!(c.string("dbfilename"), Some("x.rdb"));
    let loading = SetContext { loading: true, local_client: true };
    assert_eq!(
        c.set_with(&[(b"appendonly", b"yes")], loading).unwrap_err(),
        "LOADING Redis is loading the dataset in memory"
    );
    assert_eq!(c.set_with(&[(b"maxmemory", b"1")], loading), Ok(vec!["maxmemory"]));
    // An earlier error takes precedence over the loading one.
    assert_eq!(
        c.set_with(&[(b"databases", b"1"), (b"appendonly", b"yes")], loading).unwrap_err(),
        failed("databases", "can't set immutable config")
    );
}

#[test]
fn set_dir_changes_directory_and_restores_on_failure() {
    let _guard = cwd_lock();
    let orig = std::env::current_dir().unwrap();
    let mut c = Config::new();
    c.load_string("enable-protected-configs yes").unwrap();
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    let err = c.set(&[(b"dir", tmp.to_str().unwrap().as_bytes()), (b"port", b"x")]).unwrap_err();
    assert_eq!(err, failed("port", "argument couldn't be parsed into an integer"));
    assert_eq!(std::env::current_dir().unwrap(), orig);
    assert_eq!(set_err(&mut c, "dir", "/nonexistent/really"), failed("dir", "No such file or directory"));
    set1(&mut c, "dir", tmp.to_str().unwrap()).unwrap();
    assert_eq!(std::env::current_dir().unwrap(), tmp);
    assert_eq!(get1(&c, "dir"), tmp.to_str().unwrap());
    std::env::set_current_dir(&orig).unwrap();
}

#[test]
fn memory_percent_octal() {
    let mut c = Config::new();
    for (v, want) in [("1k", 1000u64), ("1kb", 1024), ("1M", 1_000_000), ("1MB", 1 << 20), ("2g", 2_000_000_000)] {
        set1(&mut c, "maxmemory", v).unwrap();
        assert_eq!(c.uint("maxmemory"), want, "{v}");
    }
    set1(&mut c, "maxmemory", "3GB").unwrap();
    assert_eq!(get1(&c, "maxmemory"), "3221225472");
    set1(&mut c, "maxmemory", "").unwrap();
    assert_eq!(c.uint("maxmemory"), 0);
    set1(&mut c, "maxmemory", "kb").unwrap();
    assert_eq!(c.uint("maxmemory"), 0);
    set1(&mut c, "maxmemory", "18446744073709551615").unwrap();
    assert_eq!(get1(&c, "maxmemory"), "18446744073709551615");
    assert_eq!(c.uint("maxmemory"), u64::MAX);
    set1(&mut c, "maxmemory", "18446744073709551616").unwrap();
    assert_eq!(get1(&c, "maxmemory"), "18446744073709551615");
    for bad in ["-1", "1.5gb", " 1", "1 ", "10%"] {
        assert_eq!(set_err(&mut c, "maxmemory", bad), failed("maxmemory", "argument must be a memory value"), "{bad}");
    }
    // Memory + percent: percentages are stored negative and shown as N%.
    set1(&mut c, "maxmemory-clients", "5%").unwrap();
    assert_eq!(c.int("maxmemory-clients"), -5);
    assert_eq!(get1(&c, "maxmemory-clients"), "5%");
    set1(&mut c, "maxmemory-clients", "1mb").unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "1048576");
    assert_eq!(
        set_err(&mut c, "maxmemory-clients", "101%"),
        failed("maxmemory-clients", "percentage argument must be less or equal to 100")
    );
    assert_eq!(
        set_err(&mut c, "maxmemory-clients", "-5"),
        failed("maxmemory-clients", "argument must be a memory or percent value")
    );
    // A memory value read back negative through the ssize_t counts as a percentage (as in Redis).
    set1(&mut c, "maxmemory-clients", "18446744073709551615").unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "1%");
    assert_eq!(
        set_err(&mut c, "proto-max-bulk-len", "1000"),
        failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")
    );
    // Octal: parsed and printed in base 8 (immutable, so through the config text).
    c.load_string("unixsocketperm 755").unwrap();
    assert_eq!(c.int("unixsocketperm"), 0o755);
    assert_eq!(get1(&c, "unixsocketperm"), "755");
    c.load_string("unixsocketperm 0700").unwrap();
    assert_eq!(get1(&c, "unixsocketperm"), "700");
    let e = c.load_string("unixsocketperm 1000").unwrap_err();
    assert_eq!(e.message(), "argument must be between 0 and 777 inclusive");
    let e = c.load_string("unixsocketperm 8").unwrap_err();
    assert_eq!(e.message(), "argument couldn't be parsed as an octal number");
}

#[test]
fn save_parameters() {
    let mut c = Config::new();
    set1(&mut c, "save", "100 10 200 20").unwrap();
    assert_eq!(c.save_points(), &[(100, 10), (200, 20)]);
    assert_eq!(get1(&c, "save"), "100 10 200 20");
    set1(&mut c, "save", "").unwrap();
    assert!(c.save_points().is_empty());
    assert_eq!(get1(&c, "save"), "");
    for bad in ["100", "100 10  200 20", "0 1", "1 -1", "x 1", "  "] {
        assert_eq!(set_err(&mut c, "save", bad), failed("save", "Invalid save parameters"), "{bad:?}");
    }
    set1(&mut c, "save", "+5 3").unwrap();
    assert_eq!(c.save_points(), &[(5, 3)]);
}

#[test]
fn client_output_buffer_limit() {
    let mut c = Config::new();
    set1(&mut c, "client-output-buffer-limit", "normal 1mb 2mb 3").unwrap();
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    set1(&mut c, "client-output-buffer-limit", "REPLICA 1 2 3 pubsub 4k 5k 6").unwrap();
    assert_eq!(
        c.output_buffer_limits(),
        [
            ObufLimit { hard: 1 << 20, soft: 2 << 20, soft_seconds: 3 },
            ObufLimit { hard: 1, soft: 2, soft_seconds: 3 },
            ObufLimit { hard: 4000, soft: 5000, soft_seconds: 6 },
        ]
    );
    let name = "client-output-buffer-limit";
    assert_eq!(
        set_err(&mut c, name, "master 1 2 3"),
        failed(name, "Invalid client class specified in buffer limit configuration.")
    );
    assert_eq!(
        set_err(&mut c, name, "normal 1 2"),
        failed(name, "Wrong number of arguments in buffer limit configuration.")
    );
    assert_eq!(
        set_err(&mut c, name, "normal 1 2 -3"),
        failed(name, "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
    );
    assert_eq!(
        set_err(&mut c, name, "normal 1 2 3 slave x 1 1"),
        failed(name, "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
    );
    assert_eq!(c.output_buffer_limits()[0].hard, 1 << 20);
    // An empty value sets nothing (zero classes).
    set1(&mut c, name, "").unwrap();
    assert_eq!(c.output_buffer_limits()[0].hard, 1 << 20);
}

#[test]
fn bind_notify_oom_percentiles_shutdown() {
    let mut c = Config::new();
    set1(&mut c, "bind", "127.0.0.1 -::1").unwrap();
    assert_eq!(c.bind_addrs(), ["127.0.0.1", "-::1"]);
    set1(&mut c, "bind", "").unwrap();
    assert!(c.bind_addrs().is_empty());
    assert_eq!(get1(&c, "bind"), "");
    let many = vec!["a"; 17].join(" ");
    assert_eq!(set_err(&mut c, "bind", &many), failed("bind", "Too many bind addresses specified."));

    set1(&mut c, "notify-keyspace-events", "KEA").unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    assert_eq!(c.notify_flags(), crate::keyspace::notify::parse_flags(b"AKE").unwrap());
    assert_eq!(
        set_err(&mut c, "notify-keyspace-events", "Q"),
        failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    );
    set1(&mut c, "notify-keyspace-events", "").unwrap();
    assert_eq!(c.notify_flags(), 0);

    let name = "oom-score-adj-values";
    set1(&mut c, name, "-100 0 2000").unwrap();
    assert_eq!(c.oom_score_adj_values(), [-100, 0, 2000]);
    assert_eq!(set_err(&mut c, name, "1 2"), failed(name, "wrong number of arguments"));
    assert_eq!(
        set_err(&mut c, name, "1 2 3000"),
        failed(name, "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    );

    let name = "latency-tracking-info-percentiles";
    set1(&mut c, name, "1 2.5 99.99999").unwrap();
    assert_eq!(get1(&c, name), "1 2.5 99.99999");
    assert_eq!(
        set_err(&mut c, name, "101"),
        failed(name, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
    );
    assert_eq!(set_err(&mut c, name, "abc"), failed(name, "Invalid latency-tracking-info-percentiles parameters"));
    assert_eq!(c.latency_percentiles(), [1.0, 2.5, 99.99999]);
    set1(&mut c, name, "").unwrap();
    assert!(c.latency_percentiles().is_empty());

    let name = "shutdown-on-sigint";
    set1(&mut c, name, "save now").unwrap();
    assert_eq!(get1(&c, name), "save now");
    assert_eq!(c.int(name), 1 | 4);
    set1(&mut c, name, "FORCE now").unwrap();
    assert_eq!(get1(&c, name), "now force");
    assert_eq!(
        set_err(&mut c, name, "save nosave"),
        failed(name, "shutdown options SAVE and NOSAVE can't be used simultaneously")
    );
    let one_of = "argument(s) must be one of the following: default, save, nosave, now, force";
    assert_eq!(set_err(&mut c, name, "now  force"), failed(name, one_of));
    assert_eq!(set_err(&mut c, name, ""), failed(name, one_of));
    set1(&mut c, name, "default").unwrap();
    assert_eq!(get1(&c, name), "default");
}

#[test]
fn strings_and_nulls() {
    let mut c = Config::new();
    set1(&mut c, "masteruser", "bob").unwrap();
    assert_eq!(c.string("masteruser"), Some("bob"));
    set1(&mut c, "masteruser", "").unwrap();
    assert_eq!(c.string("masteruser"), None);
    assert_eq!(get1(&c, "masteruser"), "");
    // C strings end at a NUL; SDS ones (requirepass) keep everything.
    c.set(&[(b"masteruser", b"a\0b"), (b"requirepass", b"x\0y")]).unwrap();
    assert_eq!(c.string_bytes("masteruser"), Some(&b"a"[..]));
    assert_eq!(c.string_bytes("requirepass"), Some(&b"x\0y"[..]));
    set1(&mut c, "ignore-warnings", "").unwrap();
    assert_eq!(c.string("ignore-warnings"), Some(""));
}

#[test]
fn hz_is_capped() {
    let mut c = Config::new();
    set1(&mut c, "hz", "1000").unwrap();
    assert_eq!(get1(&c, "hz"), "500");
    set1(&mut c, "hz", "0").unwrap();
    assert_eq!(c.int("hz"), 1);
    c.load_string("hz 100000").unwrap();
    assert_eq!(c.int("hz"), 500);
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn command_line() {
    let run = |a: &[&str]| command_line_to_config(&args(a)).unwrap();
    assert_eq!(run(&[]), (None, String::new()));
    assert_eq!(run(&["/etc/redis.conf"]), (Some("/etc/redis.conf".into()), String::new()));
    assert_eq!(run(&["--port", "7301", "--save", ""]), (None, "port \"7301\" \nsave \"\" ".into()));
    assert_eq!(run(&["r.conf", "--port 7301"]), (Some("r.conf".into()), "port 7301 ".into()));
    assert_eq!(run(&["--save", "--port", "1"]), (None, "save \"\"\nport \"1\" ".into()));
    assert_eq!(run(&["--port", "1", "--save"]), (None, "port \"1\" \nsave \"\"".into()));
    assert_eq!(run(&["--save", "900", "1", "300", "10"]), (None, "save \"900\" \"1\" \"300\" \"10\" ".into()));
    // A value starting with "--" after a name without value is a value.
    assert_eq!(run(&["--logfile", "--odd"]), (None, "logfile \"--odd\" ".into()));
    assert_eq!(run(&["--requirepass", "a\"b c"]), (None, "requirepass \"a\\\"b c\" ".into()));
    assert_eq!(run(&["--sentinel", "--port", "1"]), (None, "sentinel \nport \"1\" ".into()));
    assert_eq!(run(&["-"]), (Some("-".into()), String::new()));
    assert_eq!(run(&["-", "--port", "1"]), (Some("-".into()), "port \"1\" ".into()));
    assert_eq!(run(&["--port"]), (None, "port ".into()));
    for special in ["-v", "--version", "-h", "--help", "--check-system", "--test-memory"] {
        assert_eq!(command_line_to_config(&args(&[special])), Err(special.to_string()));
    }
    assert_eq!(parse_command_line(&args(&["--test-memory", "10"])), CommandLine::TestMemory(Some("10".into())));
    assert_eq!(
        parse_command_line(&args(&["a.conf", "--port", "1", "-"])),
        CommandLine::Run { config_file: Some("a.conf".into()), stdin: true, options: "port \"1\" ".into() }
    );
    // The options load as config text, line numbers counting the "\n" Redis puts first.
    let (_, options) = run(&["--port", "7301", "--save", "", "--maxmemory", "1mb"]);
    let mut c = Config::new();
    c.load_server_config(None, None, Some(&options)).unwrap();
    assert_eq!(c.int("port"), 7301);
    assert!(c.save_points().is_empty());
    assert_eq!(c.uint("maxmemory"), 1 << 20);
    let (_, options) = run(&["--port"]);
    let e = Config::new().load_server_config(None, None, Some(&options)).unwrap_err();
    assert_eq!(
        e.to_string(),
        concat!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n",
            "Reading the configuration file, at line 2\n",
            ">>> 'port'\n",
            "wrong number of arguments\n"
        )
    );
    let (_, options) = run(&["--save", "100", "--port", "7305"]);
    let e = Config::new().load_server_config(None, None, Some(&options)).unwrap_err();
    assert_eq!(
        (e.line_number(), e.line_text(), e.message()),
        (Some(2), Some("save \"100\""), "Invalid save parameters")
    );
}

#[test]
fn http_directives() {
    let mut c = Config::new();
    assert_eq!(c.int("http-port"), 8079);
    assert_eq!(c.string("http-bind"), Some("127.0.0.1"));
    assert_eq!(c.string("http-token"), None);
    assert_eq!(c.string("http-readonly-token"), None);
    // Hidden from globs (CONFIG GET * stays Redis's), visible by exact name.
    assert!(c.get(&[b"*"]).iter().all(|(n, _)| !n.starts_with("http-")));
    assert_eq!(get1(&c, "http-port"), "8079");
    assert_eq!(get1(&c, "HTTP-BIND"), "127.0.0.1");
    assert_eq!(set_err(&mut c, "http-port", "1"), failed("http-port", "can't set immutable config"));
    assert_eq!(set_err(&mut c, "http-bind", "::1"), failed("http-bind", "can't set immutable config"));
    set1(&mut c, "http-token", "a b,c").unwrap();
    assert_eq!(get1(&c, "http-token"), "a b,c");
    assert_eq!(parse::split_list(b" a b,,c ").collect::<Vec<_>>(), [&b"a"[..], b"b", b"c"]);
    assert!(Config::is_sensitive("http-token") && Config::is_sensitive("http-readonly-token"));
    assert!(set_err(&mut c, "http-readonly-token", "x\u{1}y").contains("printable ASCII"));
    let (_, options) =
        command_line_to_config(&args(&["--http-port", "0", "--http-bind", "127.0.0.1 ::1", "--http-token", "t1"]))
            .unwrap();
    let mut c = Config::new();
    c.load_server_config(None, None, Some(&options)).unwrap();
    assert_eq!(c.int("http-port"), 0);
    assert_eq!(c.string("http-bind"), Some("127.0.0.1 ::1"));
    assert_eq!(c.string("http-token"), Some("t1"));
    let e = Config::new().load_string("http-bind nowhere").unwrap_err();
    assert!(e.to_string().contains("Invalid bind address"), "{e}");
    let e = Config::new().load_string("http-port 70000").unwrap_err();
    assert!(e.to_string().contains("argument must be between 0 and 65535"), "{e}");
}
