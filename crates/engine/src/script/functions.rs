//! Redis 7 function libraries: the library store, FUNCTION LOAD (metadata line, running
//! the library code with `redis.register_function`), and the DUMP/RESTORE payload.
//!
//! All libraries live in one Lua VM. While a library's code runs, its globals are the
//! "library API" (only `redis.register_function`, `redis.log` and the version); when its
//! functions run, they are the normal script globals. Function names are case-insensitive
//! (FCALL TEST finds `test`), library names are not.

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_int;
use std::time::Instant;

use super::convert::{push_error_table, ErrorInfo};
use super::lua::{self, ffi, lua_callback, State};
use super::{api, run, sandbox, Vm};

/// FUNCTION LOAD's time limit for running the library code (Redis's LOAD_TIMEOUT_MS).
pub const LOAD_TIMEOUT_MS: u64 = 500;

static LIBRARY_API: u8 = 0;
static GLOBALS_PROXY: u8 = 0;

pub struct FunctionInfo {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: u64,
    /// The callback's registry reference.
    pub fref: c_int,
}

pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

pub struct FunctionStore {
    pub vm: Vm,
    pub libraries: BTreeMap<String, Library>,
    /// Lowercase function name → library name.
    index: HashMap<String, String>,
}

/// What a FUNCTION LOAD in progress collects (reached from register_function).
struct LoadCtx {
    functions: Vec<FunctionInfo>,
    start: Instant,
    timeout_ms: u64,
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The metadata line of a library (functionExtractLibMetaData): (engine, name, code after
/// the line, starting with its newline).
pub fn extract_metadata(payload: &[u8]) -> Result<(Vec<u8>, Vec<u8>, &[u8]), String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = payload.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = spinel_resp::request::split_args(&payload[..end]).unwrap_or_default();
    let Some(first) = parts.first() else { return Err("Invalid library metadata".into()) };
    let engine = first.get(2..).unwrap_or_default().to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(super::convert::c_text(part))));
    }
    let Some(name) = name else { return Err("Library name was not given".into()) };
    Ok((engine, name, &payload[end..]))
}

impl FunctionStore {
    pub fn new(limit: usize) -> FunctionStore {
        FunctionStore { vm: new_function_vm(limit), libraries: BTreeMap::new(), index: HashMap::new() }
    }

    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Bytes of library code and bookkeeping (INFO used_memory_functions).
    pub fn memory_overhead(&self) -> usize {
        let libs: usize = self
            .libraries
            .values()
            .map(|l| 64 + l.name.len() + l.code.len() + l.functions.iter().map(|f| 48 + f.name.len()).sum::<usize>())
            .sum();
        200 + libs
    }

