//! Redis 7.0.15's configuration, modelled faithfully: every directive of config.c's
//! `static_configs[]` table (names, aliases, defaults, bounds, flags, types), redis.conf parsing
//! (`include`, `rename-command`, `user`…), CONFIG GET / SET / REWRITE with Redis's exact
//! semantics and error texts, and redis-server's command-line-to-config translation.
//!
//! * [`table`]: the directive table.
//! * [`parse`]: C-compatible parsers and the validation functions.
//! * `value`: setting / reading one directive.
//! * `load`: config files and strings.
//! * `rewrite`: CONFIG REWRITE.
//! * `cmdline`: `redis-server` arguments.
//!
//! Applying a change (re-binding ports, resizing the backlog…) is the caller's business: after
//! [`Config::set`] returns the names it set, callers re-read the typed values. `Config` is
//! `Clone`, so a caller whose apply step fails can restore a copy taken before the set.

mod cmdline;
mod load;
pub mod parse;
mod rewrite;
pub mod table;
mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_files;

use std::path::{Path, PathBuf};

pub use cmdline::{command_line_to_config, parse_command_line, CommandLine};
pub use load::{ConfigError, LoadHooks, UserCheck};

use table::{Kind, DENY_LOADING, DIRECTIVES, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE};

/// The Redis version the configuration mimics (used in the fatal-error banner).
pub const REDIS_VERSION: &str = "7.0.15";

/// One client class's output buffer limits (`client-output-buffer-limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The stored value of a table directive (special directives live in dedicated fields).
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Bool(bool),
    /// Numeric configs, as the C field reads back into a `long long` (an unsigned long long
    /// above i64::MAX reads negative; percentages are stored negative).
    Num(i64),
    Enum(i32),
    /// None is NULL (EMPTY_STRING_IS_NULL configs set to "").
    Str(Option<Vec<u8>>),
    Special,
}

/// Who is issuing a CONFIG SET (for DENY_LOADING and PROTECTED configs).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetContext {
    /// The server is loading its dataset: DENY_LOADING configs are refused with -LOADING.
    pub loading: bool,
    /// The client is local (loopback or unix socket): `enable-protected-configs local` lets it
    /// set PROTECTED configs.
    pub local_client: bool,
}

/// The server configuration.
#[derive(Clone)]
pub struct Config {
    values: Vec<Value>,
    save: Vec<(i64, i64)>,
    obuf: [ObufLimit; 3],
    oom_values: [i32; 3],
    notify: u32,
    bind: Vec<String>,
    replicaof: Option<(String, u16)>,
    percentiles: Vec<f64>,
    config_file: Option<PathBuf>,
    renamed: Vec<(String, String)>,
    /// Command names created / removed by rename-command so far (lowercase), to check later
    /// renames against the command table as Redis does.
    cmd_added: Vec<String>,
    cmd_removed: Vec<String>,
    users: Vec<Vec<Vec<u8>>>,
    hooks: LoadHooks,
    /// Reading a config file (Redis's `reading_config_file`).
    reading_file: bool,
    /// A `save` line was read from a config file (Redis's static `save_loaded`).
    save_loaded: bool,
}

