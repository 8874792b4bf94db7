//! The one way a command runs, whether it came over RESP, REST, EXEC or a script.
//!
//! [`process`] is Redis's processCommand: look the command up in the table, check arity,
//! authentication, the pub/sub context, MULTI queueing and the other gates, then [`call`] it.
//! [`call`] is Redis's call(): run the handler, time it, count it in commandstats and
//! errorstats. After a top-level command, [`after_command`] publishes keyspace events and
//! serves clients blocked on keys the command made ready.

use std::borrow::Cow;

use crate::client::{flags, Queued};
use crate::cmd::spec;
use crate::cmd::table::{Command, Found};
use crate::ctx::Ctx;
use crate::error::{err, Error};
use crate::reply::Reply;
use crate::server::Server;

/// Commands a RESP2 client in subscribed mode may still run.
const PUBSUB_ALLOWED: &[&str] =
    &["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"];

/// Commands that run immediately inside MULTI instead of being queued.
const MULTI_IMMEDIATE: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// Records a rejected command (Redis's rejectCommand): flags an open transaction, counts the
/// error against the command, and returns the error reply.
fn reject(srv: &mut Server, slot: usize, cmd: Option<&'static Command>, e: Error) -> Reply {
    let client = &mut srv.clients[slot];
    if client.has(flags::MULTI) {
        client.set(flags::DIRTY_EXEC, true);
    }
    if let Some(cmd) = cmd {
        srv.cmdstats[cmd.id].rejected_calls += 1;
        if cmd.spec.name == "exec" && srv.clients[slot].has(flags::MULTI) {
            crate::cmd::txn::discard_transaction(srv, slot);
            let m = e.message();
            let text = m.strip_prefix('-').unwrap_or(&m);
            let e = err(format!("EXECABORT Transaction discarded because of: {text}"));
            srv.count_error(e.code());
            return Reply::Error(e);
        }
    }
    srv.count_error(e.code());
    Reply::Error(e)
}

pub(crate) const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Redis's writeCommandsDeniedByDiskError, the RDB part: the last background save failed,
/// save points are configured and `stop-writes-on-bgsave-error` is on.
pub(crate) fn rdb_writes_denied(srv: &Server) -> bool {
    !srv.persistence.last_bgsave_ok
        && srv.config.bool("stop-writes-on-bgsave-error")
        && !srv.config.save_points().is_empty()
}

/// Redis's writeCommandsDeniedByDiskError with its message (writeCommandsGetDiskErrorMessage):
/// the RDB case above, or the AOF cannot be written.
pub(crate) fn writes_denied_by_disk_error(srv: &Server) -> Option<Cow<'static, str>> {
    if rdb_writes_denied(srv) {
        return Some(Cow::Borrowed(MISCONF));
    }
    crate::persist::aof::write_denied(srv).map(Cow::Owned)
}

/// The command's flags for this call: a script declares its own (a shebang, a function's
/// flags), as Redis's getCommandFlags does for EVAL and FCALL.
fn command_flags(srv: &Server, cmd: &Command, args: &[&[u8]]) -> u64 {
    if cmd.spec.group == spec::Group::Scripting {
        crate::script::command_flags(srv, cmd, args)
    } else {
        cmd.flags
    }
}

/// Whether the command has one of `flags`; an EXEC has it if a queued command does.
fn has_flag(srv: &Server, slot: usize, cmd: &Command, cmd_flags: u64, flags: u64) -> bool {
    if cmd_flags & flags != 0 {
        return true;
    }
    if cmd.top_name() == "exec" {
        if let Some(m) = &srv.clients[slot].multi {
            return m.queue.iter().any(|q| {
                let args: Vec<&[u8]> = q.args.iter().map(|a| a.as_slice()).collect();
                matches!(srv.commands.lookup(&args), Found::Command(c) if command_flags(srv, c, &args) & flags != 0)
            });
        }
    }
    false
}

/// Redis's is_denystale_command: the command lacks the `stale` flag, or it is an EXEC with a
/// queued command that does.
fn denied_when_stale(srv: &Server, slot: usize, cmd: &Command, cmd_flags: u64) -> bool {
    if cmd_flags & spec::STALE == 0 {
        return true;
    }
    cmd.top_name() == "exec"
        && srv.clients[slot].multi.iter().flat_map(|m| m.queue.iter()).any(|q| {
            let args: Vec<&[u8]> = q.args.iter().map(|a| a.as_slice()).collect();
            matches!(srv.commands.lookup(&args), Found::Command(c) if command_flags(srv, c, &args) & spec::STALE == 0)
        })
}

