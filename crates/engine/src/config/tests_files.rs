//! Tests of config text and files: parsing, errors, include, rewrite, Debian's redis.conf, and
//! the defaults compared with a real redis-server 7.0.15.

use std::fs;
use std::path::{Path, PathBuf};

use super::tests::cwd_lock;
use super::*;

/// `CONFIG GET *` of redis-server 7.0.15 started with `--port 7301 --save ''` (minus `dir`).
const REDIS_CONFIG_GET: &str = include_str!("testdata/config-get-7.0.15.tsv");

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinel-config-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d.canonicalize().unwrap()
}

fn load(text: &str) -> Config {
    let mut c = Config::new();
    c.load_string(text).unwrap_or_else(|e| panic!("{e}"));
    c
}

fn load_err(text: &str) -> ConfigError {
    Config::new().load_string(text).unwrap_err()
}

fn all(c: &Config) -> Vec<(String, Vec<u8>)> {
    let mut v = c.get(&[b"*"]);
    v.retain(|(n, _)| n != "dir");
    v.sort();
    v
}

#[test]
fn defaults_match_redis_7_0_15() {
    let (file, options) =
        command_line_to_config(&["--port".into(), "7301".into(), "--save".into(), "".into()]).unwrap();
    assert_eq!(file, None);
    let mut c = Config::new();
    c.load_server_config(None, None, Some(&options)).unwrap();
    let ours = all(&c);
    let theirs: Vec<(String, Vec<u8>)> = REDIS_CONFIG_GET
        .lines()
        .map(|l| {
            let (n, v) = l.split_once('\t').unwrap();
            (n.to_string(), v.as_bytes().to_vec())
        })
        .collect();
    assert_eq!(theirs.len(), 191);
    for (name, value) in &theirs {
        let mine = ours.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("missing {name}"));
        // The one documented difference: DEBUG is allowed from local connections by default.
        let expected: &[u8] = if name == "enable-debug-command" { b"local" } else { value };
        assert_eq!(String::from_utf8_lossy(&mine.1), String::from_utf8_lossy(expected), "{name}");
    }
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn fatal_banner() {
    let e = load_err("port 7305\n\n  maxmemory \"1\n");
    assert_eq!(
        e.to_string(),
        concat!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n",
            "Reading the configuration file, at line 3\n",
            ">>> 'maxmemory \"1'\n",
            "Unbalanced quotes in configuration line\n"
        )
    );
    let e = load_err("# c\nfoo \"bar\"");
    assert_eq!(
        (e.line_number(), e.line_text(), e.message()),
        (Some(2), Some("foo \"bar\""), "Bad directive or wrong number of arguments")
    );
    let e = load_err("cluster-enabled yes\nreplicaof 1.2.3.4 6379\n");
    assert_eq!(
        e.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode\n"
    );
}

#[test]
fn quoting_and_case() {
    let c = load(concat!(
        "# comment\n",
        "\t  PORT 7000  \r\n",
        "Requirepass \"a\\\"b c\\x41\"\n",
        "masteruser 'x y'\n",
        "save \"100 1 200 2\"\n",
        "bind \"127.0.0.1 -::1\"\n",
        "client-output-buffer-limit normal 1mb 2mb 3\n",
        "client-output-buffer-limit pubsub 1gb 1g 0\n",
        "notify-keyspace-events \"\"\n",
        "shutdown-on-sigterm nosave force\n",
        "  # indented comment\n",
        "appendonly YES\n",
        "maxmemory-policy Volatile-LFU\n",
        "maxmemory 100MB\n",
    ));
    assert_eq!(c.int("port"), 7000);
    assert_eq!(c.string_bytes("requirepass"), Some(&b"a\"b cA"[..]));
    assert_eq!(c.string("masteruser"), Some("x y"));
    assert_eq!(c.save_points(), [(100, 1), (200, 2)]);
    assert_eq!(c.bind_addrs(), ["127.0.0.1", "-::1"]);
    let o = c.output_buffer_limits();
    assert_eq!(o[0], ObufLimit { hard: 1 << 20, soft: 2 << 20, soft_seconds: 3 });
    assert_eq!(o[1], OBUF_DEFAULTS[1]);
    assert_eq!(o[2], ObufLimit { hard: 1 << 30, soft: 1_000_000_000, soft_seconds: 0 });
    assert_eq!(c.int("shutdown-on-sigterm"), 2 | 8);
    assert!(c.bool("appendonly"));
    assert_eq!(c.enum_name("maxmemory-policy"), "volatile-lfu");
    assert_eq!(c.uint("maxmemory"), 100 << 20);
}

