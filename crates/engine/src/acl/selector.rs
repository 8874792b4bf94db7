//! A selector: one set of permissions (commands, key patterns, channel patterns). Every user
//! has a root selector and may have more (`(...)` rules); a command is allowed when one
//! selector allows all of it (Redis's aclSelector).
//!
//! Commands are a bitmap indexed by the command table's ids (subcommands have their own ids),
//! so a check is one bit test. `+@all` also allows "future" commands, which only changes how
//! the rules are described (`+@all ...` rather than `-@all ...`), as in Redis where a reserved
//! bit records it.

use std::sync::OnceLock;

use crate::cmd::spec::{acl as cat, key};
use crate::cmd::table::{commands, Command};
use crate::util::glob;

/// Key pattern permissions (Redis's ACL_READ_PERMISSION / ACL_WRITE_PERMISSION).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const READ_WRITE: u8 = READ | WRITE;

/// Why a rule was refused (Redis's errno values of ACLSetUser), with Redis's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    DuplicateUser,
    SubcommandFirstArg,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::DuplicateUser => "Duplicate user found. A user can only be defined once in config files",
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a command was denied (Redis's ACL_DENIED_*; the order matters when several selectors
/// fail: the highest reason is reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub perms: u8,
}

impl KeyPattern {
    /// `~pat`, `%R~pat` or `%W~pat`.
    pub fn describe(&self, out: &mut Vec<u8>) {
        match self.perms {
            READ => out.extend_from_slice(b"%R~"),
            WRITE => out.extend_from_slice(b"%W~"),
            _ => out.push(b'~'),
        }
        out.extend_from_slice(&self.pattern);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub root: bool,
    pub all_keys: bool,
    pub all_channels: bool,
    /// Every command bit is known to be set (cleared by any removal).
    pub all_commands: bool,
    /// `+@all`/`allcommands` was applied and no `-@all` since (Redis's reserved bit).
    future: bool,
    bits: Vec<u64>,
    /// Allowed first arguments of otherwise denied commands (`+select|0`), by command id.
    first_args: Vec<(usize, Vec<Vec<u8>>)>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

/// Top-level commands in name order: the order rules are described and categories listed.
pub fn ordered_commands() -> &'static [&'static Command] {
    static ORDER: OnceLock<Vec<&'static Command>> = OnceLock::new();
    ORDER.get_or_init(|| {
        let mut v: Vec<&'static Command> = commands().iter().collect();
        v.sort_by_key(|c| c.fullname);
        v
    })
}

fn words() -> usize {
    commands().len().div_ceil(64)
}

/// Redis's ACLGetCommandCategoryFlagByName (case-insensitive).
pub fn category_flag(name: &[u8]) -> Option<u64> {
    cat::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name)).map(|(bit, _)| *bit)
}

/// Redis's ACLStringHasSpaces: spaces and NULs are not allowed in names and patterns.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c.is_ascii_whitespace() || c == 0)
}

/// Redis's lookupCommandBySdsLogic on the original table: `name` or `container|sub`.
fn lookup(name: &[u8]) -> Option<&'static Command> {
    let table = commands();
    let mut parts = name.split(|&c| c == b'|');
    let base = table.get(parts.next()?)?;
    let Some(sub) = parts.next() else { return Some(base) };
    if parts.next().is_some() || base.subcommands.is_empty() {
        return None;
    }
    base.subcommand(sub)
}

