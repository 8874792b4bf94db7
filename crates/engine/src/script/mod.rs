//! Lua scripting (EVAL and friends) and Redis 7 functions, on Lua 5.1 (mlua-sys, vendored)
//! as Redis embeds it.
//!
//! Two Lua VMs, as in Redis: one for EVAL scripts (each compiled once and cached by SHA1
//! until SCRIPT FLUSH) and one for function libraries (FUNCTION LOAD). Both run in the
//! sandbox of [`sandbox`] with the `redis` API of [`api`]; values cross between Lua and
//! replies through [`convert`]; [`run`] holds Redis's checks around a script and around
//! each command it runs. Commands run through [`crate::dispatch::call`] on a dedicated
//! internal client per VM (its database follows the caller, SELECT inside a script does not
//! leak), and their writes are propagated one by one — the EVAL itself is not.
//!
//! A long script keeps the engine for itself; [`busy`] is what other connections see of it
//! meanwhile (BUSY replies, SCRIPT KILL, SHUTDOWN NOSAVE).
//!
//! The libraries Redis ships are ours, with Redis's behaviour and limits: [`cjson`],
//! [`cmsgpack`], [`bit`], [`structlib`].

pub mod api;
pub mod bit;
pub mod busy;
pub mod cjson;
pub mod cmsgpack;
pub mod convert;
pub mod functions;
pub mod lua;
pub mod run;
pub mod sandbox;
pub mod structlib;

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Arc;

use lua::{ffi, State, VmShared};

/// The most memory one Lua VM may hold. Allocations past it fail with "not enough
/// memory" inside the script, as a memory error in Lua does.
pub const LUA_MEMORY_LIMIT: usize = 1 << 30;

/// How many script runs between two incremental GC steps (Redis's LUA_GC_CYCLE_PERIOD).
const GC_CYCLE_PERIOD: u32 = 50;

/// One Lua VM and its shared data.
pub struct Vm {
    pub l: State,
    pub shared: Box<VmShared>,
    gc_count: std::cell::Cell<u32>,
}

// SAFETY: a VM is only used by the thread holding the engine lock.
unsafe impl Send for Vm {}

impl Vm {
    fn new(limit: usize) -> Vm {
        let shared = VmShared::new(limit);
        // SAFETY: `shared` is boxed (stable address) and dropped after the state (Drop).
        let l = unsafe { lua::new_state(&shared) };
        assert!(!l.is_null(), "cannot create a Lua state");
        Vm { l, shared, gc_count: std::cell::Cell::new(0) }
    }

    /// Bytes the VM holds (INFO used_memory_lua).
    pub fn memory(&self) -> usize {
        self.shared.used.get()
    }