/// The command's flags, with those of the queued commands for EXEC.
fn effective_flags(srv: &Server, slot: usize, cmd: &Command) -> u64 {
    let mut all = cmd.flags;
    if cmd.top_name() == "exec" {
        for q in srv.clients[slot].multi.iter().flat_map(|m| m.queue.iter()) {
            let args: Vec<&[u8]> = q.args.iter().map(|a| a.as_slice()).collect();
            if let Found::Command(c) = srv.commands.lookup(&args) {
                all |= c.flags;
            }
        }
    }
    all
}

/// `enable-debug-command` (no / yes / local): whether this client may run DEBUG.
fn protected_allowed(srv: &Server, slot: usize) -> bool {
    match srv.config.enum_name("enable-debug-command") {
        "yes" => true,
        "local" => {
            let c = &srv.clients[slot];
            c.has(flags::UNIX_SOCKET)
                || c.has(flags::INTERNAL)
                || c.addr.starts_with("127.")
                || c.addr.starts_with("::1:")
        }
        _ => false,
    }
}

/// Whether the default user needs a password that this client has not given.
pub fn auth_required(srv: &Server, slot: usize) -> bool {
    srv.tunables.requirepass_set && !srv.clients[slot].authenticated
}

/// Runs one client request with every check of Redis's processCommand.
pub fn process(srv: &mut Server, slot: usize, args: &[&[u8]]) -> Reply {
    let outer = crate::introspection::enter_request(srv, slot);
    let reply = process_request(srv, slot, args);
    crate::introspection::leave_request(srv, outer);
    reply
}

fn process_request(srv: &mut Server, slot: usize, args: &[&[u8]]) -> Reply {
    let Some(&name) = args.first() else { return Reply::NoReply };
    let start = crate::util::time::mono_ns();
    // Redis fixes the time for the duration of a command (and of commands it calls).
    srv.fx.now_ms = srv.clock.ms_at(start);
    let cmd = match srv.commands.lookup(args) {
        Found::Command(cmd) => cmd,
        Found::UnknownSubcommand => {
            let e =
                Error::UnknownSubcommand { sub: args[1].to_vec(), command: String::from_utf8_lossy(name).into_owned() };
            return reject(srv, slot, None, e);
        }
        Found::Unknown => {
            let e = Error::UnknownCommand { name: name.to_vec(), args: args[1..].iter().map(|a| a.to_vec()).collect() };
            return reject(srv, slot, None, e);
        }
    };
    srv.clients[slot].last_cmd = cmd.fullname;
    if !cmd.arity_ok(args.len()) {
        return reject(srv, slot, Some(cmd), Error::WrongArity(cmd.fullname.to_string()));
    }
    if cmd.flags & spec::PROTECTED != 0 && !protected_allowed(srv, slot) {
        let e = err(format!(
            "ERR {} command not allowed. If the enable-{}-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
            cmd.top_name().to_uppercase(),
            cmd.top_name()
        ));
        return reject(srv, slot, Some(cmd), e);
    }
    if auth_required(srv, slot) && cmd.flags & spec::NO_AUTH == 0 {
        return reject(srv, slot, Some(cmd), Error::NoAuth);
    }
    let in_multi = srv.clients[slot].has(flags::MULTI);
    if in_multi && cmd.flags & spec::NO_MULTI != 0 {
        return reject(srv, slot, Some(cmd), err("ERR Command not allowed inside a transaction"));
    }
    if let Some(e) = crate::acl::check_command(srv, slot, cmd, args, in_multi) {
        return reject(srv, slot, Some(cmd), e);
    }
    let flags = command_flags(srv, cmd, args);
    if srv.evict.config.maxmemory != 0 {
        if let Some(e) = check_oom(srv, slot, cmd, flags, in_multi) {
            return reject(srv, slot, Some(cmd), e);
        }
    }
    crate::tracking::before_command(srv);
    let is_write = has_flag(srv, slot, cmd, flags, spec::WRITE);
    // Our master's commands are obeyed (Redis's mustObeyClient).
    let obey = crate::replication::replica::is_master_client(srv, slot);
    if (is_write || cmd.spec.name == "ping") && !obey {
        if let Some(e) = writes_denied_by_disk_error(srv) {
            return reject(srv, slot, Some(cmd), err(e));
        }
    }
    if is_write && srv.tunables.min_replicas_to_write > 0 && !crate::script::run::good_replicas(srv) {
        return reject(srv, slot, Some(cmd), err("NOREPLICAS Not enough good replicas to write."));
    }
    if is_write && !obey && srv.repl.master.is_some() && srv.config.bool("replica-read-only") {
        return reject(srv, slot, Some(cmd), err("READONLY You can't write against a read only replica."));
    }
    if srv.clients[slot].has(flags::PUBSUB) && !srv.clients[slot].resp3 && !PUBSUB_ALLOWED.contains(&cmd.top_name()) {
        let e = err(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.fullname
        ));
        return reject(srv, slot, Some(cmd), e);
    }
    if crate::replication::replica::link_down(srv)
        && !srv.config.bool("replica-serve-stale-data")
        && denied_when_stale(srv, slot, cmd, flags)
    {
        let e = err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
        return reject(srv, slot, Some(cmd), e);
    }
    if srv.loading && cmd.flags & spec::LOADING == 0 {
        return reject(srv, slot, Some(cmd), err("LOADING Redis is loading the dataset in memory"));
    }
    // Replicas and monitors (Redis flags both as replicas) may not touch the keyspace.
    if srv.clients[slot].has(flags::MONITOR | flags::REPLICA)
        && effective_flags(srv, slot, cmd) & (spec::READONLY | spec::WRITE | spec::MAY_REPLICATE) != 0
    {
        return reject(srv, slot, Some(cmd), err("ERR Replica can't interact with the keyspace"));
    }
    if !obey && must_wait_for_pause(srv, slot, cmd, flags) {
        let now = srv.fx.now_ms;
        let state = crate::client::BlockState {
            db: srv.clients[slot].db,
            keys: Vec::new(),
            deadline_ms: 0,
            args: args.iter().map(|a| a.to_vec()).collect(),
            extra: Vec::new(),
            timeout_reply: Reply::NoReply,
            kind: crate::client::BlockKind::Pause,
        };
        let _ = now;
        crate::blocking::block_client(srv, slot, state);
        return Reply::NoReply;
    }
    if in_multi && !MULTI_IMMEDIATE.contains(&cmd.top_name()) {
        let client = &mut srv.clients[slot];
        if !client.has(flags::DIRTY_EXEC) && !srv.fx.dirty_cas.contains(&client.id) {
            let multi = client.multi.get_or_insert_with(Default::default);
            multi.argv_bytes += args.iter().map(|a| a.len()).sum::<usize>();
            multi.queue.push(Queued { args: args.iter().map(|a| a.to_vec()).collect() });
        }
        return Reply::status("QUEUED");
    }
    let offset_before = srv.repl.offset;
    let reply = call_timed(srv, slot, cmd, args, false, start);
    crate::replication::flush_pending(srv, cmd.flags & spec::TOUCHES_ARBITRARY_KEYS == 0);
    if srv.repl.offset != offset_before {
        // WAIT waits for the replicas to reach this client's last write.
        if let Some(c) = srv.clients.get_mut(slot) {
            c.woff = srv.repl.offset;
        }
    }
    crate::replication::wait::send_getack(srv);
    after_command(srv);
    reply
}