    /// Finds a function by name (case-insensitive).
    pub fn find(&self, name: &[u8]) -> Option<(&Library, &FunctionInfo)> {
        let key = String::from_utf8_lossy(name).to_lowercase();
        let lib = self.libraries.get(self.index.get(&key)?)?;
        let f = lib.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&key))?;
        Some((lib, f))
    }

    fn unref(&self, functions: &[FunctionInfo]) {
        for f in functions {
            // SAFETY: the references were made in this VM.
            unsafe { ffi::luaL_unref(self.vm.l, ffi::LUA_REGISTRYINDEX, f.fref) };
        }
    }

    fn link(&mut self, lib: Library) {
        for f in &lib.functions {
            self.index.insert(f.name.to_lowercase(), lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            self.index.remove(&f.name.to_lowercase());
        }
        Some(lib)
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        let name = String::from_utf8_lossy(name).into_owned();
        match self.unlink(&name) {
            Some(lib) => {
                self.unref(&lib.functions);
                true
            }
            None => false,
        }
    }

    /// FUNCTION FLUSH.
    pub fn clear(&mut self) {
        let libs = std::mem::take(&mut self.libraries);
        self.index.clear();
        for lib in libs.values() {
            self.unref(&lib.functions);
        }
    }

    /// Compiles and registers a library (functionsCreateWithLibraryCtx). `timeout_ms` 0
    /// means no limit. Returns the library name.
    pub fn load(&mut self, code: &[u8], replace: bool, timeout_ms: u64) -> Result<String, String> {
        let (engine, name, body) = extract_metadata(code)?;
        if !valid_name(&name) {
            return Err(BAD_NAME.into());
        }
        if !engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!("Engine '{}' not found", String::from_utf8_lossy(&engine)));
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let old = self.unlink(&name);
        let result = self.create(body, timeout_ms).and_then(|functions| {
            if functions.is_empty() {
                return Err(("No functions registered".to_string(), functions));
            }
            if let Some(f) = functions.iter().find(|f| self.index.contains_key(&f.name.to_lowercase())) {
                let msg = format!("Function {} already exists", f.name);
                return Err((msg, functions));
            }
            Ok(functions)
        });
        match result {
            Ok(functions) => {
                self.link(Library { name: name.clone(), code: code.to_vec(), functions });
                if let Some(old) = old {
                    self.unref(&old.functions);
                }
                Ok(name)
            }
            Err((msg, functions)) => {
                self.unref(&functions);
                if let Some(old) = old {
                    self.link(old);
                }
                Err(msg)
            }
        }
    }

    /// Runs the library code with the library API as its globals (luaEngineCreate).
    fn create(&mut self, body: &[u8], timeout_ms: u64) -> Result<Vec<FunctionInfo>, (String, Vec<FunctionInfo>)> {
        let l = self.vm.l;
        let shared = &*self.vm.shared;
        let mut load = LoadCtx { functions: Vec::new(), start: Instant::now(), timeout_ms };
        // SAFETY: the VM is idle (or paused in a callback of a running function); the load
        // context outlives the call.
        unsafe {
            let soft = shared.soft.replace(true);
            let base = ffi::lua_gettop(l);
            lua::registry_get(l, &LIBRARY_API);
            sandbox::set_globals_target(l);
            let result = if !lua::load_text(l, body, c"@user_function") {
                let msg = lua::to_str_lossy(l, -1);
                Err(format!("Error compiling function: {msg}"))
            } else {
                let prev_load = shared.load.replace(&mut load as *mut LoadCtx as *mut std::ffi::c_void);
                ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKCOUNT, 100_000);
                shared.soft.set(false);
                let status = ffi::lua_pcall(l, 0, 0, 0);
                shared.soft.set(true);
                ffi::lua_sethook(l, None, 0, 0);
                shared.load.set(prev_load);
                if status != 0 {
                    let info = ErrorInfo::extract(l);
                    let msg = info.msg.map(|m| String::from_utf8_lossy(&m).into_owned()).unwrap_or_default();
                    Err(format!("Error registering functions: {msg}"))
                } else {
                    Ok(())
                }
            };
            ffi::lua_settop(l, base);
            lua::registry_get(l, &GLOBALS_PROXY);
            sandbox::set_globals_target(l);
            shared.soft.set(soft);
            match result {
                Ok(()) => Ok(load.functions),
                Err(msg) => Err((msg, load.functions)),
            }
        }
    }
}

/// FUNCTION LOAD's timeout hook.
unsafe extern "C-unwind" fn load_hook(l: State, _ar: *mut ffi::lua_Debug) {
    let load = lua::shared(l).load.get() as *const LoadCtx;
    let Some(load) = load.as_ref() else { return };
    if load.timeout_ms > 0 && load.start.elapsed().as_millis() as u64 > load.timeout_ms {
        ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"FUNCTION LOAD timeout");
        ffi::lua_error(l);
    }
}

/// redis.register_function's arguments, read from the stack.
struct Registration {
    name: Vec<u8>,
    desc: Option<Vec<u8>>,
    flags: u64,
    /// Stack index of the callback.
    callback: c_int,
}

unsafe fn read_flags(l: State, idx: c_int) -> Option<u64> {
    let mut flags = 0;
    let mut j = 1;
    loop {
        ffi::lua_rawgeti(l, idx, j);
        j += 1;
        match ffi::lua_type(l, -1) {
            ffi::LUA_TNIL => {
                ffi::lua_pop(l, 1);
                return Some(flags);
            }
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                let s = lua::to_bytes(l, -1).unwrap_or_default();
                let found = run::FLAG_NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(s));
                ffi::lua_pop(l, 1);
                flags |= found?.0;
            }
            _ => {
                ffi::lua_pop(l, 1);
                return None;
            }
        }
    }
}

