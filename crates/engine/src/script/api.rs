//! The `redis` table scripts see (redis.call, pcall, log, sha1hex, error_reply,
//! status_reply, setresp, set_repl, replicate_commands, breakpoint, debug, acl_check_cmd and
//! the constants), plus `math.random`/`math.randomseed` on Redis's own PRNG.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use smallvec::SmallVec;

use super::convert::{push_error_table, push_reply};
use super::lua::{self, ffi, lua_callback, CbResult, State};
use super::run::RunCtx;
use super::sandbox::{check_int, push_arg_error};

pub const LOG_DEBUG: i32 = 0;
pub const LOG_WARNING: i32 = 3;
pub const PROPAGATE_AOF: i32 = 1;
pub const PROPAGATE_REPL: i32 = 2;

/// The run in progress, if any.
pub unsafe fn run_ctx<'a>(l: State) -> Option<&'a mut RunCtx<'a>> {
    (lua::shared(l).run.get() as *mut RunCtx<'a>).as_mut()
}

/// Raises `{err="ERR <msg>"}` (Redis's luaPushError + luaError).
pub unsafe fn raise(l: State, msg: &str) -> CbResult {
    push_error_table(l, msg.as_bytes());
    Err(())
}

/// The command arguments of a redis.call: numbers as `%.17g`, strings as they are, borrowed
/// from the Lua stack (the caller keeps them there until the command has run).
unsafe fn command_args<'a>(l: State) -> Result<SmallVec<[Cow<'a, [u8]>; 8]>, &'static str> {
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut args = SmallVec::with_capacity(argc as usize);
    for j in 1..=argc {
        match ffi::lua_type(l, j) {
            ffi::LUA_TNUMBER => args.push(Cow::Owned(lua::format_g17(ffi::lua_tonumber(l, j)))),
            ffi::LUA_TSTRING => args.push(Cow::Borrowed(lua::to_bytes(l, j).unwrap_or_default())),
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(args)
}

unsafe fn generic_call(l: State, raise_error: bool) -> CbResult {
    let Some(run) = run_ctx(l) else {
        return raise(l, "redis.call/pcall can only be called inside a script invocation");
    };
    let args = match command_args(l) {
        Ok(a) => a,
        Err(msg) => {
            ffi::lua_settop(l, 0);
            push_error_table(l, msg.as_bytes());
            return if raise_error { Err(()) } else { Ok(1) };
        }
    };
    let refs: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_ref()).collect();
    // The command runs no Lua, so the borrowed arguments stay valid on the stack until here.
    let result = run.call(&refs);
    drop(refs);
    drop(args);
    ffi::lua_settop(l, 0);
    match result {
        Err(text) => {
            push_error_table(l, text.as_bytes());
            ffi::lua_pushboolean(l, 1);
            lua::raw_set_field(l, -2, "ignore_error_stats_update");
            if raise_error {
                Err(())
            } else {
                Ok(1)
            }
        }
        Ok(reply) => {
            let resp3 = run.script_resp3();
            push_reply(l, &reply, resp3);
            if raise_error && reply.is_error() {
                Err(())
            } else {
                Ok(1)
            }
        }
    }
}

lua_callback! {
    pub fn redis_call(l) {
        generic_call(l, true)
    }
}

lua_callback! {
    pub fn redis_pcall(l) {
        generic_call(l, false)
    }
}

lua_callback! {
    fn sha1hex(l) {
        if ffi::lua_gettop(l) != 1 {
            return raise(l, "wrong number of arguments");
        }
        let data = lua::to_bytes(l, 1).unwrap_or_default();
        let digest = super::sha1_hex(data);
        lua::push_str(l, &digest);
        Ok(1)
    }
}

lua_callback! {
    fn error_reply(l) {
        if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
            push_error_table(l, b"wrong number or type of arguments");
            return Ok(1);
        }
        let text = lua::to_bytes(l, -1).unwrap_or_default();
        let text = super::convert::c_text(text);
        let mut buf = Vec::with_capacity(text.len() + 1);
        if text.first() != Some(&b'-') {
            buf.push(b'-');
        }
        buf.extend_from_slice(text);
        push_error_table(l, &buf);
        Ok(1)
    }
}

