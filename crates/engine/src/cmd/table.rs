//! The command table built from every family's specs: lookup (case-insensitive, with
//! subcommands), arity, the flags and key positions COMMAND reports.

use std::collections::HashMap;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::OnceLock;

use super::spec::{self, acl, BeginSearch, CommandSpec, FindKeys};

/// A command (or subcommand) ready for dispatch.
pub struct Command {
    pub spec: &'static CommandSpec,
    /// Index into the server's commandstats.
    pub id: usize,
    /// `get`, or `config|get` for a subcommand.
    pub fullname: &'static str,
    /// Flags with `movablekeys` derived from the key specs.
    pub flags: u64,
    /// ACL categories including those implied by the flags.
    pub acl: u64,
    /// COMMAND INFO's first key, last key, step (from the key specs, as Redis derives them).
    pub legacy: (i32, i32, i32),
    pub subcommands: Vec<Command>,
    sub_index: FastMap<Vec<u8>, usize>,
    parent: Option<&'static str>,
}

impl Command {
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.spec.arity;
        if a > 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// The top-level command name (`config` for `config|get`).
    pub fn top_name(&self) -> &'static str {
        self.parent.unwrap_or(self.spec.name)
    }

    pub fn subcommand(&self, name: &[u8]) -> Option<&Command> {
        self.sub_index.get(&name.to_ascii_lowercase()).map(|&i| &self.subcommands[i])
    }
}

/// What a lookup found.
pub enum Found {
    Command(&'static Command),
    /// The container exists but not this subcommand.
    UnknownSubcommand,
    Unknown,
}

pub struct CommandTable {
    by_name: FastMap<Vec<u8>, Command>,
    count: usize,
}

/// Redis's populateCommandLegacyRangeSpec, plus movablekeys. As for Redis's own commands,
/// movablekeys comes from the key specs alone: a getkeys function that only refines the
/// flags (SET's) leaves the keys where the specs say.
fn legacy_range(spec: &CommandSpec) -> ((i32, i32, i32), bool) {
    let specs = spec.key_specs;
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    let mut movable = false;
    if specs.len() == 1 {
        if let (BeginSearch::Index(pos), FindKeys::Range { lastkey, keystep, .. }) = (specs[0].begin, specs[0].find) {
            let last = if lastkey >= 0 { lastkey + pos } else { lastkey };
            movable |= specs[0].flags & spec::key::INCOMPLETE != 0;
            return ((pos, last, keystep), movable);
        }
    }
    let mut first = i32::MAX;
    let mut last: i32 = 0;
    let mut prev_last = 0;
    for ks in specs {
        let (BeginSearch::Index(pos), FindKeys::Range { lastkey, keystep, .. }) = (ks.begin, ks.find) else {
            movable = true;
            continue;
        };
        if keystep != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        if ks.flags & spec::key::INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(pos);
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Unsigned comparison, so a negative (relative-to-end) last key wins.
        last = if (abs as u32) > (last as u32) { abs } else { last };
        prev_last = last;
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first, last, 1), movable)
}

/// Redis's setImplicitACLCategories.
fn implicit_acl(flags: u64, explicit: u64) -> u64 {
    let mut cats = explicit;
    if flags & spec::WRITE != 0 {
        cats |= acl::WRITE;
    }
    if flags & spec::READONLY != 0 && cats & acl::SCRIPTING == 0 {
        cats |= acl::READ;
    }
    if flags & spec::ADMIN != 0 {
        cats |= acl::ADMIN | acl::DANGEROUS;
    }
    if flags & spec::PUBSUB != 0 {
        cats |= acl::PUBSUB;
    }
    if flags & spec::FAST != 0 {
        cats |= acl::FAST;
    }
    if flags & spec::BLOCKING != 0 {
        cats |= acl::BLOCKING;
    }
    if cats & acl::FAST == 0 {
        cats |= acl::SLOW;
    }
    cats
}

fn build(spec: &'static CommandSpec, parent: Option<&'static str>, next_id: &mut usize) -> Command {
    let fullname: &'static str = match parent {
        Some(p) => Box::leak(format!("{p}|{}", spec.name).into_boxed_str()),
        None => spec.name,
    };
    let (legacy, movable) = legacy_range(spec);
    let mut flags = spec.flags;
    if movable {
        flags |= spec::MOVABLE_KEYS;
    }
    let id = *next_id;
    *next_id += 1;
    let subcommands: Vec<Command> = spec.subcommands.iter().map(|s| build(s, Some(spec.name), next_id)).collect();
    let sub_index = subcommands.iter().enumerate().map(|(i, c)| (c.spec.name.as_bytes().to_vec(), i)).collect();
    Command {
        spec,
        id,
        fullname,
        flags,
        acl: implicit_acl(spec.flags, spec.acl),
        legacy,
        subcommands,
        sub_index,
        parent,
    }
}

impl CommandTable {
    pub fn new(families: &[&'static [CommandSpec]]) -> CommandTable {
        let mut by_name = FastMap::default();
        let mut next_id = 0;
        for family in families {
            for spec in family.iter() {
                let cmd = build(spec, None, &mut next_id);
                assert!(
                    by_name.insert(spec.name.as_bytes().to_vec(), cmd).is_none(),
                    "duplicate command {}",
                    spec.name
                );
            }
        }
        CommandTable { by_name, count: next_id }
    }

    /// Number of commands and subcommands (the size of commandstats).
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Top-level commands.
    pub fn iter(&self) -> impl Iterator<Item = &Command> {
        self.by_name.values()
    }

    /// Every command and subcommand.
    pub fn iter_all(&self) -> impl Iterator<Item = &Command> {
        self.by_name.values().flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
    }

    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 32];
        if name.len() <= buf.len() {
            let lower = &mut buf[..name.len()];
            lower.copy_from_slice(name);
            lower.make_ascii_lowercase();
            self.by_name.get(&lower[..])
        } else {
            self.by_name.get(&name.to_ascii_lowercase())
        }
    }

    /// Redis's lookupCommand: the command, or its subcommand when it has subcommands and
    /// more than one argument was given.
    pub fn lookup(&'static self, args: &[&[u8]]) -> Found {
        let Some(base) = args.first().and_then(|n| self.get(n)) else { return Found::Unknown };
        if args.len() == 1 || base.subcommands.is_empty() {
            return Found::Command(base);
        }
        match base.subcommand(args[1]) {
            Some(sub) => Found::Command(sub),
            None => Found::UnknownSubcommand,
        }
    }

    /// Lookup by `name` or `container|sub` (COMMAND INFO/DOCS arguments).
    pub fn lookup_fullname(&self, fullname: &[u8]) -> Option<&Command> {
        let mut parts = fullname.splitn(3, |&c| c == b'|');
        let base = self.get(parts.next()?)?;
        match parts.next() {
            None => Some(base),
            Some(sub) if parts.next().is_none() => base.subcommand(sub),
            _ => None,
        }
    }
}

/// The process-wide command table.
pub fn commands() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(|| CommandTable::new(super::FAMILIES))
}
