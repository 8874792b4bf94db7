//! COMMAND and its subcommands: introspection of the command table.

use crate::cmd::args;
use crate::cmd::docs;
use crate::cmd::spec::{self, acl, BeginSearch, CommandSpec, FindKeys, Group, LOADING, STALE};
use crate::cmd::table::Command;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::util::glob;

const CONN: u64 = acl::CONNECTION;

const fn sub(
    name: &'static str,
    arity: i32,
    handler: crate::cmd::spec::Handler,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: LOADING | STALE,
        acl: CONN,
        handler: Some(handler),
        group: Group::Server,
        since,
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

static SUBCOMMANDS: &[CommandSpec] = &[
    sub("count", 2, command_count, "2.8.13", "Returns a count of commands.", "O(1)", ""),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..sub(
            "list",
            -2,
            command_list,
            "7.0.0",
            "Returns a list of command names.",
            "O(N) where N is the total number of Redis commands",
            "[FILTERBY filterby=(MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]",
        )
    },
    CommandSpec {
        history: &[("7.0.0", "Allowed to be called with no argument to get info on all commands.")],
        tips: &["nondeterministic_output_order"],
        ..sub(
            "info",
            -2,
            command_info,
            "2.8.13",
            "Returns information about one, multiple or all commands.",
            "O(N) where N is the number of commands to look up",
            "[command-name...]",
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..sub(
            "docs",
            -2,
            command_docs,
            "7.0.0",
            "Returns documentary information about one, multiple or all commands.",
            "O(N) where N is the number of commands to look up",
            "[command-name...]",
        )
    },
    sub(
        "getkeys",
        -3,
        command_getkeys,
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
        "command arg...",
    ),
    sub(
        "getkeysandflags",
        -3,
        command_getkeysandflags,
        "7.0.0",
        "Extracts the key names and access flags for an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
        "command arg...",
    ),
    sub("help", 2, command_help, "5.0.0", "Returns helpful text about the different subcommands.", "O(1)", ""),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: LOADING | STALE,
    acl: CONN,
    handler: Some(command_all),
    group: Group::Server,
    since: "2.8.13",
    summary: "Returns detailed information about all commands.",
    complexity: "O(N) where N is the total number of Redis commands",
    subcommands: SUBCOMMANDS,
    tips: &["nondeterministic_output_order"],
    ..CommandSpec::DEFAULT
}];