    /// Runs a GC step every GC_CYCLE_PERIOD runs, so a full cycle never runs at once.
    fn gc_tick(&self) {
        let n = self.gc_count.get() + 1;
        if n >= GC_CYCLE_PERIOD {
            // SAFETY: the state is valid; a GC step does not raise.
            unsafe { ffi::lua_gc(self.l, ffi::LUA_GCSTEP, GC_CYCLE_PERIOD as i32) };
            self.gc_count.set(0);
        } else {
            self.gc_count.set(n);
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: the state is ours and no script runs (the VM is dropped between commands).
        unsafe { ffi::lua_close(self.l) };
    }
}

/// An EVAL script in the cache.
pub struct EvalScript {
    pub body: Vec<u8>,
    pub flags: u64,
}

/// The scripting engine: the two VMs, the script cache, the function libraries.
pub struct ScriptEngine {
    pub eval: Vm,
    /// SHA1 (lowercase hex) → script. Looked up twice per EVALSHA (flags, then the run):
    /// hashed with foldhash, as the command table.
    pub scripts: HashMap<String, EvalScript, foldhash::fast::RandomState>,
    scripts_mem: usize,
    pub functions: functions::FunctionStore,
    pub watch: Arc<busy::ScriptWatch>,
    /// The internal clients scripts run their commands as.
    pub eval_client: usize,
    pub function_client: usize,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: let scripts run commands flagged noscript.
    pub deny_disabled: bool,
    /// Scripts running now (nested only through DEBUG SET-DISABLE-DENY-SCRIPTS).
    pub running: u32,
    /// SCRIPT FLUSH arrived while a script ran: reset the eval VM when it ends.
    eval_reset_pending: bool,
    memory_limit: usize,
}

impl Default for ScriptEngine {
    fn default() -> Self {
        Self::new(LUA_MEMORY_LIMIT)
    }
}

/// Lowercase hex SHA1 of `data` (redis.sha1hex, script names).
/// A script's SHA1 in lowercase hex, kept on the stack: EVALSHA looks a script up by it on
/// every call, so it must cost no allocation.
#[derive(Clone, Copy)]
pub struct Sha([u8; 40]);

impl Sha {
    /// The script body's SHA1.
    pub fn of_body(body: &[u8]) -> Sha {
        use sha1::{Digest, Sha1};
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (i, b) in Sha1::digest(body).iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 15) as usize];
        }
        Sha(out)
    }

    /// An EVALSHA argument, lowercased; None when it cannot name a script (not 40 ASCII
    /// bytes), which EVALSHA answers with NOSCRIPT.
    pub fn parse(arg: &[u8]) -> Option<Sha> {
        let arg: &[u8; 40] = arg.try_into().ok()?;
        if !arg.is_ascii() {
            return None;
        }
        Some(Sha(arg.map(|b| b.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: both constructors store ASCII bytes only (hex digits, or an argument
        // checked with `is_ascii`).
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The registry name of the script's compiled function, `f_<sha>` NUL-terminated.
    pub fn function_name(&self) -> [u8; 43] {
        let mut name = [0u8; 43];
        name[..2].copy_from_slice(b"f_");
        name[2..42].copy_from_slice(&self.0);
        name
    }
}

pub fn sha1_hex(data: &[u8]) -> String {
    Sha::of_body(data).as_str().to_string()
}

/// Builds the EVAL VM (Redis's scriptingInit).
fn new_eval_vm(limit: usize) -> Vm {
    let vm = Vm::new(limit);
    let l = vm.l;
    // SAFETY: a fresh state; everything below runs unprotected but cannot fail except on
    // memory exhaustion at start-up.
    unsafe {
        vm.shared.soft.set(true);
        sandbox::install_base(l);
        ffi::lua_newtable(l);
        api::register_run_api(l);
        api::register_eval_extras(l);
        lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "redis");
        ffi::lua_pushcfunction(l, sandbox::error_handler);
        lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "__redis__err__handler");
        ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
        let globals = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, globals);
        lua::registry_set(l, &sandbox::REAL_GLOBALS);
        sandbox::set_error_metatable(l, globals);
        sandbox::protect_string_metatable(l);
        sandbox::protect(l, globals);
        sandbox::install_globals_proxy(l, globals, -1);
        ffi::lua_settop(l, 0);
        vm.shared.soft.set(false);
    }
    vm
}

/// Parses an EVAL script's shebang (Redis's evalExtractShebangFlags): the flags and the
/// shebang's length (the code after it keeps its newline, so line numbers stay right).
pub fn extract_shebang_flags(body: &[u8]) -> Result<(u64, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((run::EVAL_COMPAT_MODE, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = spinel_resp::request::split_args(&body[..end]).unwrap_or_default();
    let Some(engine) = parts.first() else {
        return Err("Invalid engine in script shebang".into());
    };
    if engine.as_slice() != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(engine)));
    }
    let mut flags = 0u64;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&c| c == b',') {
            match run::FLAG_NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                Some((f, _)) => flags |= f,
                None => return Err(format!("Unexpected flag in script shebang: {}", String::from_utf8_lossy(name))),
            }
        }
    }
    Ok((flags, end))
}