lua_callback! {
    fn status_reply(l) {
        if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
            push_error_table(l, b"wrong number or type of arguments");
            return Ok(1);
        }
        ffi::lua_newtable(l);
        ffi::lua_pushvalue(l, -2);
        lua::raw_set_field(l, -2, "ok");
        Ok(1)
    }
}

lua_callback! {
    pub fn log(l) {
        let argc = ffi::lua_gettop(l);
        if argc < 2 {
            return raise(l, "redis.log() requires two arguments or more.");
        }
        if ffi::lua_isnumber(l, 1) == 0 {
            return raise(l, "First argument must be a number (log level).");
        }
        let level = lua::number_to_i32(ffi::lua_tonumber(l, 1));
        let level = match level {
            0 => crate::log::Level::Debug,
            1 => crate::log::Level::Verbose,
            2 => crate::log::Level::Notice,
            3 => crate::log::Level::Warning,
            _ => return raise(l, "Invalid debug level."),
        };
        let mut text = Vec::new();
        for j in 2..=argc {
            if let Some(s) = lua::to_bytes(l, j) {
                if j != 2 {
                    text.push(b' ');
                }
                text.extend_from_slice(s);
            }
        }
        crate::log::log(level, &String::from_utf8_lossy(&text));
        Ok(0)
    }
}

lua_callback! {
    fn setresp(l) {
        let Some(run) = run_ctx(l) else {
            return raise(l, "redis.setresp can only be called inside a script invocation");
        };
        if ffi::lua_gettop(l) != 1 {
            return raise(l, "redis.setresp() requires one argument.");
        }
        let resp = lua::number_to_i32(ffi::lua_tonumber(l, 1));
        if resp != 2 && resp != 3 {
            return raise(l, "RESP version must be 2 or 3.");
        }
        run.set_script_resp3(resp == 3);
        Ok(0)
    }
}

lua_callback! {
    fn set_repl(l) {
        let Some(run) = run_ctx(l) else {
            return raise(l, "redis.set_repl can only be called inside a script invocation");
        };
        if ffi::lua_gettop(l) != 1 {
            return raise(l, "redis.set_repl() requires two arguments.");
        }
        let flags = lua::number_to_i32(ffi::lua_tonumber(l, -1));
        if flags & !(PROPAGATE_AOF | PROPAGATE_REPL) != 0 {
            return raise(l, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        }
        run.repl_flags = flags;
        Ok(0)
    }
}

lua_callback! {
    fn replicate_commands(l) {
        ffi::lua_pushboolean(l, 1);
        Ok(1)
    }
}

lua_callback! {
    /// Outside the debugger (which Spinel does not have) a breakpoint does nothing.
    fn breakpoint(l) {
        ffi::lua_pushboolean(l, 0);
        Ok(1)
    }
}

lua_callback! {
    /// Outside the debugger redis.debug() prints nothing.
    fn debug(_l) {
        Ok(0)
    }
}

lua_callback! {
    fn acl_check_cmd(l) {
        if run_ctx(l).is_none() {
            return raise(l, "redis.acl_check_cmd can only be called inside a script invocation");
        }
        let args = match command_args(l) {
            Ok(a) => a,
            Err(msg) => return raise(l, msg),
        };
        let refs: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_ref()).collect();
        match crate::cmd::table::commands().lookup(&refs) {
            crate::cmd::table::Found::Command(cmd) => {
                let allowed = run_ctx(l).is_some_and(|run| run.acl_allows(cmd, &refs));
                ffi::lua_pushboolean(l, allowed as i32);
                Ok(1)
            }
            _ => raise(l, "Invalid command passed to redis.acl_check_cmd()"),
        }
    }
}

/// Fills the `redis` table on top of the stack with the API of a script run.
pub unsafe fn register_run_api(l: State) {
    lua::set_fn(l, "call", redis_call);
    lua::set_fn(l, "pcall", redis_pcall);
    register_log(l);
    register_version(l);
    lua::set_fn(l, "setresp", setresp);
    lua::set_fn(l, "sha1hex", sha1hex);
    lua::set_fn(l, "error_reply", error_reply);
    lua::set_fn(l, "status_reply", status_reply);
    lua::set_fn(l, "set_repl", set_repl);
    lua::set_number(l, "REPL_NONE", 0.0);
    lua::set_number(l, "REPL_AOF", PROPAGATE_AOF as f64);
    lua::set_number(l, "REPL_SLAVE", PROPAGATE_REPL as f64);
    lua::set_number(l, "REPL_REPLICA", PROPAGATE_REPL as f64);
    lua::set_number(l, "REPL_ALL", (PROPAGATE_AOF | PROPAGATE_REPL) as f64);
    lua::set_fn(l, "acl_check_cmd", acl_check_cmd);
}