/// The maxmemory gate of Redis's processCommand: evict what the policy allows, then refuse
/// deny-oom commands (a script's own flags decide for EVAL/FCALL; an EXEC is deny-oom if a
/// queued command is) and anything but EXEC/DISCARD/QUIT/RESET inside MULTI, whose queue would
/// grow without bound, if memory is still over the limit. Reads and deletions run.
fn check_oom(srv: &mut Server, slot: usize, cmd: &Command, flags: u64, in_multi: bool) -> Option<Error> {
    let out_of_memory = crate::evict::perform_evictions(srv) == crate::evict::Evict::Fail;
    // Evictions propagate as their own DELs, before the command's writes, and their
    // invalidations go out before its reply.
    crate::replication::flush_pending(srv, false);
    if !srv.fx.tracking_keys.is_empty() {
        crate::tracking::process_evicted(srv);
    }
    // Scripts judge their deny-oom calls by the state at their start (pre_command_oom_state).
    srv.evict.pre_command_oom = out_of_memory;
    let queues_in_oom = in_multi && !matches!(cmd.top_name(), "exec" | "discard" | "quit" | "reset");
    if out_of_memory && (queues_in_oom || has_flag(srv, slot, cmd, flags, spec::DENYOOM)) {
        return Some(err(crate::evict::OOM_ERROR));
    }
    None
}

/// Whether CLIENT PAUSE holds this command back: all commands under PAUSE ALL, commands
/// that may write (or an EXEC of such) under PAUSE WRITE.
fn must_wait_for_pause(srv: &mut Server, slot: usize, cmd: &Command, cmd_flags: u64) -> bool {
    if srv.pause.until_ms == 0 {
        return false;
    }
    if srv.pause.until_ms <= srv.fx.now_ms {
        crate::server::unpause(srv);
        return false;
    }
    if !srv.pause.writes_only {
        return true;
    }
    has_flag(srv, slot, cmd, cmd_flags, spec::WRITE | spec::MAY_REPLICATE)
}

/// Redis's call(): runs a validated command, timing it and updating command and error stats.
/// `nested` is true inside EXEC or a script (blocking commands then do not block).
pub fn call(srv: &mut Server, slot: usize, cmd: &'static Command, args: &[&[u8]], nested: bool) -> Reply {
    call_timed(srv, slot, cmd, args, nested, crate::util::time::mono_ns())
}

