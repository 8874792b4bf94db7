//! Running a script: Redis's scriptPrepareForRun (what a script's flags allow right now),
//! scriptCall (the checks on each command a script runs), luaCallFunction (the protected
//! call with the error handler and the timeout hook) and scriptResetRun.

use std::ffi::c_int;
use std::sync::Arc;
use std::time::Instant;

use super::busy::ScriptWatch;
use super::convert::{pop_reply, push_error_table, script_error, ErrorInfo};
use super::lua::{self, ffi, State};
use super::sandbox;
use super::Vm;
use crate::client::flags as cflags;
use crate::cmd::spec;
use crate::cmd::table::Found;
use crate::ctx::Ctx;
use crate::error::{err, Error};
use crate::reply::Reply;
use crate::server::Server;

// Script flags (Redis's SCRIPT_FLAG_*), from a shebang or redis.register_function.
pub const NO_WRITES: u64 = 1 << 0;
pub const ALLOW_OOM: u64 = 1 << 1;
pub const ALLOW_STALE: u64 = 1 << 2;
pub const NO_CLUSTER: u64 = 1 << 3;
/// An EVAL script without a shebang: Redis 6 behaviour (command flags decide).
pub const EVAL_COMPAT_MODE: u64 = 1 << 4;
pub const ALLOW_CROSS_SLOT: u64 = 1 << 5;

/// Flag names, in the order FUNCTION LIST shows them.
pub const FLAG_NAMES: &[(u64, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];

/// How many VM instructions run between two checks of the time limit and SCRIPT KILL.
const HOOK_COUNT: c_int = 100_000;

pub const KILLED_ERROR: &[u8] = b"Script killed by user with SCRIPT KILL...";

/// Redis's scriptFlagsToCmdFlags: a script that declared flags is a write command unless it
/// says no-writes, deny-oom unless allow-oom, stale-allowed if allow-stale.
pub fn flags_to_cmd_flags(mut cmd_flags: u64, script_flags: u64) -> u64 {
    cmd_flags &= !(spec::STALE | spec::DENYOOM | spec::WRITE);
    if script_flags & (ALLOW_OOM | NO_WRITES) == 0 {
        cmd_flags |= spec::DENYOOM;
    }
    if script_flags & NO_WRITES == 0 {
        cmd_flags |= spec::WRITE;
    }
    if script_flags & ALLOW_STALE != 0 {
        cmd_flags |= spec::STALE;
    }
    cmd_flags & !spec::MAY_REPLICATE
}

/// Redis's pre_command_oom_state: memory was over `maxmemory` with nothing left to evict when
/// the command running the script started (the dispatcher's eviction check records it).
pub fn over_maxmemory(srv: &Server) -> bool {
    srv.evict.config.maxmemory != 0 && srv.evict.pre_command_oom
}

/// Redis's checkGoodReplicasStatus.
pub fn good_replicas(srv: &Server) -> bool {
    crate::replication::info::enough_good_replicas(srv)
}

const MISCONF_SCRIPT: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.";

/// scriptPrepareForRun's refusals for a script with `flags`, run by `*_ro` if `ro`.
pub fn check_prepare(srv: &Server, flags: u64, ro: bool) -> Result<(), Error> {
    if flags & EVAL_COMPAT_MODE != 0 {
        return Ok(());
    }
    if flags & NO_WRITES == 0 {
        if crate::dispatch::rdb_writes_denied(srv) {
            return Err(err(MISCONF_SCRIPT));
        }
        if crate::persist::aof::write_denied(srv).is_some() {
            return Err(err(format!(
                "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {}",
                crate::config::parse::strerror(srv.aof.error_errno())
            )));
        }
        if ro {
            return Err(err("ERR Can not execute a script with write flag using *_ro command."));
        }
        if !good_replicas(srv) {
            return Err(err("NOREPLICAS Not enough good replicas to write."));
        }
    }
    if flags & (ALLOW_OOM | NO_WRITES) == 0 && over_maxmemory(srv) {
        return Err(err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"));
    }
    Ok(())
}

/// Redis's scriptRunCtx: one script invocation.
pub struct RunCtx<'a> {
    srv: *mut Server,
    /// The script's own client (its database, its protocol).
    client: usize,
    /// The client that called the script: its user's permissions apply (ACL).
    caller: usize,
    pub name: &'a str,
    /// The caller's command line and the library counts, for FUNCTION STATS once busy.
    command: &'a [&'a [u8]],
    libraries: usize,
    functions: usize,
    pub eval: bool,
    read_only: bool,
    allow_oom: bool,
    write_dirty: bool,
    oom_at_start: bool,
    pub repl_flags: i32,
    start: Instant,
    timed_out: bool,
    threshold_ms: u64,
    watch: Arc<ScriptWatch>,
    /// The script ran a read-only command: a tracking caller then tracks the keys it declared
    /// (Redis's call() remembers the keys of the script's caller, not of the inner command).
    read_called: bool,
}