fn flag_set(bits: u64, names: &[(u64, &'static str)]) -> Reply {
    Reply::Set(names.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| Reply::status(n)).collect())
}

fn key_specs_reply(specs: &[spec::KeySpec]) -> Reply {
    let b = Reply::bulk_str;
    Reply::Set(
        specs
            .iter()
            .map(|ks| {
                let mut m = Vec::new();
                if let Some(n) = ks.notes {
                    m.push((b("notes"), b(n)));
                }
                m.push((b("flags"), flag_set(ks.flags, spec::key::NAMES)));
                let begin = match ks.begin {
                    BeginSearch::Index(i) => Reply::Map(vec![
                        (b("type"), b("index")),
                        (b("spec"), Reply::Map(vec![(b("index"), Reply::Int(i as i64))])),
                    ]),
                    BeginSearch::Keyword { keyword, startfrom } => Reply::Map(vec![
                        (b("type"), b("keyword")),
                        (
                            b("spec"),
                            Reply::Map(vec![
                                (b("keyword"), b(keyword)),
                                (b("startfrom"), Reply::Int(startfrom as i64)),
                            ]),
                        ),
                    ]),
                    BeginSearch::Unknown => {
                        Reply::Map(vec![(b("type"), b("unknown")), (b("spec"), Reply::Map(vec![]))])
                    }
                };
                m.push((b("begin_search"), begin));
                let find = match ks.find {
                    FindKeys::Range { lastkey, keystep, limit } => Reply::Map(vec![
                        (b("type"), b("range")),
                        (
                            b("spec"),
                            Reply::Map(vec![
                                (b("lastkey"), Reply::Int(lastkey as i64)),
                                (b("keystep"), Reply::Int(keystep as i64)),
                                (b("limit"), Reply::Int(limit as i64)),
                            ]),
                        ),
                    ]),
                    FindKeys::Keynum { keynumidx, firstkey, keystep } => Reply::Map(vec![
                        (b("type"), b("keynum")),
                        (
                            b("spec"),
                            Reply::Map(vec![
                                (b("keynumidx"), Reply::Int(keynumidx as i64)),
                                (b("firstkey"), Reply::Int(firstkey as i64)),
                                (b("keystep"), Reply::Int(keystep as i64)),
                            ]),
                        ),
                    ]),
                    FindKeys::Unknown => Reply::Map(vec![(b("type"), b("unknown")), (b("spec"), Reply::Map(vec![]))]),
                };
                m.push((b("find_keys"), find));
                Reply::Map(m)
            })
            .collect(),
    )
}

/// One command's COMMAND INFO entry (Redis's addReplyCommandInfo).
pub fn info_reply(cmd: &Command) -> Reply {
    let (first, last, step) = cmd.legacy;
    Reply::Array(vec![
        Reply::bulk_str(cmd.fullname),
        Reply::Int(cmd.spec.arity as i64),
        flag_set(cmd.flags, spec::FLAG_NAMES),
        Reply::Int(first as i64),
        Reply::Int(last as i64),
        Reply::Int(step as i64),
        Reply::Set(
            acl::NAMES
                .iter()
                .filter(|(b, _)| cmd.acl & b != 0)
                .map(|(_, n)| Reply::status_owned(format!("@{n}")))
                .collect(),
        ),
        Reply::Set(cmd.spec.tips.iter().map(|t| Reply::bulk_str(t)).collect()),
        key_specs_reply(cmd.spec.key_specs),
        // Redis answers an empty set when there are no subcommands, an array otherwise.
        if cmd.subcommands.is_empty() {
            Reply::Set(vec![])
        } else {
            Reply::Array(cmd.subcommands.iter().map(info_reply).collect())
        },
    ])
}

/// One command's COMMAND DOCS entry (Redis's addReplyCommandDocs).
pub fn docs_reply(cmd: &Command) -> Reply {
    let b = Reply::bulk_str;
    let s = cmd.spec;
    let mut m = Vec::new();
    if !s.summary.is_empty() {
        m.push((b("summary"), b(s.summary)));
    }
    m.push((b("since"), b(s.since)));
    m.push((b("group"), b(s.group.name())));
    if !s.complexity.is_empty() {
        m.push((b("complexity"), b(s.complexity)));
    }
    let mut doc_flags = Vec::new();
    if s.deprecated_since.is_some() {
        doc_flags.push(Reply::status("deprecated"));
    }
    if s.syscmd {
        doc_flags.push(Reply::status("syscmd"));
    }
    if !doc_flags.is_empty() {
        m.push((b("doc_flags"), Reply::Set(doc_flags)));
    }
    if let Some(d) = s.deprecated_since {
        m.push((b("deprecated_since"), b(d)));
    }
    if let Some(r) = s.replaced_by {
        m.push((b("replaced_by"), b(r)));
    }
    if !s.history.is_empty() {
        m.push((b("history"), Reply::Set(s.history.iter().map(|(v, c)| Reply::Array(vec![b(v), b(c)])).collect())));
    }
    if !s.args.is_empty() {
        // The syntax is checked by a unit test over the whole table, so this cannot fail at
        // run time; an empty list is the safe answer if it ever did.
        let parsed = docs::parse(s.args).unwrap_or_default();
        m.push((b("arguments"), docs::reply(&parsed)));
    }
    if !cmd.subcommands.is_empty() {
        m.push((
            b("subcommands"),
            Reply::Map(cmd.subcommands.iter().map(|c| (b(c.fullname), docs_reply(c))).collect()),
        ));
    }
    Reply::Map(m)
}

fn command_all(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Array(ctx.srv.commands.iter().map(info_reply).collect()))
}

fn command_count(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.srv.commands.iter().count() as i64))
}

fn command_list(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let table = ctx.srv.commands;
    let mut filter: Option<(&str, &[u8])> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args::is(args[i], "filterby") && more == 2 {
            let kind = if args::is(args[i + 1], "module") {
                "module"
            } else if args::is(args[i + 1], "aclcat") {
                "aclcat"
            } else if args::is(args[i + 1], "pattern") {
                "pattern"
            } else {
                return Err(Error::Syntax);
            };
            filter = Some((kind, args[i + 2]));
            i += 3;
        } else {
            return Err(Error::Syntax);
        }
    }
    let names = table.iter_all().filter(|c| match filter {
        None => true,
        Some(("module", _)) => false,
        Some(("aclcat", cat)) => {
            acl::NAMES.iter().any(|(bit, n)| n.as_bytes().eq_ignore_ascii_case(cat) && c.acl & bit != 0)
        }
        Some((_, pattern)) => glob::matches(pattern, c.fullname.as_bytes(), true),
    });
    Ok(Reply::Array(names.map(|c| Reply::bulk_str(c.fullname)).collect()))
}

fn command_info(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let table = ctx.srv.commands;
    if args.len() == 2 {
        return Ok(Reply::Array(table.iter().map(info_reply).collect()));
    }
    Ok(Reply::Array(
        args[2..].iter().map(|name| table.lookup_fullname(name).map(info_reply).unwrap_or(Reply::Nil)).collect(),
    ))
}