impl Selector {
    /// An empty selector: no commands, no keys, channels as `acl-pubsub-default` says.
    pub fn new(root: bool, pubsub_all: bool) -> Selector {
        Selector {
            root,
            all_keys: false,
            all_channels: pubsub_all,
            all_commands: false,
            future: false,
            bits: vec![0; words()],
            first_args: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// Allows everything: what the default user starts with.
    pub fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    pub fn bit(&self, id: usize) -> bool {
        self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        let Some(w) = self.bits.get_mut(id / 64) else { return };
        if on {
            *w |= 1 << (id % 64);
        } else {
            *w &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    /// Redis's ACLChangeSelectorPerm: a command and all its subcommands.
    fn change_perm(&mut self, cmd: &Command, allow: bool) {
        self.set_bit(cmd.id, allow);
        self.first_args.retain(|(id, _)| *id != cmd.id);
        for sub in &cmd.subcommands {
            self.set_bit(sub.id, allow);
        }
    }

    fn set_category(&mut self, flag: u64, allow: bool) {
        for cmd in ordered_commands() {
            if cmd.acl & flag != 0 {
                self.change_perm(cmd, allow);
            }
            for sub in &cmd.subcommands {
                if sub.acl & flag != 0 {
                    self.change_perm(sub, allow);
                }
            }
        }
    }

    fn count_category(&self, flag: u64) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for cmd in ordered_commands() {
            for c in std::iter::once(*cmd).chain(cmd.subcommands.iter()) {
                if c.acl & flag != 0 {
                    if self.bit(c.id) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
            }
        }
        (on, off)
    }

    fn set_all_commands(&mut self, allow: bool) {
        let fill = if allow { u64::MAX } else { 0 };
        self.bits.iter_mut().for_each(|w| *w = fill);
        self.all_commands = allow;
        self.future = allow;
        self.first_args.clear();
    }

    fn add_first_arg(&mut self, id: usize, arg: &[u8]) {
        match self.first_args.iter_mut().find(|(i, _)| *i == id) {
            Some((_, list)) => {
                if !list.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                    list.push(arg.to_vec());
                }
            }
            None => self.first_args.push((id, vec![arg.to_vec()])),
        }
    }

    /// Redis's ACLSetSelector: applies one rule about commands, keys or channels.
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all_commands(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all_commands(false);
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            self.add_key_pattern(op)?;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.all_channels = false;
        } else if op.first() == Some(&b'+') && op.get(1) != Some(&b'@') {
            self.allow_command(&op[1..])?;
        } else if op.first() == Some(&b'-') && op.get(1) != Some(&b'@') {
            let cmd = lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(cmd, false);
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') {
            let flag = category_flag(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(flag, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAll);
        }
        let mut perms = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            while offset < op.len() {
                let c = op[offset];
                if c.eq_ignore_ascii_case(&b'R') && perms & READ == 0 {
                    perms |= READ;
                } else if c.eq_ignore_ascii_case(&b'W') && perms & WRITE == 0 {
                    perms |= WRITE;
                } else if c == b'~' {
                    offset += 1;
                    break;
                } else {
                    return Err(RuleError::Syntax);
                }
                offset += 1;
            }
            // Redis 7.0.15 accepts "%~pat" (no permission) and then cannot describe it.
            if perms == 0 {
                return Err(RuleError::Syntax);
            }
        } else {
            perms = READ_WRITE;
        }
        let pat = op.get(offset..).unwrap_or_default();
        if has_spaces(pat) {
            return Err(RuleError::Syntax);
        }
        match self.patterns.iter_mut().find(|p| p.pattern == pat) {
            Some(p) => p.perms |= perms,
            None => self.patterns.push(KeyPattern { pattern: pat.to_vec(), perms }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// `+cmd`, `+container|sub` or `+cmd|first-arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&c| c == b'|') else {
            let cmd = lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(cmd, true);
            return Ok(());
        };
        let (base, sub) = (&name[..bar], &name[bar + 1..]);
        let cmd = lookup(base).ok_or(RuleError::UnknownCommand)?;
        if base.contains(&b'|') {
            return Err(RuleError::SubcommandFirstArg);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !cmd.subcommands.is_empty() {
            let sub = lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(sub, true);
        } else {
            crate::log::warning(&format!(
                "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                String::from_utf8_lossy(name)
            ));
            self.add_first_arg(cmd.id, sub);
        }
        Ok(())
    }

    /// Whether the command itself (not its keys) is allowed (bitmap, then first arguments).
    pub fn command_allowed(&self, cmd: &Command, args: &[&[u8]]) -> bool {
        if self.all_commands || cmd.flags & crate::cmd::spec::NO_AUTH != 0 || self.bit(cmd.id) {
            return true;
        }
        let Some((_, allowed)) = self.first_args.iter().find(|(id, _)| *id == cmd.id) else { return false };
        let idx = if cmd.top_name() != cmd.fullname { 2 } else { 1 };
        args.get(idx).is_some_and(|a| allowed.iter().any(|f| f.eq_ignore_ascii_case(a)))
    }

    /// Redis's ACLSelectorCheckKey.
    pub fn key_allowed(&self, key: &[u8], spec_flags: u64) -> bool {
        if self.all_keys {
            return true;
        }
        let wanted = access_perms(spec_flags);
        self.patterns.iter().any(|p| p.perms & wanted == wanted && glob::matches(&p.pattern, key, false))
    }

    /// Redis's ACLSelectorHasUnrestrictedKeyAccess: `~*` (or `%R~*`… covering `spec_flags`).
    pub fn all_keys_allowed(&self, spec_flags: u64) -> bool {
        if self.all_keys {
            return true;
        }
        let wanted = access_perms(spec_flags);
        self.patterns.iter().any(|p| p.perms & wanted == wanted && p.pattern == b"*")
    }

    /// Redis's ACLCheckChannelAgainstList for this selector.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || channel_in_list(&self.channels, channel, is_pattern)
    }

    /// Key patterns as ACL GETUSER shows them.
    pub fn keys_description(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            p.describe(&mut out);
        }
        out
    }

    /// Channel patterns as ACL GETUSER shows them.
    pub fn channels_description(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// Redis's ACLDescribeSelector: keys, channels, then command rules.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for p in &self.patterns {
                p.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(self.describe_commands().as_bytes());
        out
    }

    /// Redis's ACLDescribeSelectorCommandRules: `+@all` or `-@all`, the categories that best
    /// approximate the bitmap, then single commands until the rules give exactly the bitmap.
    pub fn describe_commands(&self) -> String {
        let additive = !self.future;
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(false, false);
        fake.set_all_commands(!additive);
        let mut temp = Selector::new(false, false);
        temp.bits.clone_from(&self.bits);
        let mut applied = [false; cat::NAMES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, &(flag, _)) in cat::NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(flag);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (flag, name) = cat::NAMES[j];
            fake.set_category(flag, additive);
            temp.set_category(flag, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        for cmd in ordered_commands() {
            self.describe_single(&mut fake, &mut rules, cmd);
        }
        rules.pop();
        rules
    }

    fn describe_single(&self, fake: &mut Selector, rules: &mut String, cmd: &Command) {
        let userbit = self.bit(cmd.id);
        if userbit != fake.bit(cmd.id) {
            rules.push(if userbit { '+' } else { '-' });
            rules.push_str(cmd.fullname);
            rules.push(' ');
            fake.change_perm(cmd, userbit);
        }
        for sub in &cmd.subcommands {
            self.describe_single(fake, rules, sub);
        }
        if !userbit {
            if let Some((_, args)) = self.first_args.iter().find(|(id, _)| *id == cmd.id) {
                for a in args {
                    rules.push('+');
                    rules.push_str(cmd.fullname);
                    rules.push('|');
                    rules.push_str(&String::from_utf8_lossy(a));
                    rules.push(' ');
                }
            }
        }
    }
}

/// The pattern permissions a key access needs (from key-spec flags).
fn access_perms(spec_flags: u64) -> u8 {
    let mut perms = 0;
    if spec_flags & key::ACCESS != 0 {
        perms |= READ;
    }
    if spec_flags & (key::INSERT | key::DELETE | key::UPDATE) != 0 {
        perms |= WRITE;
    }
    perms
}

/// A channel against a list of allowed patterns: a plain channel is glob-matched, a pattern
/// (PSUBSCRIBE's argument) must equal one of them literally.
pub fn channel_in_list(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| if is_pattern { p == channel } else { glob::matches(p, channel, false) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(rules: &[&str]) -> Selector {
        let mut s = Selector::new(true, false);
        for r in rules {
            s.apply(r.as_bytes()).unwrap();
        }
        s
    }

    #[test]
    fn describes_like_redis() {
        assert_eq!(sel(&[]).describe_commands(), "-@all");
        assert_eq!(sel(&["+@all"]).describe_commands(), "+@all");
        assert_eq!(sel(&["+@scripting", "+set"]).describe_commands(), "-@all +@scripting +set");
        assert_eq!(sel(&["+@all", "-@dangerous", "+config|get"]).describe_commands(), "+@all -@dangerous +config|get");
        assert_eq!(sel(&["+select|0"]).describe_commands(), "-@all +select|0");
        assert_eq!(sel(&["-@all", "+@slow"]).describe_commands(), "-@all +@slow");
    }

    #[test]
    fn describe_round_trips() {
        let s = sel(&["+@all", "-@write", "+set", "-debug", "+client|id", "-client"]);
        let mut again = Selector::new(true, false);
        for r in s.describe_commands().split(' ') {
            again.apply(r.as_bytes()).unwrap();
        }
        assert_eq!(again.bits, s.bits);
    }

    #[test]
    fn rule_errors() {
        let mut s = Selector::new(true, false);
        assert_eq!(s.apply(b"+nosuch"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+@nosuch"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+config|get|x"), Err(RuleError::SubcommandFirstArg));
        assert_eq!(s.apply(b"+select|"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"bogus"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%X~a"), Err(RuleError::Syntax));
        s.apply(b"allkeys").unwrap();
        assert_eq!(s.apply(b"~a"), Err(RuleError::KeyAfterAll));
        s.apply(b"allchannels").unwrap();
        assert_eq!(s.apply(b"&a"), Err(RuleError::ChannelAfterAll));
    }

    #[test]
    fn key_permissions() {
        let s = sel(&["%R~read*", "%W~write*", "~both*"]);
        assert!(s.key_allowed(b"read1", key::RO | key::ACCESS));
        assert!(!s.key_allowed(b"read1", key::RW | key::UPDATE));
        assert!(s.key_allowed(b"write1", key::OW | key::UPDATE));
        assert!(!s.key_allowed(b"write1", key::RW | key::ACCESS | key::UPDATE));
        assert!(s.key_allowed(b"both1", key::RW | key::ACCESS | key::UPDATE));
        assert_eq!(s.keys_description(), b"%R~read* %W~write* ~both*");
    }
}
