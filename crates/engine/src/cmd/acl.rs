//! ACL and its subcommands: users (SETUSER, GETUSER, DELUSER, USERS, LIST, WHOAMI), categories
//! (CAT), passwords (GENPASS), the log (LOG), checks without running (DRYRUN), and the ACL
//! file (SAVE, LOAD). The ACL model itself lives in crate::acl.

use crate::acl::{self, selector::Selector};
use crate::cmd::args;
use crate::cmd::spec::{CommandSpec, Group, ADMIN, LOADING, NOSCRIPT, SENTINEL, STALE};
use crate::cmd::table::Found;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    handler: crate::cmd::spec::Handler,
    summary: &'static str,
    complexity: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        handler: Some(handler),
        group: Group::Server,
        since: "6.0.0",
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

const ADMIN_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL;
const USERS_N: &str = "O(N). Where N is the number of configured users.";

static SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "cat",
        -2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        acl_cat,
        "List the ACL categories or the commands inside a category",
        "O(1) since the categories and commands are a fixed set.",
        "[categoryname]",
    ),
    sub(
        "deluser",
        -3,
        ADMIN_FLAGS,
        acl_deluser,
        "Remove the specified ACL users and the associated rules",
        "O(1) amortized time considering the typical user.",
        "username...",
    ),
    CommandSpec {
        since: "7.0.0",
        ..sub(
            "dryrun",
            -4,
            ADMIN_FLAGS,
            acl_dryrun,
            "Returns whether the user can execute the given command without executing the command.",
            "O(1).",
            "username command [arg...]",
        )
    },
    sub(
        "genpass",
        -2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        acl_genpass,
        "Generate a pseudorandom secure password to use for ACL users",
        "O(1)",
        "[bits:integer]",
    ),
    CommandSpec {
        history: &[
            ("6.2.0", "Added Pub/Sub channel patterns."),
            (
                "7.0.0",
                "Added selectors and changed the format of key and channel patterns from a list to their rule representation.",
            ),
        ],
        ..sub(
            "getuser",
            3,
            ADMIN_FLAGS,
            acl_getuser,
            "Get the rules for a specific ACL user",
            "O(N). Where N is the number of password, command and pattern rules that the user has.",
            "username",
        )
    },
    sub(
        "help",
        2,
        LOADING | STALE | SENTINEL,
        acl_help,
        "Show helpful text about the different subcommands",
        "O(1)",
        "",
    ),
    sub("list", 2, ADMIN_FLAGS, acl_list, "List the current ACL rules in ACL config file format", USERS_N, ""),
    sub("load", 2, ADMIN_FLAGS, acl_load, "Reload the ACLs from the configured ACL file", USERS_N, ""),
    sub(
        "log",
        -2,
        ADMIN_FLAGS,
        acl_log,
        "List latest events denied because of ACLs in place",
        "O(N) with N being the number of entries shown.",
        "operation=[count:integer|reset=RESET]",
    ),
    sub("save", 2, ADMIN_FLAGS, acl_save, "Save the current ACL rules in the configured ACL file", USERS_N, ""),
    CommandSpec {
        history: &[("6.2.0", "Added Pub/Sub channel patterns."), ("7.0.0", "Added selectors and key based permissions.")],
        ..sub(
            "setuser",
            -3,
            ADMIN_FLAGS,
            acl_setuser,
            "Modify or create the rules for a specific ACL user",
            "O(N). Where N is the number of rules provided.",
            "username [rule...]",
        )
    },
    sub("users", 2, ADMIN_FLAGS, acl_users, "List the username of all the configured ACL rules", USERS_N, ""),
    sub(
        "whoami",
        2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        acl_whoami,
        "Return the name of the user associated to the current connection",
        "O(1)",
        "",
    ),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "acl",
    arity: -2,
    flags: SENTINEL,
    group: Group::Server,
    since: "6.0.0",
    summary: "A container for Access List Control commands ",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

fn acl_setuser(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    // Rules hold passwords: none of the arguments reach the slow log or MONITOR.
    for j in 2..args.len() {
        crate::introspection::redact(ctx.srv, j);
    }
    let name = args[2];
    if !acl::user::valid_username(name) {
        return Err(err("ERR Usernames can't contain spaces or null characters"));
    }
    acl::set_user(ctx.srv, name, &args[3..], ctx.slot).map_err(|e| err(format!("ERR {e}")))?;
    Ok(Reply::Ok)
}