fn command_docs(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let table = ctx.srv.commands;
    let cmds: Vec<&Command> = if args.len() == 2 {
        table.iter().collect()
    } else {
        args[2..].iter().filter_map(|n| table.lookup_fullname(n)).collect()
    };
    Ok(Reply::Map(cmds.into_iter().map(|c| (Reply::bulk_str(c.fullname), docs_reply(c))).collect()))
}

/// Redis's getKeysUsingKeySpecs: (argument index, key-spec flags) of every key, or None if a
/// spec does not fit the arguments.
pub fn keys_from_specs(cmd: &Command, args: &[&[u8]]) -> Option<Vec<(usize, u64)>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for ks in cmd.spec.key_specs {
        if ks.flags & spec::key::NOT_KEY != 0 {
            continue;
        }
        let first: i64 = match ks.begin {
            BeginSearch::Index(i) => i as i64,
            BeginSearch::Keyword { keyword, startfrom } => {
                let start = if startfrom > 0 { startfrom as i64 } else { argc + startfrom as i64 };
                let end = if startfrom > 0 { argc - 1 } else { 1 };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match ks.find {
            FindKeys::Range { lastkey, keystep, limit } => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, keystep as i64)
            }
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                if keynumidx as i64 >= argc {
                    return None;
                }
                let idx = (first + keynumidx as i64) as usize;
                let n = args.get(idx).and_then(|a| spinel_resp::parse_i64(a)).filter(|&n| n >= 0)?;
                let first = first + firstkey as i64;
                (first, first + n - 1, keystep as i64)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, ks.flags));
            i += step.max(1);
        }
        if ks.flags & spec::key::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// Keys of a full command line (Redis's getKeysFromCommandWithSpecs).
pub fn command_keys(cmd: &Command, args: &[&[u8]]) -> Option<Vec<(usize, u64)>> {
    let has_real_spec = cmd.spec.key_specs.iter().any(|k| k.flags & spec::key::NOT_KEY == 0);
    let variable = cmd.spec.key_specs.iter().any(|k| k.flags & spec::key::VARIABLE_FLAGS != 0);
    if has_real_spec && !variable {
        if let Some(keys) = keys_from_specs(cmd, args) {
            return Some(keys);
        }
    }
    match cmd.spec.getkeys {
        Some(f) => Some(f(args)),
        None if has_real_spec && variable => keys_from_specs(cmd, args),
        None => Some(Vec::new()).filter(|_| !has_real_spec),
    }
}

fn getkeys_generic(ctx: &mut Ctx, args: &[&[u8]], with_flags: bool) -> CmdResult {
    let full = &args[2..];
    let cmd = match ctx.srv.commands.lookup(full) {
        crate::cmd::table::Found::Command(c) => c,
        _ => return Err(err("ERR Invalid command specified")),
    };
    let has_keys = cmd.spec.getkeys.is_some() || cmd.spec.key_specs.iter().any(|k| k.flags & spec::key::NOT_KEY == 0);
    if !has_keys {
        return Err(err("ERR The command has no key arguments"));
    }
    if !cmd.arity_ok(full.len()) {
        return Err(err("ERR Invalid number of arguments specified for command"));
    }
    match command_keys(cmd, full).filter(|k| !k.is_empty() || cmd.flags & spec::NO_MANDATORY_KEYS != 0) {
        None => Err(err("ERR Invalid arguments specified for command")),
        Some(keys) => Ok(Reply::Array(
            keys.into_iter()
                .map(|(pos, flags)| {
                    if with_flags {
                        Reply::Array(vec![Reply::bulk(full[pos]), flag_set(flags, spec::key::NAMES)])
                    } else {
                        Reply::bulk(full[pos])
                    }
                })
                .collect(),
        )),
    }
}

fn command_getkeys(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    getkeys_generic(ctx, args, false)
}

fn command_getkeysandflags(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    getkeys_generic(ctx, args, true)
}

fn command_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use crate::cmd::table::commands;

    /// Every spec's argument syntax parses, and every command has a handler or subcommands.
    #[test]
    fn every_spec_is_complete() {
        for cmd in commands().iter_all() {
            if !cmd.spec.args.is_empty() {
                if let Err(e) = super::docs::parse(cmd.spec.args) {
                    panic!("{}: bad args syntax: {e}", cmd.fullname);
                }
            }
            assert!(cmd.spec.handler.is_some() || !cmd.subcommands.is_empty(), "{} has no handler", cmd.fullname);
            assert!(!cmd.spec.summary.is_empty(), "{} has no summary", cmd.fullname);
        }
    }
}