impl RunCtx<'_> {
    fn srv(&mut self) -> &mut Server {
        // SAFETY: the run's owner (`run`) keeps the server borrowed and untouched while Lua
        // runs; callbacks are the only users of this pointer during that time.
        unsafe { &mut *self.srv }
    }

    pub fn script_resp3(&mut self) -> bool {
        let slot = self.client;
        self.srv().clients.get(slot).is_some_and(|c| c.resp3)
    }

    pub fn set_script_resp3(&mut self, on: bool) {
        let slot = self.client;
        if let Some(c) = self.srv().clients.get_mut(slot) {
            c.resp3 = on;
        }
    }

    /// redis.acl_check_cmd: whether the caller's user may run this command line.
    pub fn acl_allows(&mut self, cmd: &crate::cmd::table::Command, args: &[&[u8]]) -> bool {
        let caller = self.caller;
        crate::acl::check::user_allows(self.srv(), caller, cmd, args)
    }

    /// Records a command refused by the script checks (afterErrorReply + rejected_calls).
    fn reject(&mut self, cmd_id: Option<usize>, text: &str) -> Result<Reply, String> {
        let code = match text.strip_prefix('-') {
            Some(rest) => rest.split(' ').next().unwrap_or("ERR").to_string(),
            None => "ERR".to_string(),
        };
        let srv = self.srv();
        srv.count_error(code);
        if let Some(id) = cmd_id {
            srv.cmdstats[id].rejected_calls += 1;
        }
        Err(text.to_string())
    }

    /// Redis's scriptCall: checks what a script may run now, then runs it like any command.
    /// `Err` carries an error text for luaPushError ("-CODE msg" or "msg").
    pub fn call(&mut self, refs: &[&[u8]]) -> Result<Reply, String> {
        let srv = self.srv();
        let cmd = match srv.commands.lookup(refs) {
            Found::Command(cmd) => cmd,
            _ => return self.reject(None, "Unknown Redis command called from script"),
        };
        if !cmd.arity_ok(refs.len()) {
            return self.reject(Some(cmd.id), "Wrong number of args calling Redis command from script");
        }
        let nested_script =
            matches!(cmd.top_name(), "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro");
        if (cmd.flags & spec::NOSCRIPT != 0 && !srv.scripts.deny_disabled) || nested_script {
            return self.reject(Some(cmd.id), "This Redis command is not allowed from script");
        }
        let caller = self.caller;
        if let Err(text) = crate::acl::check::check_script(self.srv(), caller, cmd, refs) {
            return self.reject(Some(cmd.id), &text);
        }
        if self.read_only && cmd.flags & (spec::WRITE | spec::MAY_REPLICATE) != 0 {
            return self.reject(Some(cmd.id), "Write commands are not allowed from read-only scripts.");
        }
        let is_write = cmd.flags & spec::WRITE != 0;
        if is_write && !self.write_dirty {
            if let Some(e) = crate::dispatch::writes_denied_by_disk_error(self.srv()) {
                let text = format!("-{e}");
                return self.reject(Some(cmd.id), &text);
            }
            if !good_replicas(self.srv()) {
                return self.reject(Some(cmd.id), "-NOREPLICAS Not enough good replicas to write.");
            }
        }
        if !self.allow_oom && !self.write_dirty && self.oom_at_start && cmd.flags & spec::DENYOOM != 0 {
            return self.reject(Some(cmd.id), "-OOM command not allowed when used memory > 'maxmemory'.");
        }
        if is_write {
            self.write_dirty = true;
            if !self.watch.mark_write() {
                return Err(String::from_utf8_lossy(KILLED_ERROR).into_owned());
            }
        }
        if cmd.flags & spec::READONLY != 0 {
            self.read_called = true;
        }
        let client = self.client;
        let propagate_repl = self.repl_flags & super::api::PROPAGATE_REPL != 0;
        let srv = self.srv();
        let before = srv.fx.propagate.len();
        let reply = crate::dispatch::call(srv, client, cmd, refs, true);
        if !propagate_repl {
            srv.fx.propagate.truncate(before);
        }
        Ok(reply)
    }

    /// Redis's scriptInterrupt, from the hook: enters the timed-out state past the
    /// threshold; true if the script must be killed.
    fn interrupt(&mut self) -> bool {
        if self.timed_out {
            return self.watch.killed();
        }
        let elapsed = self.start.elapsed().as_millis() as u64;
        if elapsed < self.threshold_ms {
            return false;
        }
        crate::log::warning(&format!(
            "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
            if self.eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
            self.name
        ));
        self.timed_out = true;
        self.watch.enter_timedout(self.name, self.command, self.start, self.libraries, self.functions);
        self.watch.killed()
    }
}