unsafe fn read_named_args(l: State) -> Result<Registration, &'static str> {
    if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    // Slot 2 keeps the callback once found; the iteration key lives above it.
    ffi::lua_settop(l, 2);
    let (mut name, mut desc, mut callback, mut flags) = (None, None, false, 0u64);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, 1) != 0 {
        let kt = ffi::lua_type(l, -2);
        if kt != ffi::LUA_TSTRING && kt != ffi::LUA_TNUMBER {
            return Err("named argument key given to redis.register_function is not a string");
        }
        // A copy: lua_tolstring on a number key would confuse lua_next.
        ffi::lua_pushvalue(l, -2);
        let key = lua::to_bytes(l, -1).unwrap_or_default().to_ascii_lowercase();
        ffi::lua_pop(l, 1);
        let is_string = |l| ffi::lua_type(l, -1) == ffi::LUA_TSTRING || ffi::lua_type(l, -1) == ffi::LUA_TNUMBER;
        match key.as_slice() {
            b"function_name" => {
                if !is_string(l) {
                    return Err("function_name argument given to redis.register_function must be a string");
                }
                name = Some(lua::to_bytes(l, -1).unwrap_or_default().to_vec());
            }
            b"description" => {
                if !is_string(l) {
                    return Err("description argument given to redis.register_function must be a string");
                }
                desc = Some(lua::to_bytes(l, -1).unwrap_or_default().to_vec());
            }
            b"callback" => {
                if ffi::lua_type(l, -1) != ffi::LUA_TFUNCTION {
                    return Err("callback argument given to redis.register_function must be a function");
                }
                ffi::lua_pushvalue(l, -1);
                ffi::lua_replace(l, 2);
                callback = true;
            }
            b"flags" => {
                if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
                    return Err(
                        "flags argument to redis.register_function must be a table representing function flags",
                    );
                }
                let idx = ffi::lua_gettop(l);
                flags = read_flags(l, idx).ok_or("unknown flag given")?;
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
        ffi::lua_pop(l, 1);
    }
    let Some(name) = name else { return Err("redis.register_function must get a function name argument") };
    if !callback {
        return Err("redis.register_function must get a callback argument");
    }
    Ok(Registration { name, desc, flags, callback: 2 })
}

unsafe fn read_positional_args(l: State) -> Result<Registration, &'static str> {
    let t = ffi::lua_type(l, 1);
    if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
        return Err("first argument to redis.register_function must be a string");
    }
    let name = lua::to_bytes(l, 1).unwrap_or_default().to_vec();
    if ffi::lua_type(l, 2) != ffi::LUA_TFUNCTION {
        return Err("second argument to redis.register_function must be a function");
    }
    Ok(Registration { name, desc: None, flags: 0, callback: 2 })
}

lua_callback! {
    fn register_function(l) {
        let load = lua::shared(l).load.get() as *mut LoadCtx;
        let Some(load) = load.as_mut() else {
            return api::raise(l, "redis.register_function can only be called on FUNCTION LOAD command");
        };
        let argc = ffi::lua_gettop(l);
        if !(1..=2).contains(&argc) {
            return api::raise(l, "wrong number of arguments to redis.register_function");
        }
        let reg = if argc == 1 { read_named_args(l) } else { read_positional_args(l) };
        let reg = match reg {
            Ok(r) => r,
            Err(msg) => return api::raise(l, msg),
        };
        if !valid_name(&reg.name) {
            return api::raise(l, BAD_NAME);
        }
        let name = String::from_utf8_lossy(&reg.name).into_owned();
        if load.functions.iter().any(|f| f.name == name) {
            return api::raise(l, "Function already exists in the library");
        }
        ffi::lua_pushvalue(l, reg.callback);
        let fref = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
        load.functions.push(FunctionInfo { name, desc: reg.desc, flags: reg.flags, fref });
        Ok(0)
    }
}

/// Builds the function VM (Redis's luaEngineInitEngine).
fn new_function_vm(limit: usize) -> Vm {
    let vm = Vm::new(limit);
    let l = vm.l;
    // SAFETY: a fresh state, built before any script runs.
    unsafe {
        vm.shared.soft.set(true);
        sandbox::install_base(l);
        ffi::lua_newtable(l);
        api::register_run_api(l);
        lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, "redis");
        // The library API: what the library code sees while it loads.
        ffi::lua_newtable(l);
        let lib = ffi::lua_gettop(l);
        ffi::lua_newtable(l);
        lua::set_fn(l, "register_function", register_function);
        api::register_log(l);
        api::register_version(l);
        sandbox::set_error_metatable(l, -1);
        lua::raw_set_field(l, lib, "redis");
        sandbox::set_error_metatable(l, lib);
        sandbox::protect(l, lib);
        lua::registry_set(l, &LIBRARY_API);
        ffi::lua_pop(l, 1);
        ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
        let globals = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, globals);
        lua::registry_set(l, &sandbox::REAL_GLOBALS);
        sandbox::set_error_metatable(l, globals);
        sandbox::protect_string_metatable(l);
        sandbox::protect(l, globals);
        ffi::lua_pushvalue(l, -1);
        lua::registry_set(l, &GLOBALS_PROXY);
        sandbox::install_globals_proxy(l, globals, -1);
        ffi::lua_settop(l, 0);
        vm.shared.soft.set(false);
    }
    vm
}

// --- DUMP / RESTORE payloads -------------------------------------------------------------

/// FUNCTION DUMP: one RDB_OPCODE_FUNCTION2 record per library, the RDB version, CRC-64.
pub fn dump(store: &FunctionStore, compress: bool) -> Vec<u8> {
    use crate::persist::rdb::write::RdbWriter;
    let mut w = RdbWriter::new(Vec::new(), compress);
    for lib in store.libraries.values() {
        let _ = w.byte(crate::persist::rdb::OPCODE_FUNCTION2);
        let _ = w.string(&lib.code);
    }
    crate::persist::dump::seal(w.into_inner())
}

