//! How a command is declared: name, arity, flags, key positions, ACL categories, docs and the
//! handler. Each family file lists its [`CommandSpec`]s beside its handlers; the
//! [`super::table`] built from those lists is the only place commands are looked up.

use crate::ctx::Ctx;
use crate::error::CmdResult;

/// Runs a command. `args[0]` is the command name as the client sent it.
pub type Handler = fn(&mut Ctx, &[&[u8]]) -> CmdResult;

/// Finds keys for commands whose key positions the key specs cannot express completely
/// (SORT's STORE, for example). Returns argument indexes and key-spec flags.
pub type GetKeys = fn(&[&[u8]]) -> Vec<(usize, u64)>;

// Command flags (Redis's CMD_*), shown by COMMAND INFO.
pub const WRITE: u64 = 1 << 0;
pub const READONLY: u64 = 1 << 1;
pub const DENYOOM: u64 = 1 << 2;
pub const ADMIN: u64 = 1 << 4;
pub const PUBSUB: u64 = 1 << 5;
pub const NOSCRIPT: u64 = 1 << 6;
pub const BLOCKING: u64 = 1 << 8;
pub const LOADING: u64 = 1 << 9;
pub const STALE: u64 = 1 << 10;
pub const SKIP_MONITOR: u64 = 1 << 11;
pub const SKIP_SLOWLOG: u64 = 1 << 12;
pub const ASKING: u64 = 1 << 13;
pub const FAST: u64 = 1 << 14;
pub const NO_AUTH: u64 = 1 << 15;
pub const MAY_REPLICATE: u64 = 1 << 16;
pub const SENTINEL: u64 = 1 << 17;
pub const ONLY_SENTINEL: u64 = 1 << 18;
pub const NO_MANDATORY_KEYS: u64 = 1 << 19;
pub const PROTECTED: u64 = 1 << 20;
pub const NO_ASYNC_LOADING: u64 = 1 << 23;
pub const NO_MULTI: u64 = 1 << 24;
pub const MOVABLE_KEYS: u64 = 1 << 25;
pub const ALLOW_BUSY: u64 = 1 << 26;
pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 28;

/// Flag names in COMMAND INFO order (hidden flags omitted, as Redis hides them).
pub const FLAG_NAMES: &[(u64, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLE_KEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
];

// ACL categories (Redis's ACL_CATEGORY_*).
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

// Key-spec flags (Redis's CMD_KEY_*).
pub mod key {
    pub const RO: u64 = 1 << 0;
    pub const RW: u64 = 1 << 1;
    pub const OW: u64 = 1 << 2;
    pub const RM: u64 = 1 << 3;
    pub const ACCESS: u64 = 1 << 4;
    pub const UPDATE: u64 = 1 << 5;
    pub const INSERT: u64 = 1 << 6;
    pub const DELETE: u64 = 1 << 7;
    pub const NOT_KEY: u64 = 1 << 8;
    pub const INCOMPLETE: u64 = 1 << 9;
    pub const VARIABLE_FLAGS: u64 = 1 << 10;

    pub const NAMES: &[(u64, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where the search for keys starts.
#[derive(Clone, Copy, Debug)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After this keyword, searching from `startfrom` (negative: from the end).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    Unknown,
}

/// How keys are found from the starting point.
#[derive(Clone, Copy, Debug)]
pub enum FindKeys {
    /// `lastkey` relative to the start (-1 = last argument), every `keystep`; `limit` > 1
    /// means a fraction of the remaining arguments.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The count is at `keynumidx` (relative), keys start at `firstkey` (relative).
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    Unknown,
}

/// Redis 7 key specification.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub flags: u64,
    pub begin: BeginSearch,
    pub find: FindKeys,
    pub notes: Option<&'static str>,
}

impl KeySpec {
    /// Keys from `index` to `lastkey` (relative; -1 = end) every `step`.
    pub const fn range(index: i32, lastkey: i32, step: i32, flags: u64) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range { lastkey, keystep: step, limit: 0 },
            notes: None,
        }
    }

    /// One key at `index`.
    pub const fn one(index: i32, flags: u64) -> KeySpec {
        KeySpec::range(index, 0, 1, flags)
    }

    /// A key count at `index`, keys following it.
    pub const fn keynum(index: i32, flags: u64) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Keynum { keynumidx: 0, firstkey: 1, keystep: 1 },
            notes: None,
        }
    }

    pub const fn keyword(keyword: &'static str, startfrom: i32, find: FindKeys, flags: u64) -> KeySpec {
        KeySpec { flags, begin: BeginSearch::Keyword { keyword, startfrom }, find, notes: None }
    }

    pub const fn with_notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = Some(notes);
        self
    }
}

/// Command groups, as COMMAND DOCS names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    Hyperloglog,
    Cluster,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// A command (or subcommand) declaration.
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; for a subcommand, just the subcommand (`get` of `config|get`).
    pub name: &'static str,
    /// Redis arity: N exactly, or -N for at least N (the name counts).
    pub arity: i32,
    pub flags: u64,
    /// ACL categories beyond those implied by the flags.
    pub acl: u64,
    pub key_specs: &'static [KeySpec],
    /// None for a container whose subcommands do the work (CONFIG, CLIENT…).
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    pub getkeys: Option<GetKeys>,
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Argument syntax for COMMAND DOCS, in the notation of [`super::docs`].
    pub args: &'static str,
    pub tips: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub history: &'static [(&'static str, &'static str)],
    /// `syscmd` doc flag (internal commands).
    pub syscmd: bool,
}

impl CommandSpec {
    /// Defaults for struct-update syntax: `CommandSpec { name: "get", ..CommandSpec::DEFAULT }`.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: 0,
        acl: 0,
        key_specs: &[],
        handler: None,
        subcommands: &[],
        getkeys: None,
        group: Group::Generic,
        since: "1.0.0",
        summary: "",
        complexity: "",
        args: "",
        tips: &[],
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        syscmd: false,
    };
}