/// The count hook: every HOOK_COUNT instructions, check the time limit and SCRIPT KILL.
/// Once killed it fires on every line, so `pcall` cannot swallow the kill.
unsafe extern "C-unwind" fn count_hook(l: State, _ar: *mut ffi::lua_Debug) {
    let kill = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match super::api::run_ctx(l) {
        Some(run) => run.interrupt(),
        None => false,
    }))
    .unwrap_or(false);
    if kill {
        crate::log::warning("Lua script killed by user with SCRIPT KILL.");
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, KILLED_ERROR);
        ffi::lua_error(l);
    }
}

/// Where the function to run is.
pub enum Func<'a> {
    /// An EVAL script, in the registry under this name (`f_<sha>`).
    Registry(&'a std::ffi::CStr),
    /// A library function, by registry reference.
    Ref(c_int),
}

/// One invocation.
pub struct Invocation<'a> {
    pub eval: bool,
    /// The script's SHA1 or the function's name (logs, errors, FUNCTION STATS).
    pub name: &'a str,
    pub flags: u64,
    /// Run by EVAL_RO / EVALSHA_RO / FCALL_RO.
    pub ro: bool,
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// The caller's full command (FUNCTION STATS).
    pub command: &'a [&'a [u8]],
}

/// Runs a script function for the client of `ctx` and returns its reply.
pub fn run(ctx: &mut Ctx, inv: &Invocation<'_>, func: Func<'_>) -> Result<Reply, Error> {
    check_prepare(ctx.srv, inv.flags, inv.ro)?;
    let srv: &mut Server = ctx.srv;
    let compat = inv.flags & EVAL_COMPAT_MODE != 0;
    let client = if inv.eval { srv.scripts.eval_client } else { srv.scripts.function_client };
    let caller_db = srv.clients[ctx.slot].db;
    let caller_multi = srv.clients[ctx.slot].has(cflags::MULTI);
    // The script's client acts as its caller's user (Redis's scriptCall sets c->user).
    if srv.clients.get(client).is_some_and(|c| c.user != srv.clients[ctx.slot].user) {
        let caller_user = srv.clients[ctx.slot].user.clone();
        srv.clients[client].user = caller_user;
    }
    if let Some(c) = srv.clients.get_mut(client) {
        c.db = caller_db;
        c.resp3 = false;
        c.set(cflags::MULTI, caller_multi);
    }
    let (libraries, functions) = srv.scripts.library_counts();
    let watch = srv.scripts.watch.clone();
    watch.start(inv.eval, srv.tunables.requirepass_set);
    let mut run = RunCtx {
        srv: std::ptr::null_mut(),
        client,
        caller: ctx.slot,
        name: inv.name,
        command: inv.command,
        libraries,
        functions,
        eval: inv.eval,
        read_only: inv.ro || (!compat && inv.flags & NO_WRITES != 0),
        allow_oom: !compat && inv.flags & ALLOW_OOM != 0,
        write_dirty: false,
        oom_at_start: over_maxmemory(srv),
        repl_flags: super::api::PROPAGATE_AOF | super::api::PROPAGATE_REPL,
        start: Instant::now(),
        timed_out: false,
        threshold_ms: srv.tunables.busy_reply_threshold_ms,
        watch: watch.clone(),
        read_called: false,
    };
    srv.scripts.running += 1;
    let vm: *const Vm = if inv.eval { &srv.scripts.eval } else { &srv.scripts.functions.vm };
    run.srv = srv as *mut Server;
    // From here until the call returns, the server is reached only through `run.srv`.
    // SAFETY: the VM lives in the server, which outlives the call; a SCRIPT FLUSH during the
    // run only marks the eval VM for reset after it (`ScriptEngine::flush_eval`).
    let reply = unsafe { call_function(&*vm, &mut run, inv, func) };
    let srv = ctx.srv as &mut Server;
    srv.scripts.running -= 1;
    if let Some(c) = srv.clients.get_mut(client) {
        c.set(cflags::MULTI, false);
    }
    watch.end();
    if run.read_called {
        let caller = &srv.clients[ctx.slot];
        if caller.has(cflags::TRACKING) && !caller.has(cflags::TRACKING_BCAST) {
            crate::tracking::remember_keys(srv, ctx.slot, ctx.cmd, inv.command);
        }
    }
    if srv.scripts.running == 0 {
        srv.scripts.after_run();
    }
    // The script's effects were propagated command by command; the EVAL/FCALL itself is not.
    srv.fx.rewrite = Some(Vec::new());
    Ok(reply)
}