/// The library codes of a FUNCTION RESTORE payload, or Redis's error text.
/// With `skip_crc` (DEBUG SET-SKIP-CHECKSUM-VALIDATION) the checksum is not checked.
pub fn parse_dump(payload: &[u8], skip_crc: bool) -> Result<Vec<Vec<u8>>, String> {
    use crate::persist::rdb::read::RdbReader;
    use crate::persist::rdb::{OPCODE_FUNCTION, OPCODE_FUNCTION2};
    let body = crate::persist::dump::verify(payload, skip_crc)
        .map_err(|_| "DUMP payload version or checksum are wrong".to_string())?;
    let mut r = RdbReader::new(body);
    let mut codes = Vec::new();
    while !r.is_empty() {
        let kind = r.u8().map_err(|_| "can not read data type".to_string())?;
        if kind != OPCODE_FUNCTION && kind != OPCODE_FUNCTION2 {
            return Err("given type is not a function".into());
        }
        codes.push(read_function_record(&mut r, kind).map_err(|e| e.message)?);
    }
    Ok(codes)
}

/// Reads one function record (FUNCTION2: the code; the 7.0 RC FUNCTION: name, engine,
/// optional description, code, turned into the later format).
pub fn read_function_record(
    r: &mut crate::persist::rdb::read::RdbReader<'_>,
    kind: u8,
) -> Result<Vec<u8>, crate::persist::rdb::RdbError> {
    use crate::persist::rdb::{RdbError, OPCODE_FUNCTION};
    if kind == OPCODE_FUNCTION {
        let name = r.string().map_err(|_| RdbError::new("Failed loading library name"))?;
        let engine = r.string().map_err(|_| RdbError::new("Failed loading engine name"))?;
        let has_desc = r.len().map_err(|_| RdbError::new("Failed loading library description indicator"))?;
        if has_desc != 0 {
            r.string().map_err(|_| RdbError::new("Failed loading library description"))?;
        }
        let blob = r.string().map_err(|_| RdbError::new("Failed loading library blob"))?;
        let mut code = b"#!".to_vec();
        code.extend_from_slice(&engine);
        code.extend_from_slice(b" name=");
        code.extend_from_slice(&name);
        code.push(b'\n');
        code.extend_from_slice(&blob);
        return Ok(code);
    }
    r.string().map_err(|_| RdbError::new("Failed loading library payload"))
}

/// A whole set of libraries being restored (FUNCTION RESTORE, RDB loading) before it is
/// joined with the current one.
pub fn restore(store: &mut FunctionStore, codes: &[Vec<u8>], policy: RestorePolicy) -> Result<(), String> {
    // The payload's libraries are compiled into an empty store first (they must not clash
    // among themselves), then joined with the current ones (Redis's libraryJoin).
    let saved_libs = std::mem::take(&mut store.libraries);
    let saved_index = std::mem::take(&mut store.index);
    let mut failure = None;
    for code in codes {
        if let Err(e) = store.load(code, false, 0) {
            failure = Some(e);
            break;
        }
    }
    let staged: Vec<Library> = std::mem::take(&mut store.libraries).into_values().collect();
    store.libraries = saved_libs;
    store.index = saved_index;
    let discard = |store: &FunctionStore, staged: &[Library]| {
        for lib in staged {
            store.unref(&lib.functions);
        }
    };
    if let Some(e) = failure {
        discard(store, &staged);
        return Err(e);
    }
    if policy == RestorePolicy::Flush {
        store.clear();
        for lib in staged {
            store.link(lib);
        }
        return Ok(());
    }
    let mut replaced = Vec::new();
    for lib in &staged {
        if store.libraries.contains_key(&lib.name) {
            if policy == RestorePolicy::Append {
                for old in replaced {
                    store.link(old);
                }
                discard(store, &staged);
                return Err(format!("Library {} already exists", lib.name));
            }
            if let Some(old) = store.unlink(&lib.name) {
                replaced.push(old);
            }
        }
    }
    let collision = staged
        .iter()
        .flat_map(|lib| lib.functions.iter())
        .find(|f| store.index.contains_key(&f.name.to_lowercase()))
        .map(|f| f.name.clone());
    if let Some(name) = collision {
        for old in replaced {
            store.link(old);
        }
        discard(store, &staged);
        return Err(format!("Function {name} already exists"));
    }
    for lib in staged {
        store.link(lib);
    }
    for old in replaced {
        store.unref(&old.functions);
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}