#[test]
fn line_errors() {
    let cases: &[(&str, &str)] = &[
        ("port 1 2", "wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("port abc", "argument couldn't be parsed into an integer"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("save 900", "Invalid save parameters"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("appenddirname a\\b", "appenddirname can't be a path, just a dirname"),
        ("dbfilename /x.rdb", "dbfilename can't be a path, just a filename"),
        ("bind a b c d e f g h i j k l m n o p q r", "Too many bind addresses specified."),
        ("client-output-buffer-limit master 1 2 3", "Invalid client class specified in buffer limit configuration."),
        ("replicaof host", "wrong number of arguments"),
        ("replicaof host 70000", "Invalid master port"),
        ("replicaof host 1x", "Invalid master port"),
        ("oom-score-adj-values 1 2", "wrong number of arguments"),
        ("dir /nonexistent/really", "No such file or directory"),
        ("loadmodule", "Bad directive or wrong number of arguments"),
        ("loadmodule /x.so", "Module /x.so failed to load: modules are not supported by this server"),
        ("user", "Bad directive or wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        ("rename-command get", "Bad directive or wrong number of arguments"),
        ("sentinel monitor x", "sentinel directive while not in sentinel mode"),
        ("mymod.opt", "Module config specified without value"),
        ("mymod.opt 1", "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"),
        ("list-max-ziplist-entries", "Bad directive or wrong number of arguments"),
    ];
    for (line, msg) in cases {
        let e = load_err(&format!("# first\n{line}\n"));
        assert_eq!((e.line_number(), e.message()), (Some(2), *msg), "{line}");
    }
    // Ignored: deprecated directives, a bare "sentinel", blank and comment lines.
    load("list-max-ziplist-entries 5\nlist-max-ziplist-value 5\nlua-replicate-commands yes\nsentinel\n\n   \n#x\n");
}

#[test]
fn save_lines_in_files() {
    assert_eq!(load("save 100 1\nsave 200 2").save_points(), [(100, 1), (200, 2)]);
    assert_eq!(load("save \"\"\nsave 100 1").save_points(), [(100, 1)]);
    assert_eq!(load("save 100 1\nsave \"\"").save_points(), []);
    assert_eq!(load("port 1").save_points().len(), 3);
    let c = load("replicaof 10.0.0.1 6380\n");
    assert_eq!(c.replicaof(), Some(("10.0.0.1", 6380)));
    assert_eq!(c.get(&[b"slaveof"])[0].1, b"10.0.0.1 6380");
    assert_eq!(load("replicaof 10.0.0.1 6380\nslaveof NO ONE").replicaof(), None);
}

#[test]
fn include_files_and_globs() {
    let d = temp_dir("include");
    fs::write(
        d.join("main.conf"),
        format!(
            "port 1\ninclude {}/b.conf\ninclude {}/conf.d/*.conf\ninclude {}/none/*.conf\n",
            d.display(),
            d.display(),
            d.display()
        ),
    )
    .unwrap();
    fs::write(d.join("b.conf"), "maxmemory 1mb\n").unwrap();
    fs::create_dir(d.join("conf.d")).unwrap();
    fs::write(d.join("conf.d/2.conf"), "timeout 2\n").unwrap();
    fs::write(d.join("conf.d/1.conf"), "timeout 1\ntcp-keepalive 7\n").unwrap();
    let mut c = Config::new();
    c.load_file(&d.join("main.conf")).unwrap();
    assert_eq!((c.int("port"), c.uint("maxmemory"), c.int("timeout"), c.int("tcp-keepalive")), (1, 1 << 20, 2, 7));
    assert_eq!(c.config_file(), Some(d.join("main.conf").as_path()));

    // An error in an included file is reported at its own line.
    fs::write(d.join("bad.conf"), "# x\n\ntimeout nope\n").unwrap();
    let e = load_err(&format!("port 1\ninclude {}/bad.conf\n", d.display()));
    assert_eq!((e.line_number(), e.line_text()), (Some(3), Some("timeout nope")));

    let missing = d.join("missing.conf");
    let e = load_err(&format!("include {}", missing.display()));
    assert!(e.is_open_failure());
    assert_eq!(
        e.to_string(),
        format!("Fatal error, can't open config file '{}': No such file or directory", missing.display())
    );
    let e = Config::new().load_file(&missing).unwrap_err();
    assert!(e.is_open_failure());

    // Redis's quirk: after an include, later save lines each replace the list.
    fs::write(d.join("empty.conf"), "").unwrap();
    let c = load(&format!("include {}/empty.conf\nsave 1 1\nsave 2 2\n", d.display()));
    assert_eq!(c.save_points(), [(2, 2)]);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn rename_command_and_users() {
    let c = load("rename-command FLUSHALL \"\"\nrename-command config cfg-secret\n");
    assert_eq!(
        c.renamed_commands(),
        [("FLUSHALL".to_string(), String::new()), ("config".to_string(), "cfg-secret".to_string())]
    );
    let mut c = Config::new();
    c.set_hooks(LoadHooks {
        command_exists: Some(|name| [&b"get"[..], b"set", b"config"].iter().any(|n| name.eq_ignore_ascii_case(n))),
        check_user: Some(|rules| match rules.iter().position(|r| r.as_slice() == b"bogus") {
            Some(p) => Err((p + 2, "Syntax error".into())),
            None => Ok(()),
        }),
    });
    c.load_string("rename-command GET fetch\nrename-command fetch get2\nrename-command config \"\"").unwrap();
    let mut d = c.clone();
    assert_eq!(d.load_string("rename-command get x").unwrap_err().message(), "No such command in rename-command");
    assert_eq!(d.load_string("rename-command nope x").unwrap_err().message(), "No such command in rename-command");
    assert_eq!(d.load_string("rename-command set get2").unwrap_err().message(), "Target command name already exists");
    let mut d = c.clone();
    d.load_string("rename-command set get\nrename-command get2 set").unwrap();
    assert_eq!(d.renamed_commands().len(), 5);

    c.load_string("user alice on >pw ~* +@all\nuser bob off").unwrap();
    assert_eq!(c.user_lines().len(), 2);
    assert_eq!(c.user_lines()[0][0], b"alice");
    assert_eq!(
        c.load_string("user alice on").unwrap_err().message(),
        "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files"
    );
    assert_eq!(
        c.load_string("user carol on bogus").unwrap_err().message(),
        "Error in user declaration 'bogus': Syntax error"
    );
}

#[test]
fn logfile_must_open() {
    let e = load_err("logfile /nonexistent/dir/x.log\n");
    assert_eq!(e.line_number(), None);
    assert_eq!(e.message(), "Can't open the log file: No such file or directory");
    let d = temp_dir("logfile");
    let c = load(&format!("logfile {}/r.log", d.display()));
    assert!(d.join("r.log").exists());
    assert_eq!(c.string("logfile"), Some(format!("{}/r.log", d.display()).as_str()));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn absolute_paths() {
    let _guard = cwd_lock();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(load::absolute_path(b" /a/b.conf\n"), Some(PathBuf::from("/a/b.conf")));
    assert_eq!(load::absolute_path(b"x.conf"), Some(cwd.join("x.conf")));
    let parent = cwd.parent().unwrap_or(Path::new("/"));
    assert_eq!(load::absolute_path(b"../y.conf"), Some(parent.join("y.conf")));
}

/// The original file of the rewrite test, and what redis-server 7.0.15 made of it after the
/// CONFIG SETs below (the generated section is in Redis's dict order, ours in table order).
const REWRITE_BEFORE: &str = concat!(
    "# my comment\n",
    "port 7302\n",
    "save 100 1\n",
    "save 200 2\n",
    "slave-read-only no\n",
    "hash-max-ziplist-entries 100\n",
    "maxmemory 2mb\n",
    "include /dev/null\n",
    "rename-command FLUSHALL \"\"\n",
    "lua-replicate-commands yes\n",
    "SAVE 300 3\n",
    "bind 127.0.0.1\n",
    "daemonize no\n",
);
const REWRITE_KEPT: &str = concat!(
    "# my comment\n",
    "port 7302\n",
    "save 10 1\n",
    "\n",
    "replica-read-only no\n",
    "hash-max-listpack-entries 100\n",
    "maxmemory 3gb\n",
    "include /dev/null\n",
    "rename-command FLUSHALL \"\"\n",
    "# ??? lua-replicate-commands yes\n",
    "\n",
    "bind 127.0.0.1\n",
    "daemonize no\n",
    "\n",
    "# Generated by CONFIG REWRITE\n",
);
const REWRITE_GENERATED: &[&str] = &[
    "shutdown-on-sigint nosave now",
    "latency-tracking-info-percentiles 99.9 50",
    "maxmemory-clients 10%",
    "notify-keyspace-events \"xK\"",
    "requirepass \"a\\\"b\\\\c\"",
    "user default on #bd558229236e7dc57de12841c13ceb1457fb3f8d462404e7fab1c93914d5a8a0 ~* &* +@all",
];

#[test]
fn rewrite_like_redis() {
    let _guard = cwd_lock();
    let d = temp_dir("rewrite");
    let path = d.join("rw.conf");
    fs::write(&path, REWRITE_BEFORE).unwrap();
    let mut c = Config::new();
    c.load_file(&path).unwrap();
    // After an include, each save line replaces the list (as in Redis).
    assert_eq!(c.save_points(), [(300, 3)]);
    c.set(&[
        (b"maxmemory", b"3gb"),
        (b"notify-keyspace-events", b"Kx"),
        (b"maxmemory-clients", b"10%"),
        (b"save", b"10 1"),
        (b"shutdown-on-sigint", b"nosave now"),
        (b"latency-tracking-info-percentiles", b"99.9 50"),
        (b"requirepass", b"a\"b\\c"),
    ])
    .unwrap();
    let users = [REWRITE_GENERATED[5].to_string()];
    c.rewrite_with_users(Some(&users)).unwrap();
    let out = fs::read_to_string(&path).unwrap();
    let (kept, generated) = out.split_at(REWRITE_KEPT.len());
    assert_eq!(kept, REWRITE_KEPT);
    let mut generated: Vec<&str> = generated.lines().collect();
    let cwd = std::env::current_dir().unwrap();
    let dir_line = format!("dir \"{}\"", cwd.display());
    assert!(generated.contains(&dir_line.as_str()), "{generated:?}");
    generated.retain(|l| *l != dir_line);
    generated.sort();
    let mut want = REWRITE_GENERATED.to_vec();
    want.sort();
    assert_eq!(generated, want);

    // As in Redis, the file's final newline becomes a blank line on the next rewrite, and
    // then nothing changes; the file loads back to the same values.
    c.rewrite_with_users(Some(&users)).unwrap();
    let out = out + "\n";
    assert_eq!(fs::read_to_string(&path).unwrap(), out);
    c.rewrite_with_users(Some(&users)).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), out);
    let mut again = Config::new();
    again.load_file(&path).unwrap();
    assert_eq!(all(&again), all(&c));
    assert_eq!(again.user_lines().len(), 1);

    // Without user descriptions, the file's user lines stay as they are.
    c.rewrite().unwrap();
    assert!(fs::read_to_string(&path).unwrap().contains("user default on"));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn rewrite_details() {
    let _guard = cwd_lock();
    let d = temp_dir("rewrite-details");
    let path = d.join("r.conf");
    assert_eq!(Config::new().rewrite(), Err("ERR The server is running without a config file".into()));

    // A file that does not exist yet: only what differs from the defaults, plus dir and the
    // always-written save and percentiles.
    let mut c = Config::new();
    c.load_server_config(
        None,
        None,
        Some("save \"\"\nbind \"\"\nunixsocketperm 700\nclient-output-buffer-limit replica 1gb 1000 5"),
    )
    .unwrap();
    c.config_file = Some(path.clone());
    c.rewrite().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "# Generated by CONFIG REWRITE");
    lines.sort();
    let dir_line = format!("dir \"{}\"", cwd.display());
    let mut want = vec![
        "bind \"\"",
        "client-output-buffer-limit replica 1gb 1000 5",
        dir_line.as_str(),
        "latency-tracking-info-percentiles 50 99 99.9",
        "save \"\"",
        "unixsocketperm 700",
    ];
    want.sort();
    assert_eq!(lines, want);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644 & !rewrite_umask());

    // Defaults erase their lines (bind), aliases become primaries, duplicates are blanked,
    // strings set to NULL disappear.
    fs::write(&path, "bind 1.2.3.4\nbind 5.6.7.8\nslave-priority 5\nmasteruser bob\n\n\n\nport 1\n").unwrap();
    let mut c = Config::new();
    c.load_file(&path).unwrap();
    c.set(&[(b"bind", b"* -::*"), (b"masteruser", b"")]).unwrap();
    c.rewrite().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("\nreplica-priority 5\n\nport 1\n\n# Generated by CONFIG REWRITE\n"), "{text:?}");

    // Errors carry strerror's text.
    c.config_file = Some(d.join("no/such/dir/r.conf"));
    assert_eq!(c.rewrite(), Err("ERR Rewriting config file: No such file or directory".into()));
    fs::remove_dir_all(&d).unwrap();
}

