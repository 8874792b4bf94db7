//! The directive table: every entry of Redis 7.0.15's `static_configs[]` (config.c), in the same
//! order, with its name, alias, flags, type, default, bounds and validation function.

use super::Config;

/// Can only be set at startup (config file / command line).
pub const IMMUTABLE: u32 = 1 << 0;
/// Holds a secret: redact it from logs, slowlog and MONITOR.
pub const SENSITIVE: u32 = 1 << 1;
/// Listed by DEBUG's config dump (`getConfigDebugInfo`).
pub const DEBUG: u32 = 1 << 2;
/// Takes several arguments (`save 3600 1 300 100`).
pub const MULTI_ARG: u32 = 1 << 3;
/// Not matched by `CONFIG GET <pattern>`, only by its exact name.
pub const HIDDEN: u32 = 1 << 4;
/// Settable by CONFIG SET only when `enable-protected-configs` allows it.
pub const PROTECTED: u32 = 1 << 5;
/// Refused by CONFIG SET while the dataset is loading.
pub const DENY_LOADING: u32 = 1 << 6;
/// The value refers to something outside (a file): setting it again is a change.
pub const VOLATILE: u32 = 1 << 9;

/// Numeric formats: plain integer, memory units, percent (stored negative), octal.
pub const INTEGER: u8 = 0;
pub const MEMORY: u8 = 1 << 0;
pub const PERCENT: u8 = 1 << 1;
pub const OCTAL: u8 = 1 << 2;

const INT_MIN: i64 = i32::MIN as i64;
const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const LLONG_MAX: i64 = i64::MAX;
const SSIZE_MAX: i64 = i64::MAX;
/// ULLONG_MAX as Redis stores it in a `long long` bound (compared back as unsigned).
const ULLONG_MAX: i64 = -1;

/// The C type a numeric config lives in: decides the bound check (signed or unsigned) and the
/// truncation applied when storing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NumType {
    Int,
    UInt,
    ULong,
    LongLong,
    ULongLong,
    SizeT,
    SSizeT,
    TimeT,
    OffT,
}

impl NumType {
    /// The types numericBoundaryCheck compares as unsigned.
    pub fn unsigned_check(self) -> bool {
        matches!(self, NumType::UInt | NumType::ULongLong | NumType::SizeT)
    }

    /// The value as it reads back after being stored in the C field.
    pub fn store(self, v: i64) -> i64 {
        match self {
            NumType::Int => v as i32 as i64,
            NumType::UInt => v as u32 as i64,
            _ => v,
        }
    }
}

/// Validates a string value (its C-string view); Err is the static error text.
pub type StrCheck = fn(&Config, &[u8]) -> Result<(), &'static str>;
/// Validates an enum value.
pub type EnumCheck = fn(i32) -> Result<(), &'static str>;

/// The special (hand-written) configs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyPercentiles,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Bool {
        default: bool,
    },
    /// `sds`: an SDS config (binary-safe: masterauth, requirepass); otherwise a C string,
    /// which ends at the first NUL.
    Str {
        default: Option<&'static str>,
        empty_is_null: bool,
        sds: bool,
        check: Option<StrCheck>,
    },
    Enum {
        values: &'static [(&'static str, i32)],
        default: i32,
        check: Option<EnumCheck>,
    },
    Num {
        ty: NumType,
        lo: i64,
        hi: i64,
        default: i64,
        fmt: u8,
    },
    Special(Special),
}

pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u32,
    pub kind: Kind,
}

const fn boolean(name: &'static str, alias: Option<&'static str>, flags: u32, default: bool) -> Directive {
    Directive { name, alias, flags, kind: Kind::Bool { default } }
}

const ALLOW_EMPTY: bool = false;
const EMPTY_IS_NULL: bool = true;

const fn string(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u32,
    empty_is_null: bool,
    default: Option<&'static str>,
    check: Option<StrCheck>,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Str { default, empty_is_null, sds: false, check } }
}