/// The EVAL-only extras (the debugger entry points and replicate_commands).
pub unsafe fn register_eval_extras(l: State) {
    lua::set_fn(l, "breakpoint", breakpoint);
    lua::set_fn(l, "debug", debug);
    lua::set_fn(l, "replicate_commands", replicate_commands);
}

/// redis.log and its levels.
pub unsafe fn register_log(l: State) {
    lua::set_fn(l, "log", log);
    lua::set_number(l, "LOG_DEBUG", 0.0);
    lua::set_number(l, "LOG_VERBOSE", 1.0);
    lua::set_number(l, "LOG_NOTICE", 2.0);
    lua::set_number(l, "LOG_WARNING", 3.0);
}

/// redis.REDIS_VERSION and REDIS_VERSION_NUM (0x00MMmmpp).
pub unsafe fn register_version(l: State) {
    let mut parts = crate::REDIS_VERSION.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let num = (parts.next().unwrap_or(0) << 16) | (parts.next().unwrap_or(0) << 8) | parts.next().unwrap_or(0);
    lua::set_number(l, "REDIS_VERSION_NUM", num as f64);
    lua::set_string(l, "REDIS_VERSION", crate::REDIS_VERSION.as_bytes());
}

// --- math.random on Redis's rand48 ------------------------------------------------------

/// Redis's redisLrand48 state (the 48-bit drand48 generator), shared by every script as in
/// Redis, so a script sees a different sequence each time unless it calls randomseed.
static RAND48: AtomicU64 = AtomicU64::new(0x1234_ABCD_330E);
const RAND48_A: u64 = 0x5_DEEC_E66D;
const RAND48_MASK: u64 = (1 << 48) - 1;
pub const LRAND48_MAX: i32 = i32::MAX;

pub fn lrand48() -> i32 {
    let mut cur = RAND48.load(Ordering::Relaxed);
    loop {
        let next = cur.wrapping_mul(RAND48_A).wrapping_add(0xB) & RAND48_MASK;
        match RAND48.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return (next >> 17) as i32,
            Err(now) => cur = now,
        }
    }
}

pub fn srand48(seed: i32) {
    RAND48.store(((seed as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
}

lua_callback! {
    pub fn math_random(l) {
        if run_ctx(l).is_none() {
            lua::push_error_at(l, 1, "math.random can only be called inside a script invocation");
            return Err(());
        }
        let r = (lrand48() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        match ffi::lua_gettop(l) {
            0 => ffi::lua_pushnumber(l, r),
            1 => {
                let u = check_int(l, 1)?;
                if u < 1 {
                    push_arg_error(l, 1, "interval is empty");
                    return Err(());
                }
                ffi::lua_pushnumber(l, (r * u as f64).floor() + 1.0);
            }
            2 => {
                let lo = check_int(l, 1)?;
                let up = check_int(l, 2)?;
                if lo > up {
                    push_arg_error(l, 2, "interval is empty");
                    return Err(());
                }
                ffi::lua_pushnumber(l, (r * (up as f64 - lo as f64 + 1.0)).floor() + lo as f64);
            }
            _ => {
                lua::push_error_at(l, 1, "wrong number of arguments");
                return Err(());
            }
        }
        Ok(1)
    }
}

lua_callback! {
    pub fn math_randomseed(l) {
        if run_ctx(l).is_none() {
            lua::push_error_at(l, 1, "math.randomseed can only be called inside a script invocation");
            return Err(());
        }
        let seed = check_int(l, 1)?;
        srand48(seed);
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_matches_redis() {
        // redisSrand48(0) followed by redisLrand48(): the drand48 sequence.
        srand48(0);
        let a = lrand48();
        let b = lrand48();
        srand48(0);
        assert_eq!(lrand48(), a);
        assert_eq!(lrand48(), b);
        srand48(10);
        let c = lrand48();
        assert_ne!(a, c);
        RAND48.store(0x1234_ABCD_330E, Ordering::Relaxed);
    }
}