/// The default output buffer limits: normal, replica, pubsub.
pub const OBUF_DEFAULTS: [ObufLimit; 3] = [
    ObufLimit { hard: 0, soft: 0, soft_seconds: 0 },
    ObufLimit { hard: 256 << 20, soft: 64 << 20, soft_seconds: 60 },
    ObufLimit { hard: 32 << 20, soft: 8 << 20, soft_seconds: 60 },
];
/// The default `oom-score-adj-values`.
pub const OOM_DEFAULTS: [i32; 3] = [0, 200, 800];
/// The default `bind`.
pub const BIND_DEFAULTS: [&str; 2] = ["*", "-::*"];

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// Every directive at its default.
    pub fn new() -> Config {
        let values = DIRECTIVES
            .iter()
            .map(|d| match d.kind {
                Kind::Bool { default } => Value::Bool(default),
                Kind::Str { default, .. } => Value::Str(default.map(|s| s.as_bytes().to_vec())),
                Kind::Enum { default, .. } => Value::Enum(default),
                Kind::Num { ty, default, .. } => Value::Num(ty.store(default)),
                Kind::Special(_) => Value::Special,
            })
            .collect();
        Config {
            values,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            obuf: OBUF_DEFAULTS,
            oom_values: OOM_DEFAULTS,
            notify: 0,
            bind: BIND_DEFAULTS.iter().map(|s| s.to_string()).collect(),
            replicaof: None,
            percentiles: vec![50.0, 99.0, 99.9],
            config_file: None,
            renamed: Vec::new(),
            cmd_added: Vec::new(),
            cmd_removed: Vec::new(),
            users: Vec::new(),
            hooks: LoadHooks::default(),
            reading_file: false,
            save_loaded: false,
        }
    }

    /// CONFIG SET from a non-local client while not loading. See [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetContext::default())
    }

    /// CONFIG SET with several name/value pairs, all or nothing. Returns the canonical names of
    /// the directives set (in order); Err is Redis's error reply without the leading '-'.
    pub fn set_with(&mut self, pairs: &[(&[u8], &[u8])], ctx: SetContext) -> Result<Vec<&'static str>, String> {
        enum Failure {
            Unknown(Vec<u8>),
            Refused(Vec<u8>, &'static str),
            Loading,
        }
        let mut found: Vec<table::Entry> = Vec::with_capacity(pairs.len());
        let mut failure: Option<Failure> = None;
        for (name, _) in pairs {
            let Some(entry) = table::lookup(name) else {
                failure.get_or_insert_with(|| Failure::Unknown(name.to_vec()));
                continue;
            };
            if failure.is_some() {
                continue;
            }
            let flags = entry.directive().flags;
            if flags & IMMUTABLE != 0 {
                failure = Some(Failure::Refused(name.to_vec(), "can't set immutable config"));
            } else if flags & PROTECTED != 0 && !self.protected_allowed(ctx.local_client) {
                failure = Some(Failure::Refused(name.to_vec(), "can't set protected config"));
            } else if ctx.loading && flags & DENY_LOADING != 0 {
                failure = Some(Failure::Loading);
            } else if found.contains(&entry) {
                failure = Some(Failure::Refused(name.to_vec(), "duplicate parameter"));
            }
            found.push(entry);
        }
        match failure {
            Some(Failure::Loading) => return Err("LOADING Redis is loading the dataset in memory".into()),
            Some(Failure::Unknown(name)) => {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    parse::lossy(&name)
                ))
            }
            Some(Failure::Refused(name, why)) => {
                return Err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {why}",
                    parse::lossy(&name)
                ))
            }
            None => {}
        }

        let backup = self.clone();
        let old_dir = value::current_dir();
        let mut changed_dir = false;
        for (entry, (_, v)) in found.iter().zip(pairs) {
            let d = entry.directive();
            let argv = if d.flags & MULTI_ARG != 0 { parse::split_spaces(v) } else { vec![v.to_vec()] };
            if let Err(e) = self.set_directive(entry.index, &argv) {
                *self = backup;
                if changed_dir {
                    let _ = value::change_dir(&old_dir);
                }
                return Err(format!("ERR CONFIG SET failed (possibly related to argument '{}') - {e}", entry.name()));
            }
            changed_dir |= d.name == "dir";
        }
        self.clamp_hz();
        Ok(found.iter().map(|e| e.directive().name).collect())
    }

    fn protected_allowed(&self, local_client: bool) -> bool {
        let v = self.int("enable-protected-configs") as i32;
        v == table::PROTECTED_ACTION_YES || (v == table::PROTECTED_ACTION_LOCAL && local_client)
    }

    /// `hz` is a hint: out-of-range values are accepted but capped to 1..=500.
    fn clamp_hz(&mut self) {
        let idx = table::index_of("hz");
        if let Value::Num(v) = &mut self.values[idx] {
            *v = (*v).clamp(1, 500);
        }
    }

    /// CONFIG GET: every (name, value) matching one of the patterns. A pattern without glob
    /// characters is looked up exactly (hidden configs included) and answers under the name as
    /// asked; a glob matches every registered name (aliases included, hidden ones excluded),
    /// case-insensitively. No name appears twice.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        let seen = |out: &Vec<(String, Vec<u8>)>, name: &[u8]| {
            out.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        };
        for &pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
                if seen(&out, pattern) {
                    continue;
                }
                if let Some(entry) = table::lookup(pattern) {
                    out.push((parse::lossy(pattern), self.get_directive(entry.index)));
                }
                continue;
            }
            for entry in table::registered() {
                if entry.directive().flags & HIDDEN != 0 || seen(&out, entry.name().as_bytes()) {
                    continue;
                }
                if crate::util::glob::matches(pattern, entry.name().as_bytes(), true) {
                    out.push((entry.name().to_string(), self.get_directive(entry.index)));
                }
            }
        }
        out
    }

    /// The absolute path of the config file loaded with [`Config::load_file`], if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Sets the checks `rename-command` and `user` lines go through while loading.
    pub fn set_hooks(&mut self, hooks: LoadHooks) {
        self.hooks = hooks;
    }

    fn value(&self, name: &str) -> &Value {
        &self.values[table::index_of(name)]
    }

    /// A bool directive.
    pub fn bool(&self, name: &str) -> bool {
        match self.value(name) {
            Value::Bool(b) => *b,
            _ => panic!("config {name} is not a bool"),
        }
    }

    /// A numeric directive as Redis reads it into a long long (percentages negative; an
    /// unsigned long long above i64::MAX negative: see [`Config::uint`]), or an enum's value.
    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            Value::Num(v) => *v,
            Value::Enum(v) => *v as i64,
            _ => panic!("config {name} is not numeric"),
        }
    }

    /// A numeric directive's bits as unsigned (for maxmemory and other unsigned long longs).
    pub fn uint(&self, name: &str) -> u64 {
        self.int(name) as u64
    }

    /// An enum directive's name (for flag enums such as shutdown-on-sigint, the exact name or
    /// "unknown" when several flags are set: use [`Config::int`] there).
    pub fn enum_name(&self, name: &str) -> &'static str {
        let idx = table::index_of(name);
        match (&DIRECTIVES[idx].kind, &self.values[idx]) {
            (Kind::Enum { values, .. }, Value::Enum(v)) => {
                values.iter().find(|(_, val)| val == v).map_or("unknown", |(n, _)| *n)
            }
            _ => panic!("config {name} is not an enum"),
        }
    }

    /// A string directive; None when NULL, or (use [`Config::string_bytes`]) not UTF-8.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.string_bytes(name).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// A string directive's bytes; None when NULL.
    pub fn string_bytes(&self, name: &str) -> Option<&[u8]> {
        match self.value(name) {
            Value::Str(s) => s.as_deref(),
            _ => panic!("config {name} is not a string"),
        }
    }

    /// `save` points: (seconds, changes).
    pub fn save_points(&self) -> &[(i64, i64)] {
        &self.save
    }

    /// Output buffer limits: normal, replica, pubsub.
    pub fn output_buffer_limits(&self) -> [ObufLimit; 3] {
        self.obuf
    }

    /// `notify-keyspace-events` flags (crate::keyspace::notify bits).
    pub fn notify_flags(&self) -> u32 {
        self.notify
    }

    /// `bind` addresses (possibly none).
    pub fn bind_addrs(&self) -> &[String] {
        &self.bind
    }

    /// `oom-score-adj-values`: master, replica, background child.
    pub fn oom_score_adj_values(&self) -> [i32; 3] {
        self.oom_values
    }

    /// `latency-tracking-info-percentiles`.
    pub fn latency_percentiles(&self) -> &[f64] {
        &self.percentiles
    }

    /// `replicaof` host and port.
    pub fn replicaof(&self) -> Option<(&str, u16)> {
        self.replicaof.as_ref().map(|(h, p)| (h.as_str(), *p))
    }

    /// Records a master set at runtime (REPLICAOF / SLAVEOF commands), as CONFIG GET / REWRITE
    /// read Redis's `server.masterhost`; None for REPLICAOF NO ONE.
    pub fn set_replicaof(&mut self, master: Option<(&str, u16)>) {
        self.replicaof = master.map(|(h, p)| (h.to_string(), p));
    }

    /// `rename-command` pairs from the config, in order (an empty target removes the command).
    pub fn renamed_commands(&self) -> &[(String, String)] {
        &self.renamed
    }

    /// `user` lines from the config: each is the user name followed by its ACL rules.
    pub fn user_lines(&self) -> &[Vec<Vec<u8>>] {
        &self.users
    }

    /// Whether a config (by any of its names, case-insensitively) holds a secret to redact.
    pub fn is_sensitive(name: &str) -> bool {
        table::lookup(name.as_bytes()).is_some_and(|e| e.directive().flags & SENSITIVE != 0)
    }

    /// Whether `name` is a config directive (or alias).
    pub fn exists(name: &[u8]) -> bool {
        table::lookup(name).is_some()
    }

    /// The canonical name of a directive or alias.
    pub fn canonical_name(name: &[u8]) -> Option<&'static str> {
        table::lookup(name).map(|e| e.directive().name)
    }
}