const fn sds(name: &'static str, flags: u32) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Str { default: None, empty_is_null: true, sds: true, check: None },
    }
}

const fn enumeration(
    name: &'static str,
    flags: u32,
    values: &'static [(&'static str, i32)],
    default: i32,
    check: Option<EnumCheck>,
) -> Directive {
    Directive { name, alias: None, flags, kind: Kind::Enum { values, default, check } }
}

#[allow(clippy::too_many_arguments)]
const fn num(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u32,
    ty: NumType,
    lo: i64,
    hi: i64,
    default: i64,
    fmt: u8,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Num { ty, lo, hi, default, fmt } }
}

const fn special(name: &'static str, alias: Option<&'static str>, flags: u32, which: Special) -> Directive {
    Directive { name, alias, flags, kind: Kind::Special(which) }
}

// Enum tables, with Redis's numeric values.
pub const MAXMEMORY_POLICY: &[(&str, i32)] = &[
    ("volatile-lru", 1),
    ("volatile-lfu", (1 << 8) | 2),
    ("volatile-random", 3 << 8),
    ("volatile-ttl", 2 << 8),
    ("allkeys-lru", (4 << 8) | 1 | 4),
    ("allkeys-lfu", (5 << 8) | 2 | 4),
    ("allkeys-random", (6 << 8) | 4),
    ("noeviction", 7 << 8),
];
pub const SYSLOG_FACILITY: &[(&str, i32)] = &[
    ("user", 1 << 3),
    ("local0", 16 << 3),
    ("local1", 17 << 3),
    ("local2", 18 << 3),
    ("local3", 19 << 3),
    ("local4", 20 << 3),
    ("local5", 21 << 3),
    ("local6", 22 << 3),
    ("local7", 23 << 3),
];
pub const LOGLEVEL: &[(&str, i32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
pub const SUPERVISED: &[(&str, i32)] = &[("upstart", 3), ("systemd", 2), ("auto", 1), ("no", 0)];
pub const AOF_FSYNC: &[(&str, i32)] = &[("everysec", 2), ("always", 1), ("no", 0)];
pub const SHUTDOWN_ON_SIG: &[(&str, i32)] = &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];
pub const REPL_DISKLESS_LOAD: &[(&str, i32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
pub const TLS_AUTH_CLIENTS: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
pub const OOM_SCORE_ADJ: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
pub const ACL_PUBSUB_DEFAULT: &[(&str, i32)] = &[("allchannels", 1 << 3), ("resetchannels", 0)];
pub const SANITIZE_DUMP_PAYLOAD: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
pub const PROTECTED_ACTION: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("local", 2)];
pub const CLUSTER_ENDPOINT_TYPE: &[(&str, i32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
pub const PROPAGATION_ERROR_BEHAVIOR: &[(&str, i32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

/// `enable-protected-configs` & co. values.
pub const PROTECTED_ACTION_YES: i32 = 1;
pub const PROTECTED_ACTION_LOCAL: i32 = 2;

use super::parse::{
    valid_announced_hostname, valid_aof_dirname, valid_aof_filename, valid_db_filename, valid_http_bind,
    valid_http_tokens, valid_proc_title_template, valid_shutdown_on_sig,
};
use NumType::*;

const MOD: u32 = 0;
const IMM: u32 = IMMUTABLE;

pub const CONFIG_DEFAULT_PROC_TITLE_TEMPLATE: &str = "{title} {listen-addr} {server-mode}";
const TITLE_DEFAULT: Option<&str> = Some(CONFIG_DEFAULT_PROC_TITLE_TEMPLATE);

/// The table, in `static_configs[]` order.
#[rustfmt::skip]
pub static DIRECTIVES: [Directive; 182] = [
    // Bool configs
    boolean("rdbchecksum", None, IMM, true),
    boolean("daemonize", None, IMM, false),
    boolean("io-threads-do-reads", None, DEBUG | IMM, false),
    boolean("always-show-logo", None, IMM, false),
    boolean("protected-mode", None, MOD, true),
    boolean("rdbcompression", None, MOD, true),
    boolean("rdb-del-sync-files", None, MOD, false),
    boolean("activerehashing", None, MOD, true),
    boolean("stop-writes-on-bgsave-error", None, MOD, true),
    boolean("set-proc-title", None, IMM, true),
    boolean("dynamic-hz", None, MOD, true),
    boolean("lazyfree-lazy-eviction", None, DEBUG, false),
    boolean("lazyfree-lazy-expire", None, DEBUG, false),
    boolean("lazyfree-lazy-server-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-flush", None, DEBUG, false),
    boolean("repl-disable-tcp-nodelay", None, MOD, false),
    boolean("repl-diskless-sync", None, DEBUG, true),
    boolean("aof-rewrite-incremental-fsync", None, MOD, true),
    boolean("no-appendfsync-on-rewrite", None, MOD, false),
    boolean("cluster-require-full-coverage", None, MOD, true),
    boolean("rdb-save-incremental-fsync", None, MOD, true),
    boolean("aof-load-truncated", None, MOD, true),
    boolean("aof-use-rdb-preamble", None, MOD, true),
    boolean("aof-timestamp-enabled", None, MOD, false),
    boolean("cluster-replica-no-failover", Some("cluster-slave-no-failover"), MOD, false),
    boolean("replica-lazy-flush", Some("slave-lazy-flush"), MOD, false),
    boolean("replica-serve-stale-data", Some("slave-serve-stale-data"), MOD, true),
    boolean("replica-read-only", Some("slave-read-only"), DEBUG, true),
    boolean("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), MOD, true),
    boolean("jemalloc-bg-thread", None, MOD, true),
    boolean("activedefrag", None, DEBUG, false),
    boolean("syslog-enabled", None, IMM, false),
    boolean("cluster-enabled", None, IMM, false),
    boolean("appendonly", None, DENY_LOADING, false),
    boolean("cluster-allow-reads-when-down", None, MOD, false),
    boolean("cluster-allow-pubsubshard-when-down", None, MOD, true),
    boolean("crash-log-enabled", None, MOD, true),
    boolean("crash-memcheck-enabled", None, MOD, true),
    boolean("use-exit-on-panic", None, HIDDEN, false),
    boolean("disable-thp", None, IMM, true),
    boolean("cluster-allow-replica-migration", None, MOD, true),
    boolean("replica-announced", None, MOD, true),
    boolean("latency-tracking", None, MOD, true),
    boolean("aof-disable-auto-gc", None, MOD, false),
    boolean("replica-ignore-disk-write-errors", None, MOD, false),
    // String configs
    string("aclfile", None, IMM, ALLOW_EMPTY, Some(""), None),
    string("unixsocket", None, IMM, EMPTY_IS_NULL, None, None),
    string("pidfile", None, IMM, EMPTY_IS_NULL, None, None),
    string("replica-announce-ip", Some("slave-announce-ip"), MOD, EMPTY_IS_NULL, None, None),
    string("masteruser", None, SENSITIVE, EMPTY_IS_NULL, None, None),
    string("cluster-announce-ip", None, MOD, EMPTY_IS_NULL, None, None),
    string("cluster-config-file", None, IMM, ALLOW_EMPTY, Some("nodes.conf"), None),
    string("cluster-announce-hostname", None, MOD, EMPTY_IS_NULL, None, Some(valid_announced_hostname)),
    string("syslog-ident", None, IMM, ALLOW_EMPTY, Some("redis"), None),
    string("dbfilename", None, PROTECTED, ALLOW_EMPTY, Some("dump.rdb"), Some(valid_db_filename)),
    string("appendfilename", None, IMM, ALLOW_EMPTY, Some("appendonly.aof"), Some(valid_aof_filename)),
    string("appenddirname", None, IMM, ALLOW_EMPTY, Some("appendonlydir"), Some(valid_aof_dirname)),
    string("server_cpulist", None, IMM, EMPTY_IS_NULL, None, None),
    string("bio_cpulist", None, IMM, EMPTY_IS_NULL, None, None),
    string("aof_rewrite_cpulist", None, IMM, EMPTY_IS_NULL, None, None),
    string("bgsave_cpulist", None, IMM, EMPTY_IS_NULL, None, None),
    string("ignore-warnings", None, MOD, ALLOW_EMPTY, Some(""), None),
    string("proc-title-template", None, MOD, ALLOW_EMPTY, TITLE_DEFAULT, Some(valid_proc_title_template)),
    string("bind-source-addr", None, MOD, EMPTY_IS_NULL, None, None),
    string("logfile", None, IMM, ALLOW_EMPTY, Some(""), None),
    // SDS configs
    sds("masterauth", SENSITIVE),
    sds("requirepass", SENSITIVE),
    // Enum configs
    enumeration("supervised", IMM, SUPERVISED, 0, None),
    enumeration("syslog-facility", IMM, SYSLOG_FACILITY, 16 << 3, None),
    enumeration("repl-diskless-load", DEBUG | DENY_LOADING, REPL_DISKLESS_LOAD, 0, None),
    enumeration("loglevel", MOD, LOGLEVEL, 2, None),
    enumeration("maxmemory-policy", MOD, MAXMEMORY_POLICY, 7 << 8, None),
    enumeration("appendfsync", MOD, AOF_FSYNC, 2, None),
    enumeration("oom-score-adj", MOD, OOM_SCORE_ADJ, 0, None),
    enumeration("acl-pubsub-default", MOD, ACL_PUBSUB_DEFAULT, 0, None),
    enumeration("sanitize-dump-payload", DEBUG, SANITIZE_DUMP_PAYLOAD, 0, None),
    enumeration("enable-protected-configs", IMM, PROTECTED_ACTION, 0, None),
    // Spinel allows DEBUG from local connections by default (Redis: "no"); see COMPATIBILITY.md.
    enumeration("enable-debug-command", IMM, PROTECTED_ACTION, PROTECTED_ACTION_LOCAL, None),
    enumeration("enable-module-command", IMM, PROTECTED_ACTION, 0, None),
    enumeration("cluster-preferred-endpoint-type", MOD, CLUSTER_ENDPOINT_TYPE, 0, None),
    enumeration("propagation-error-behavior", MOD, PROPAGATION_ERROR_BEHAVIOR, 0, None),
    enumeration("shutdown-on-sigint", MULTI_ARG, SHUTDOWN_ON_SIG, 0, Some(valid_shutdown_on_sig)),
    enumeration("shutdown-on-sigterm", MULTI_ARG, SHUTDOWN_ON_SIG, 0, Some(valid_shutdown_on_sig)),
    // Integer configs
    num("databases", None, IMM, Int, 1, INT_MAX, 16, INTEGER),
    num("port", None, MOD, Int, 0, 65535, 6379, INTEGER),
    num("io-threads", None, DEBUG | IMM, Int, 1, 128, 1, INTEGER),
    num("auto-aof-rewrite-percentage", None, MOD, Int, 0, INT_MAX, 100, INTEGER),
    num("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), MOD, Int, 0, INT_MAX, 10, INTEGER),
    num("list-max-listpack-size", Some("list-max-ziplist-size"), MOD, Int, INT_MIN, INT_MAX, -2, INTEGER),
    num("tcp-keepalive", None, MOD, Int, 0, INT_MAX, 300, INTEGER),
    num("cluster-migration-barrier", None, MOD, Int, 0, INT_MAX, 1, INTEGER),
    num("active-defrag-cycle-min", None, MOD, Int, 1, 99, 1, INTEGER),
    num("active-defrag-cycle-max", None, MOD, Int, 1, 99, 25, INTEGER),
    num("active-defrag-threshold-lower", None, MOD, Int, 0, 1000, 10, INTEGER),
    num("active-defrag-threshold-upper", None, MOD, Int, 0, 1000, 100, INTEGER),
    num("lfu-log-factor", None, MOD, Int, 0, INT_MAX, 10, INTEGER),
    num("lfu-decay-time", None, MOD, Int, 0, INT_MAX, 1, INTEGER),
    num("replica-priority", Some("slave-priority"), MOD, Int, 0, INT_MAX, 100, INTEGER),
    num("repl-diskless-sync-delay", None, MOD, Int, 0, INT_MAX, 5, INTEGER),
    num("maxmemory-samples", None, MOD, Int, 1, INT_MAX, 5, INTEGER),
    num("maxmemory-eviction-tenacity", None, MOD, Int, 0, 100, 10, INTEGER),
    num("timeout", None, MOD, Int, 0, INT_MAX, 0, INTEGER),
    num("replica-announce-port", Some("slave-announce-port"), MOD, Int, 0, 65535, 0, INTEGER),
    num("tcp-backlog", None, IMM, Int, 0, INT_MAX, 511, INTEGER),
    num("cluster-port", None, IMM, Int, 0, 65535, 0, INTEGER),
    num("cluster-announce-bus-port", None, MOD, Int, 0, 65535, 0, INTEGER),
    num("cluster-announce-port", None, MOD, Int, 0, 65535, 0, INTEGER),
    num("cluster-announce-tls-port", None, MOD, Int, 0, 65535, 0, INTEGER),
    num("repl-timeout", None, MOD, Int, 1, INT_MAX, 60, INTEGER),
    num("repl-ping-replica-period", Some("repl-ping-slave-period"), MOD, Int, 1, INT_MAX, 10, INTEGER),
    num("list-compress-depth", None, DEBUG, Int, 0, INT_MAX, 0, INTEGER),
    num("rdb-key-save-delay", None, HIDDEN, Int, INT_MIN, INT_MAX, 0, INTEGER),
    num("key-load-delay", None, HIDDEN, Int, INT_MIN, INT_MAX, 0, INTEGER),
    num("active-expire-effort", None, MOD, Int, 1, 10, 1, INTEGER),
    num("hz", None, MOD, Int, 0, INT_MAX, 10, INTEGER),
    num("min-replicas-to-write", Some("min-slaves-to-write"), MOD, Int, 0, INT_MAX, 0, INTEGER),
    num("min-replicas-max-lag", Some("min-slaves-max-lag"), MOD, Int, 0, INT_MAX, 10, INTEGER),
    num("watchdog-period", None, HIDDEN, Int, 0, INT_MAX, 0, INTEGER),
    num("shutdown-timeout", None, MOD, Int, 0, INT_MAX, 10, INTEGER),
    num("repl-diskless-sync-max-replicas", None, MOD, Int, 0, INT_MAX, 0, INTEGER),
    // Unsigned int configs
    num("maxclients", None, MOD, UInt, 1, UINT_MAX, 10000, INTEGER),
    num("unixsocketperm", None, IMM, UInt, 0, 0o777, 0, OCTAL),
    num("socket-mark-id", None, IMM, UInt, 0, UINT_MAX, 0, INTEGER),
    // Unsigned long configs
    num("active-defrag-max-scan-fields", None, MOD, ULong, 1, LONG_MAX, 1000, INTEGER),
    num("slowlog-max-len", None, MOD, ULong, 0, LONG_MAX, 128, INTEGER),
    num("acllog-max-len", None, MOD, ULong, 0, LONG_MAX, 128, INTEGER),
    // Long long configs
    num("busy-reply-threshold", Some("lua-time-limit"), MOD, LongLong, 0, LONG_MAX, 5000, INTEGER),
    num("cluster-node-timeout", None, MOD, LongLong, 0, LLONG_MAX, 15000, INTEGER),
    num("slowlog-log-slower-than", None, MOD, LongLong, -1, LLONG_MAX, 10000, INTEGER),
    num("latency-monitor-threshold", None, MOD, LongLong, 0, LLONG_MAX, 0, INTEGER),
    num("proto-max-bulk-len", None, DEBUG, LongLong, 1024 * 1024, LONG_MAX, 512 * 1024 * 1024, MEMORY),
    num("stream-node-max-entries", None, MOD, LongLong, 0, LLONG_MAX, 100, INTEGER),
    num("repl-backlog-size", None, MOD, LongLong, 1, LLONG_MAX, 1024 * 1024, MEMORY),
    // Unsigned long long configs
    num("maxmemory", None, MOD, ULongLong, 0, ULLONG_MAX, 0, MEMORY),
    num("cluster-link-sendbuf-limit", None, MOD, ULongLong, 0, ULLONG_MAX, 0, MEMORY),
    // Size_t configs
    num("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), MOD, SizeT, 0, LONG_MAX, 512, INTEGER),
    num("set-max-intset-entries", None, MOD, SizeT, 0, LONG_MAX, 512, INTEGER),
    num("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), MOD, SizeT, 0, LONG_MAX, 128, INTEGER),
    num("active-defrag-ignore-bytes", None, MOD, SizeT, 1, LLONG_MAX, 100 << 20, MEMORY),
    num("hash-max-listpack-value", Some("hash-max-ziplist-value"), MOD, SizeT, 0, LONG_MAX, 64, MEMORY),
    num("stream-node-max-bytes", None, MOD, SizeT, 0, LONG_MAX, 4096, MEMORY),
    num("zset-max-listpack-value", Some("zset-max-ziplist-value"), MOD, SizeT, 0, LONG_MAX, 64, MEMORY),
    num("hll-sparse-max-bytes", None, MOD, SizeT, 0, LONG_MAX, 3000, MEMORY),
    num("tracking-table-max-keys", None, MOD, SizeT, 0, LONG_MAX, 1_000_000, INTEGER),
    num("client-query-buffer-limit", None, DEBUG, SizeT, 1024 * 1024, LONG_MAX, 1024 * 1024 * 1024, MEMORY),
    num("maxmemory-clients", None, MOD, SSizeT, -100, SSIZE_MAX, 0, MEMORY | PERCENT),
    // Other configs
    num("repl-backlog-ttl", None, MOD, TimeT, 0, LONG_MAX, 60 * 60, INTEGER),
    num("auto-aof-rewrite-min-size", None, MOD, OffT, 0, LLONG_MAX, 64 * 1024 * 1024, MEMORY),
    num("loading-process-events-interval-bytes", None, HIDDEN, OffT, 1024, INT_MAX, 1024 * 1024 * 2, INTEGER),
    // TLS configs (redis-server built with USE_OPENSSL, as Debian's is)
    num("tls-port", None, MOD, Int, 0, 65535, 0, INTEGER),
    num("tls-session-cache-size", None, MOD, Int, 0, INT_MAX, 20 * 1024, INTEGER),
    num("tls-session-cache-timeout", None, MOD, Int, 0, INT_MAX, 300, INTEGER),
    boolean("tls-cluster", None, MOD, false),
    boolean("tls-replication", None, MOD, false),
    enumeration("tls-auth-clients", MOD, TLS_AUTH_CLIENTS, 1, None),
    boolean("tls-prefer-server-ciphers", None, MOD, false),
    boolean("tls-session-caching", None, MOD, true),
    string("tls-cert-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-key-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-key-file-pass", None, MOD, EMPTY_IS_NULL, None, None),
    string("tls-client-cert-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-client-key-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-client-key-file-pass", None, MOD, EMPTY_IS_NULL, None, None),
    string("tls-dh-params-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-ca-cert-file", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-ca-cert-dir", None, VOLATILE, EMPTY_IS_NULL, None, None),
    string("tls-protocols", None, MOD, EMPTY_IS_NULL, None, None),
    string("tls-ciphers", None, MOD, EMPTY_IS_NULL, None, None),
    string("tls-ciphersuites", None, MOD, EMPTY_IS_NULL, None, None),
    // Spinel's own: the REST API (crates/http). Hidden, so `CONFIG GET *` answers exactly what
    // redis-server 7.0.15 does; `CONFIG GET http-port` (the exact name) still works. Token
    // lists are separated by spaces or commas; tokens can be rotated with CONFIG SET.
    num("http-port", None, IMM | HIDDEN, Int, 0, 65535, 8079, INTEGER),
    string("http-bind", None, IMM | HIDDEN, ALLOW_EMPTY, Some("127.0.0.1"), Some(valid_http_bind)),
    string("http-token", None, SENSITIVE | HIDDEN, EMPTY_IS_NULL, None, Some(valid_http_tokens)),
    string("http-readonly-token", None, SENSITIVE | HIDDEN, EMPTY_IS_NULL, None, Some(valid_http_tokens)),
    // Special configs
    special("dir", None, PROTECTED | DENY_LOADING, Special::Dir),
    special("save", None, MULTI_ARG, Special::Save),
    special("client-output-buffer-limit", None, MULTI_ARG, Special::ClientOutputBufferLimit),
    special("oom-score-adj-values", None, MULTI_ARG, Special::OomScoreAdjValues),
    special("notify-keyspace-events", None, MOD, Special::NotifyKeyspaceEvents),
    special("bind", None, MULTI_ARG, Special::Bind),
    special("replicaof", Some("slaveof"), IMM | MULTI_ARG, Special::ReplicaOf),
    special("latency-tracking-info-percentiles", None, MULTI_ARG, Special::LatencyPercentiles),
];

/// A name as registered in Redis's `configs` dict: the primary name or an alias.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Entry {
    pub index: usize,
    pub alias: bool,
}

impl Entry {
    pub fn directive(self) -> &'static Directive {
        &DIRECTIVES[self.index]
    }

    /// The name this entry is registered under (what Redis's `config->name` is for it).
    pub fn name(self) -> &'static str {
        let d = self.directive();
        if self.alias {
            d.alias.unwrap_or(d.name)
        } else {
            d.name
        }
    }
}

/// Name → entry. Looked up on every `Config` read (commands and the REST gateway read settings
/// per request), so with foldhash, as the command table.
type NameMap = std::collections::HashMap<&'static str, Entry, foldhash::fast::RandomState>;

fn names() -> &'static NameMap {
    static MAP: std::sync::OnceLock<NameMap> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = NameMap::with_capacity_and_hasher(DIRECTIVES.len() * 2, Default::default());
        for (index, d) in DIRECTIVES.iter().enumerate() {
            let fresh = m.insert(d.name, Entry { index, alias: false }).is_none();
            debug_assert!(fresh, "duplicate config {}", d.name);
            if let Some(alias) = d.alias {
                let fresh = m.insert(alias, Entry { index, alias: true }).is_none();
                debug_assert!(fresh, "duplicate config {alias}");
            }
        }
        m
    })
}

/// Looks a name up as Redis's `lookupConfig` does (case-insensitive, aliases included).
pub fn lookup(name: &[u8]) -> Option<Entry> {
    if name.len() > 64 {
        return None;
    }
    // Lowercased on the stack: no allocation per lookup.
    let mut buf = [0u8; 64];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).ok().and_then(|s| names().get(s).copied())
}

/// Every registered name (primaries and aliases) in table order: the iteration CONFIG GET
/// patterns and REWRITE go through.
pub fn registered() -> impl Iterator<Item = Entry> {
    DIRECTIVES.iter().enumerate().flat_map(|(index, d)| {
        std::iter::once(Entry { index, alias: false }).chain(d.alias.map(|_| Entry { index, alias: true }))
    })
}

/// The index of a canonical (or alias) name; panics on an unknown name (a programming error).
pub fn index_of(name: &str) -> usize {
    match lookup(name.as_bytes()) {
        Some(e) => e.index,
        None => panic!("no such config directive: {name}"),
    }
}