impl ScriptEngine {
    pub fn new(memory_limit: usize) -> ScriptEngine {
        ScriptEngine {
            eval: new_eval_vm(memory_limit),
            scripts: HashMap::default(),
            scripts_mem: 0,
            functions: functions::FunctionStore::new(memory_limit),
            watch: Arc::new(busy::ScriptWatch::default()),
            eval_client: usize::MAX,
            function_client: usize::MAX,
            deny_disabled: false,
            running: 0,
            eval_reset_pending: false,
            memory_limit,
        }
    }

    /// Compiles and caches an EVAL script (Redis's luaCreateFunction); returns its SHA1.
    pub fn create_eval(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = extract_shebang_flags(body)?;
        let l = self.eval.l;
        let name = CString::new(format!("f_{sha}")).unwrap_or_default();
        // SAFETY: the VM is idle or running (a nested SCRIPT LOAD); loading does not run code.
        unsafe {
            self.eval.shared.soft.set(true);
            let ok = lua::load_text(l, &body[shebang_len..], c"@user_script");
            if !ok {
                let msg = lua::to_str_lossy(l, -1);
                ffi::lua_pop(l, 1);
                self.eval.shared.soft.set(self.running > 0);
                return Err(format!("Error compiling script (new function): {msg}"));
            }
            ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, name.as_ptr());
            self.eval.shared.soft.set(self.running > 0);
        }
        self.scripts_mem += 40 + body.len();
        self.scripts.insert(sha.clone(), EvalScript { body: body.to_vec(), flags });
        Ok(sha)
    }

    /// SCRIPT FLUSH: forget every script and start a fresh VM (after the running script,
    /// if a script flushes).
    pub fn flush_eval(&mut self) {
        self.scripts.clear();
        self.scripts_mem = 0;
        if self.running > 0 {
            self.eval_reset_pending = true;
        } else {
            self.eval = new_eval_vm(self.memory_limit);
        }
    }

    /// Housekeeping once no script runs.
    pub(crate) fn after_run(&mut self) {
        if self.eval_reset_pending {
            self.eval_reset_pending = false;
            self.eval = new_eval_vm(self.memory_limit);
        }
    }

    /// (libraries, functions) counts for FUNCTION STATS.
    pub fn library_counts(&self) -> (usize, usize) {
        (self.functions.libraries.len(), self.functions.function_count())
    }

    /// Bytes held by the EVAL VM (used_memory_lua / used_memory_vm_eval).
    pub fn eval_vm_memory(&self) -> usize {
        self.eval.memory()
    }

    /// Bytes of cached script bodies plus the cache's overhead (used_memory_scripts_eval).
    pub fn eval_scripts_memory(&self) -> usize {
        self.scripts_mem + self.scripts.len() * 64 + self.scripts.capacity() * 8
    }
}

/// Redis's evalGetCommandFlags / fcallGetCommandFlags: a script with a shebang (or a
/// function) declares its own write / deny-oom / stale behaviour.
pub fn command_flags(srv: &crate::server::Server, cmd: &crate::cmd::table::Command, args: &[&[u8]]) -> u64 {
    let script_flags = match cmd.top_name() {
        "eval" | "eval_ro" | "evalsha" | "evalsha_ro" if args.len() > 1 => {
            let by_sha = cmd.top_name().starts_with("evalsha");
            if by_sha && args[1].len() != 40 {
                return cmd.flags;
            }
            let sha = if by_sha { Sha::parse(args[1]) } else { Some(Sha::of_body(args[1])) };
            match sha.and_then(|sha| srv.scripts.scripts.get(sha.as_str())) {
                Some(s) => s.flags,
                None if by_sha => return cmd.flags,
                None => match extract_shebang_flags(args[1]) {
                    Ok((flags, _)) => flags,
                    Err(_) => return cmd.flags,
                },
            }
        }
        "fcall" | "fcall_ro" if args.len() > 1 => match srv.scripts.functions.find(args[1]) {
            Some((_, f)) => f.flags,
            None => return cmd.flags,
        },
        _ => return cmd.flags,
    };
    if script_flags & run::EVAL_COMPAT_MODE != 0 {
        return cmd.flags;
    }
    run::flags_to_cmd_flags(cmd.flags, script_flags)
}

#[cfg(test)]
mod tests;