/// [`call`] with the command's start time already read.
fn call_timed(srv: &mut Server, slot: usize, cmd: &'static Command, args: &[&[u8]], nested: bool, start: u64) -> Reply {
    let Some(handler) = cmd.spec.handler else {
        return Reply::Error(Error::WrongArity(cmd.fullname.to_string()));
    };
    let frame = crate::introspection::before_call(srv, slot, nested);
    let db = srv.clients[slot].db;
    let dirty_before = srv.fx.dirty;
    let outer_rewrite = srv.fx.rewrite.take();
    let mut ctx = Ctx { srv, slot, db, cmd, nested };
    let reply = match handler(&mut ctx, args) {
        Ok(r) => r,
        Err(e) => Reply::Error(e),
    };
    let elapsed_ns = crate::util::time::mono_ns().saturating_sub(start);
    let srv = ctx.srv;
    let rewrite = std::mem::replace(&mut srv.fx.rewrite, outer_rewrite);
    if srv.fx.propagating && srv.fx.dirty > dirty_before && cmd.top_name() != "exec" {
        let db = srv.clients.get(slot).map_or(0, |c| c.db);
        match rewrite {
            Some(argv) if argv.is_empty() => {}
            Some(argv) => srv.fx.propagate.push((db, argv)),
            None => srv.fx.propagate.push((db, args.iter().map(|a| a.to_vec()).collect())),
        }
    }
    let stats = &mut srv.cmdstats[cmd.id];
    stats.calls += 1;
    stats.usec += elapsed_ns / 1000;
    if srv.latency_tracking && !srv.clients[slot].has(flags::BLOCKED) {
        // Redis measures whole microseconds and records them in ns.
        srv.latency[cmd.id].record(elapsed_ns / 1000 * 1000);
    }
    crate::introspection::after_call(srv, slot, cmd, args, std::time::Duration::from_nanos(elapsed_ns), nested, frame);
    let mut failed = false;
    let mut codes: Vec<String> = Vec::new();
    // EXEC's array holds replies its queued commands already counted.
    let counted_by_nested = cmd.top_name() == "exec" && matches!(reply, Reply::Array(_));
    if !counted_by_nested
        && !matches!(reply, Reply::Ok | Reply::Int(_) | Reply::Bulk(_) | Reply::Nil | Reply::Status(_))
    {
        reply.for_each_error(&mut |e| {
            failed = true;
            if !matches!(e, Error::Counted(_)) {
                codes.push(e.code());
            }
        });
    }
    if failed {
        srv.cmdstats[cmd.id].failed_calls += 1;
        for code in codes {
            srv.count_error(code);
        }
    }
    srv.stats.total_commands_processed += 1;
    srv.clients[slot].tot_cmds += 1;
    reply
}

/// Work done after each top-level command: keyspace events, blocked clients.
pub fn after_command(srv: &mut Server) {
    if !srv.fx.events.is_empty() {
        crate::pubsub::publish_keyspace_events(srv);
    }
    if !srv.fx.ready_keys.is_empty() {
        crate::blocking::serve_ready_keys(srv);
    }
}

/// Processes a request and appends its encoded reply to `out`, honouring CLIENT REPLY.
pub fn process_into(srv: &mut Server, slot: usize, args: &[&[u8]], out: &mut Vec<u8>) {
    let reply = process(srv, slot, args);
    let Some(client) = srv.clients.get_mut(slot) else { return };
    // Messages queued for this client during the command (its own PUBLISH, keyspace events)
    // come before the command's reply, as in Redis.
    if !client.outbox.is_empty() {
        out.append(&mut client.outbox);
    }
    // Subscription confirmations are pushes: they are sent even with replies turned off.
    if (!client.reply_off && !client.reply_skip) || crate::pubsub::is_push(&reply) {
        reply.encode(out, client.resp3);
    }
    client.reply_skip = false;
    if client.reply_skip_next {
        client.reply_skip = true;
        client.reply_skip_next = false;
    }
    crate::introspection::after_reply(srv, slot, args, out);
}

/// Runs a command on behalf of an internal caller (EXEC, a script, a blocked client being
/// served): lookup and arity are checked, nothing is queued.
pub fn call_internal(srv: &mut Server, slot: usize, args: &[&[u8]]) -> Reply {
    match srv.commands.lookup(args) {
        Found::Command(cmd) if cmd.arity_ok(args.len()) => call(srv, slot, cmd, args, true),
        Found::Command(cmd) => Reply::Error(Error::WrongArity(cmd.fullname.to_string())),
        _ => Reply::Error(err(Cow::Owned(format!(
            "ERR unknown command '{}'",
            String::from_utf8_lossy(args.first().copied().unwrap_or_default())
        )))),
    }
}