fn rewrite_umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Umask:")).map_or(0o022, |v| u32::from_str_radix(v.trim(), 8).unwrap())
}

#[test]
fn debug_info_lists_debug_configs() {
    let info = Config::new().debug_info();
    for line in ["io-threads 1", "replica-read-only yes", "proto-max-bulk-len 512mb", "repl-diskless-load disabled"] {
        assert!(info.lines().any(|l| l == line), "{line}: {info}");
    }
    assert!(!info.contains("port"));
}

#[test]
fn debian_redis_conf() {
    let Ok(stock) = fs::read_to_string("/etc/redis/redis.conf") else {
        eprintln!("no readable /etc/redis/redis.conf: skipped");
        return;
    };
    let _guard = cwd_lock();
    let orig = std::env::current_dir().unwrap();
    let d = temp_dir("debian");
    let text: String = stock
        .lines()
        .map(|l| match l.split_whitespace().next() {
            Some("dir") => format!("dir {}", d.display()),
            Some("logfile") => format!("logfile {}/redis.log", d.display()),
            Some("pidfile") => format!("pidfile {}/redis.pid", d.display()),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = d.join("redis.conf");
    fs::write(&path, &text).unwrap();
    let mut c = Config::new();
    c.load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::env::current_dir().unwrap(), d);
    assert_eq!(c.bind_addrs(), ["127.0.0.1", "-::1"]);
    assert!(c.bool("daemonize"));
    assert_eq!(c.int("port"), 6379);
    assert_eq!(c.uint("auto-aof-rewrite-min-size"), 64 << 20);
    assert_eq!(c.output_buffer_limits(), OBUF_DEFAULTS);
    assert_eq!(c.string("appendfilename"), Some("appendonly.aof"));
    c.rewrite().unwrap();
    let rewritten = fs::read_to_string(&path).unwrap();
    let mut again = Config::new();
    again.load_file(&path).unwrap();
    assert_eq!(all(&again), all(&c));
    // Comments are kept; the signature precedes the appended save/percentile lines.
    assert_eq!(
        rewritten.lines().filter(|l| l.starts_with('#')).count(),
        text.lines().filter(|l| l.trim_start().starts_with('#')).count() + 1
    );
    assert!(rewritten.contains("\n# Generated by CONFIG REWRITE\nsave 3600 1\nsave 300 100\nsave 60 10000\n"));
    std::env::set_current_dir(&orig).unwrap();
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn rewrite_replicaof() {
    let _guard = cwd_lock();
    let mut c = Config::new();
    c.set_replicaof(Some(("10.0.0.1", 6380)));
    assert_eq!(c.get(&[b"replicaof"])[0].1, b"10.0.0.1 6380");
    let out = String::from_utf8(c.rewrite_content(b"slaveof 1.1.1.1 1\nport 6379\n", None)).unwrap();
    assert!(out.starts_with("replicaof 10.0.0.1 6380\nport 6379\n"), "{out}");
    c.set_replicaof(None);
    let out = String::from_utf8(c.rewrite_content(b"slaveof 1.1.1.1 1\nport 6379\n", None)).unwrap();
    assert!(out.starts_with("\nport 6379\n"), "{out}");
}