/// luaCallFunction: the protected call, the hook, the reply or the error message.
unsafe fn call_function(vm: &Vm, run: &mut RunCtx<'_>, inv: &Invocation<'_>, func: Func<'_>) -> Reply {
    let l = vm.l;
    let shared = &*vm.shared;
    shared.run.set(run as *mut RunCtx<'_> as *mut std::ffi::c_void);
    shared.soft.set(true);
    ffi::lua_checkstack(l, 8);
    let base = ffi::lua_gettop(l);
    lua::registry_get(l, &sandbox::ERROR_HANDLER);
    let handler = ffi::lua_gettop(l);
    let nargs = match func {
        Func::Registry(name) => {
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, name.as_ptr());
            lua::registry_get(l, &sandbox::REAL_GLOBALS);
            push_array(l, inv.keys);
            lua::raw_set_field(l, -2, "KEYS");
            push_array(l, inv.args);
            lua::raw_set_field(l, -2, "ARGV");
            ffi::lua_pop(l, 1);
            0
        }
        Func::Ref(r) => {
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, r as ffi::lua_Integer);
            push_array(l, inv.keys);
            push_array(l, inv.args);
            2
        }
    };
    if run.threshold_ms > 0 {
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKCOUNT, HOOK_COUNT);
    }
    shared.soft.set(false);
    let status = ffi::lua_pcall(l, nargs, 1, handler);
    shared.soft.set(true);
    vm.gc_tick();
    let reply = if status != 0 {
        Reply::Error(error_reply(l, run.name))
    } else {
        let resp3 = run.script_resp3();
        pop_reply(l, resp3)
    };
    ffi::lua_sethook(l, None, 0, 0);
    shared.run.set(std::ptr::null_mut());
    ffi::lua_settop(l, base);
    shared.soft.set(false);
    reply
}

/// The error reply for a failed script (the error value is on top; popped).
unsafe fn error_reply(l: State, name: &str) -> Error {
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        let msg = lua::to_bytes(l, -1).map(|b| b.to_vec()).unwrap_or_else(|| b"execution failure".to_vec());
        ffi::lua_pop(l, 1);
        let msg = String::from_utf8_lossy(super::convert::c_text(&msg));
        let shown: String = msg.chars().take(100).collect();
        return script_error(format!("ERR Error running script {name}, {shown}\n"), false);
    }
    let info = ErrorInfo::extract(l);
    ffi::lua_pop(l, 1);
    let msg = info.msg.as_deref().map(super::convert::c_text).unwrap_or(b"ERR unknown error");
    let mut text = String::from_utf8_lossy(msg).into_owned();
    if let (Some(source), Some(line)) = (&info.source, &info.line) {
        text.push_str(&format!(
            " script: {name}, on {}:{}.",
            String::from_utf8_lossy(super::convert::c_text(source)),
            String::from_utf8_lossy(super::convert::c_text(line))
        ));
    }
    script_error(text, info.ignore_stats)
}

unsafe fn push_array(l: State, items: &[&[u8]]) {
    ffi::lua_createtable(l, items.len().min(1 << 24) as c_int, 0);
    for (i, item) in items.iter().enumerate() {
        lua::push_bytes(l, item);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// Parses numkeys for EVAL/FCALL: `Ok(n)` or the error (`bad_number` for a non-integer).
pub fn parse_numkeys(args: &[&[u8]], bad_number: Error) -> Result<usize, Error> {
    let n = crate::util::num::parse_i64(args[2]).ok_or(bad_number)?;
    if n > (args.len() - 3) as i64 {
        return Err(err("ERR Number of keys can't be greater than number of args"));
    }
    if n < 0 {
        return Err(err("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}