fn acl_deluser(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args[2..].iter().any(|n| *n == b"default") {
        return Err(err("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in &args[2..] {
        if acl::delete_user(ctx.srv, name, ctx.slot) {
            deleted += 1;
        }
    }
    Ok(Reply::Int(deleted))
}

/// The commands/keys/channels fields of a selector (ACL GETUSER).
fn selector_fields(s: &Selector) -> Vec<(Reply, Reply)> {
    vec![
        (Reply::bulk_str("commands"), Reply::bulk_vec(s.describe_commands().into_bytes())),
        (Reply::bulk_str("keys"), Reply::bulk_vec(s.keys_description())),
        (Reply::bulk_str("channels"), Reply::bulk_vec(s.channels_description())),
    ]
}

fn acl_getuser(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(user) = ctx.srv.acl.user(args[2]) else { return Ok(Reply::Nil) };
    let mut fields = vec![
        (Reply::bulk_str("flags"), Reply::Set(user.flag_names().into_iter().map(Reply::bulk_str).collect())),
        (
            Reply::bulk_str("passwords"),
            Reply::Array(user.passwords.iter().map(|p| Reply::bulk(p.as_bytes())).collect()),
        ),
    ];
    fields.extend(selector_fields(user.root()));
    let selectors = user.selectors[1..].iter().map(|s| Reply::Map(selector_fields(s))).collect();
    fields.push((Reply::bulk_str("selectors"), Reply::Array(selectors)));
    Ok(Reply::Map(fields))
}

fn acl_users(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Array(ctx.srv.acl.users.keys().map(|n| Reply::bulk(n)).collect()))
}

fn acl_list(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Array(acl::config_lines(ctx.srv).into_iter().map(Reply::bulk_vec).collect()))
}

fn acl_whoami(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::bulk(ctx.client_ref().user.as_bytes()))
}

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn acl_load(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let Some(path) = acl::file::aclfile(ctx.srv) else { return Err(err(NO_ACLFILE)) };
    acl::file::load_file(ctx.srv, &path, ctx.slot).map_err(|e| err(format!("ERR {e}")))?;
    Ok(Reply::Ok)
}

fn acl_save(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let Some(path) = acl::file::aclfile(ctx.srv) else { return Err(err(NO_ACLFILE)) };
    acl::file::save_file(ctx.srv, &path).map_err(|_| {
        err("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
    })?;
    Ok(Reply::Ok)
}

fn acl_cat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let Some(&name) = args.get(2) else {
        return Ok(Reply::Array(crate::cmd::spec::acl::NAMES.iter().map(|(_, n)| Reply::bulk_str(n)).collect()));
    };
    let Some(flag) = acl::selector::category_flag(name) else {
        let shown = &name[..name.len().min(128)];
        return Err(err(format!("ERR Unknown category '{}'", String::from_utf8_lossy(shown))));
    };
    let _ = ctx;
    let mut out = Vec::new();
    for cmd in acl::selector::ordered_commands() {
        for c in std::iter::once(*cmd).chain(cmd.subcommands.iter()) {
            if c.acl & flag != 0 {
                out.push(Reply::bulk_str(c.fullname));
            }
        }
    }
    Ok(Reply::Array(out))
}

/// Hex digits from the system's random source (Redis's getRandomHexChars).
fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n.div_ceil(2)];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_ok();
    if !ok {
        let mut rng = crate::util::rand::Rng::seeded();
        bytes.iter_mut().for_each(|b| *b = rng.next_u64() as u8);
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[(b >> 4) as usize] as char, DIGITS[(b & 15) as usize] as char]).take(n).collect()
}

fn acl_genpass(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    const MAX_BITS: i64 = 4096;
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let bits = match args.get(2) {
        Some(a) => args::int(a)?,
        None => 256,
    };
    if bits <= 0 || bits > MAX_BITS {
        return Err(err(format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {MAX_BITS}"
        )));
    }
    Ok(Reply::bulk_vec(random_hex(((bits + 3) / 4) as usize).into_bytes()))
}

fn acl_log(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let mut count = 10;
    if let Some(&a) = args.get(2) {
        if args::is(a, "reset") {
            ctx.srv.acl.log.reset();
            return Ok(Reply::Ok);
        }
        count = args::int(a)?.max(0);
    }
    Ok(ctx.srv.acl.log.reply(count as usize, crate::util::time::now_ms()))
}

fn acl_dryrun(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(user) = ctx.srv.acl.user(args[2]) else {
        return Err(err(format!("ERR User '{}' not found", String::from_utf8_lossy(args[2]))));
    };
    let cmd_args = &args[3..];
    let cmd = match ctx.srv.commands.lookup(cmd_args) {
        Found::Command(c) => c,
        _ => return Err(err(format!("ERR Command '{}' not found", String::from_utf8_lossy(args[3])))),
    };
    if !cmd.arity_ok(cmd_args.len()) {
        return Err(err(format!("ERR wrong number of arguments for '{}' command", cmd.fullname)));
    }
    let text = match acl::check::check_user(user, cmd, cmd_args) {
        Ok(()) => return Ok(Reply::Ok),
        Err((acl::selector::Denied::Command, _)) | Err((acl::selector::Denied::Auth, _)) => {
            format!("This user has no permissions to run the '{}' command", cmd.fullname)
        }
        Err((acl::selector::Denied::Key, pos)) => format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(cmd_args.get(pos).copied().unwrap_or_default())
        ),
        Err((acl::selector::Denied::Channel, pos)) => format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(cmd_args.get(pos).copied().unwrap_or_default())
        ),
    };
    Ok(Reply::bulk_vec(text.into_bytes()))
}

fn acl_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    ))
}
