//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT.

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, NO_AUTH, SENTINEL, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::server::Server;

const CONN: u64 = acl::CONNECTION;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: FAST | SENTINEL,
        acl: CONN,
        handler: Some(ping),
        group: Group::Connection,
        summary: "Ping the server",
        complexity: "O(1)",
        args: "[message]",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: LOADING | STALE | FAST,
        acl: CONN,
        handler: Some(echo),
        group: Group::Connection,
        summary: "Echo the given string",
        complexity: "O(1)",
        args: "message",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        acl: CONN,
        handler: Some(quit),
        group: Group::Connection,
        summary: "Close the connection",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        acl: CONN,
        handler: Some(reset),
        group: Group::Connection,
        since: "6.2.0",
        summary: "Reset the connection",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        acl: CONN,
        handler: Some(auth),
        group: Group::Connection,
        summary: "Authenticate to the server",
        complexity: "O(N) where N is the number of passwords defined for the user",
        args: "[username]{6.0.0} password",
        history: &[("6.0.0", "Added ACL style (username and password).")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        acl: CONN,
        handler: Some(hello),
        group: Group::Connection,
        since: "6.0.0",
        summary: "Handshake with Redis",
        complexity: "O(1)",
        args: "arguments=[protover:integer AUTH username_password=[username password] [SETNAME clientname]]",
        history: &[("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST,
        acl: CONN,
        handler: Some(select),
        group: Group::Connection,
        summary: "Change the selected database for the current connection",
        complexity: "O(1)",
        args: "index:integer",
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 2 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    let client = ctx.client();
    if client.has(flags::PUBSUB) && !client.resp3 {
        let payload = args.get(1).copied().unwrap_or(b"");
        return Ok(Reply::Array(vec![Reply::bulk(b"pong"), Reply::bulk(payload)]));
    }
    Ok(match args.get(1) {
        Some(m) => Reply::bulk(m),
        None => Reply::status("PONG"),
    })
}

fn echo(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::bulk(args[1]))
}

fn quit(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.client().set(flags::CLOSE_AFTER_REPLY, true);
    Ok(Reply::Ok)
}

/// Whether a new connection starts authenticated as the default user (Redis's
/// clientSetDefaultAuth: the default user is `nopass` and enabled).
pub fn default_user_nopass(srv: &Server) -> bool {
    !srv.acl.default_requires_auth()
}

/// Redis's clearClientConnectionState (RESET).
pub fn clear_connection_state(srv: &mut Server, slot: usize) {
    crate::tracking::disable(srv, slot);
    crate::cmd::txn::discard_transaction(srv, slot);
    crate::pubsub::unsubscribe_all(srv, slot);
    let nopass = default_user_nopass(srv);
    let client = &mut srv.clients[slot];
    client.db = 0;
    client.resp3 = false;
    client.authenticated = nopass;
    client.user = "default".into();
    client.name = None;
    client.reply_off = false;
    client.reply_skip_next = false;
    client.set(flags::PUBSUB | flags::READONLY | flags::MONITOR | flags::NO_EVICT, false);
}

fn reset(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    clear_connection_state(ctx.srv, ctx.slot);
    ctx.db = 0;
    Ok(Reply::status("RESET"))
}

fn wrongpass() -> Error {
    err("WRONGPASS invalid username-password pair or user is disabled.")
}

fn auth(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(Error::Syntax);
    }
    // Passwords never reach the slow log or MONITOR.
    crate::introspection::redact(ctx.srv, 1);
    if args.len() == 3 {
        crate::introspection::redact(ctx.srv, 2);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if ctx.srv.acl.default_nopass() {
            return Err(err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }
        (b"default", args[1])
    } else {
        (args[1], args[2])
    };
    if crate::acl::authenticate(ctx.srv, ctx.slot, user, pass, args[0]) {
        Ok(Reply::Ok)
    } else {
        Err(wrongpass())
    }
}

/// CLIENT SETNAME's validation: no spaces, newlines or other non-printable characters.
pub fn set_client_name(ctx: &mut Ctx, name: &[u8]) -> CmdResult<()> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(err("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    ctx.client().name = if name.is_empty() { None } else { Some(name.to_vec()) };
    Ok(())
}

fn hello(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut next = 1;
    let mut version = 0;
    if args.len() >= 2 {
        version = args::int_or(args[1], "ERR Protocol version is not an integer or out of range")?;
        next = 2;
        if !(2..=3).contains(&version) {
            return Err(err("NOPROTO unsupported protocol version"));
        }
    }
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args[j];
        if args::is(opt, "AUTH") && more >= 2 {
            crate::introspection::redact(ctx.srv, j + 1);
            crate::introspection::redact(ctx.srv, j + 2);
            if !crate::acl::authenticate(ctx.srv, ctx.slot, args[j + 1], args[j + 2], args[0]) {
                return Err(wrongpass());
            }
            j += 2;
        } else if args::is(opt, "SETNAME") && more >= 1 {
            set_client_name(ctx, args[j + 1])?;
            j += 1;
        } else {
            return Err(err(format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(opt))));
        }
        j += 1;
    }
    if crate::dispatch::auth_required(ctx.srv, ctx.slot) {
        return Err(err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if version != 0 {
        ctx.client().resp3 = version == 3;
    }
    let client = ctx.client_ref();
    let proto = if client.resp3 { 3 } else { 2 };
    Ok(Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(crate::REDIS_VERSION)),
        (Reply::bulk_str("proto"), Reply::Int(proto)),
        (Reply::bulk_str("id"), Reply::Int(client.id as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str("standalone")),
        (Reply::bulk_str("role"), Reply::bulk_str("master")),
        (Reply::bulk_str("modules"), Reply::Array(vec![])),
    ]))
}

fn select(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let id = args::int32(args[1], None)?;
    if id < 0 || id as usize >= ctx.srv.dbs.len() {
        return Err(Error::DbIndexOutOfRange);
    }
    ctx.db = id as usize;
    ctx.client().db = id as usize;
    Ok(Reply::Ok)
}
