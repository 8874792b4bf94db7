//! The sandbox every script runs in: which globals exist, and the read-only protection of
//! everything reachable from them.
//!
//! Redis patches its Lua VM with read-only tables. We run stock Lua 5.1, so protection is
//! built from proxies: every table reachable from the globals (the libraries, `redis`, the
//! string metatable…) is replaced by an empty proxy whose metatable reads through to the
//! real table (`__index`) and refuses writes (`__newindex` raises "Attempt to modify a
//! readonly table"). The builtins that bypass metatables are replaced by versions that see
//! through proxies for reading and refuse them for writing: `rawset`, `rawget`, `next`,
//! `pairs`, `ipairs`, `unpack`, `setmetatable`, `getmetatable`, `table.insert`. Scripts never get a reference to a real protected table: the
//! globals they see (`_G`, their environment, the thread's globals) are a proxy too, and
//! `getfenv`, `setfenv`, `newproxy`, `debug`, `print`, `dofile`, `loadfile` do not exist (as in
//! the reference redis-server 7.0.15 build). `loadstring` and `load` only compile text, so
//! precompiled bytecode cannot be loaded.
//!
//! Reading a global that does not exist raises "Script attempted to access nonexistent
//! global variable", as Redis's globals metatable does.

use std::ffi::{c_int, CStr, CString};

use super::lua::{self, ffi, lua_callback, State};

/// Registry keys (their addresses are the keys).
static RO_REAL: u8 = 0;
static RO_PROXY: u8 = 0;
static RO_META: u8 = 0;
/// The real globals table of a VM.
pub static REAL_GLOBALS: u8 = 0;
/// The metatable of the globals proxy (its `__index` selects what scripts see).
pub static GLOBALS_META: u8 = 0;
/// Redis's error handler, kept where scripts cannot reach it.
pub static ERROR_HANDLER: u8 = 0;

pub const READONLY_ERROR: &str = "Attempt to modify a readonly table";

/// Runs an API call that may raise a Lua error (longjmp) from inside a callback: the memory
/// limit is enforced again first, as it must be for any Lua code that runs.
///
/// # Safety
/// No Rust value with a destructor may be live in the callback frame when `f` may raise.
pub unsafe fn raising<R>(l: State, f: impl FnOnce() -> R) -> R {
    let sh = lua::shared(l);
    let soft = sh.soft.replace(false);
    let r = f();
    sh.soft.set(soft);
    r
}

/// Pushes luaL_argerror's message for argument `narg` of the running C function.
pub unsafe fn push_arg_error(l: State, mut narg: c_int, extramsg: &str) {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    if ffi::lua_getstack(l, 0, &mut ar) == 0 {
        lua::push_error_at(l, 1, &format!("bad argument #{narg} ({extramsg})"));
        return;
    }
    ffi::lua_getinfo(l, c"n".as_ptr(), &mut ar);
    let namewhat = cstr(ar.namewhat);
    let name = if ar.name.is_null() { "?".to_string() } else { cstr(ar.name) };
    if namewhat == "method" {
        narg -= 1;
        if narg == 0 {
            lua::push_error_at(l, 1, &format!("calling '{name}' on bad self ({extramsg})"));
            return;
        }
    }
    lua::push_error_at(l, 1, &format!("bad argument #{narg} to '{name}' ({extramsg})"));
}

/// Pushes luaL_typerror's message.
pub unsafe fn push_type_error(l: State, narg: c_int, expected: &str) {
    let got = type_name(l, narg);
    push_arg_error(l, narg, &format!("{expected} expected, got {got}"));
}

pub unsafe fn type_name(l: State, idx: c_int) -> String {
    cstr(ffi::lua_typename(l, ffi::lua_type(l, idx)))
}

pub unsafe fn cstr(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// luaL_checktype.
pub unsafe fn check_type(l: State, narg: c_int, t: c_int) -> Result<(), ()> {
    if ffi::lua_type(l, narg) != t {
        push_type_error(l, narg, &cstr(ffi::lua_typename(l, t)));
        return Err(());
    }
    Ok(())
}

/// luaL_checkany.
pub unsafe fn check_any(l: State, narg: c_int) -> Result<(), ()> {
    if ffi::lua_type(l, narg) == ffi::LUA_TNONE {
        push_arg_error(l, narg, "value expected");
        return Err(());
    }
    Ok(())
}

/// luaL_checknumber (strings convertible to numbers are accepted).
pub unsafe fn check_number(l: State, narg: c_int) -> Result<f64, ()> {
    let n = ffi::lua_tonumber(l, narg);
    if n == 0.0 && ffi::lua_isnumber(l, narg) == 0 {
        push_type_error(l, narg, "number");
        return Err(());
    }
    Ok(n)
}

/// luaL_optnumber.
pub unsafe fn opt_number(l: State, narg: c_int, default: f64) -> Result<f64, ()> {
    if ffi::lua_isnoneornil(l, narg) != 0 {
        Ok(default)
    } else {
        check_number(l, narg)
    }
}

/// luaL_checkint.
pub unsafe fn check_int(l: State, narg: c_int) -> Result<i32, ()> {
    check_number(l, narg).map(lua::number_to_i32)
}

/// luaL_checklstring.
pub unsafe fn check_bytes<'a>(l: State, narg: c_int) -> Result<&'a [u8], ()> {
    match lua::to_bytes(l, narg) {
        Some(b) => Ok(b),
        None => {
            push_type_error(l, narg, "string");
            Err(())
        }
    }
}

/// Whether the value at `idx` is a read-only proxy.
pub unsafe fn is_proxy(l: State, idx: c_int) -> bool {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return false;
    }
    let idx = ffi::lua_absindex(l, idx);
    lua::registry_get(l, &RO_REAL);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    let found = ffi::lua_type(l, -1) != ffi::LUA_TNIL;
    ffi::lua_pop(l, 2);
    found
}

/// Replaces the proxy at `idx` by the real table it stands for (no-op for other values).
unsafe fn unwrap_proxy(l: State, idx: c_int) {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return;
    }
    let idx = ffi::lua_absindex(l, idx);
    lua::registry_get(l, &RO_REAL);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
    } else {
        ffi::lua_pop(l, 2);
    }
}

/// Pushes the proxy of the real table at `idx`, if it has one; returns whether it pushed.
unsafe fn push_proxy_of(l: State, idx: c_int) -> bool {
    let idx = ffi::lua_absindex(l, idx);
    lua::registry_get(l, &RO_PROXY);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    ffi::lua_remove(l, -2);
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        true
    } else {
        ffi::lua_pop(l, 1);
        false
    }
}

lua_callback! {
    /// `__newindex` of every proxy.
    fn readonly_newindex(l) {
        lua::push_error_at(l, 1, READONLY_ERROR);
        Err(())
    }
}

lua_callback! {
    /// `__index` of the real globals: reading a global that does not exist is an error.
    pub fn missing_global(l) {
        if ffi::lua_gettop(l) != 2 {
            lua::push_error_at(l, 1, "Wrong number of arguments to luaProtectedTableError");
            return Err(());
        }
        let t = ffi::lua_type(l, -1);
        if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
            lua::push_error_at(l, 1, "Second argument to luaProtectedTableError must be a string or number");
            return Err(());
        }
        let name = lua::to_str_lossy(l, -1);
        lua::push_error_at(l, 1, &format!("Script attempted to access nonexistent global variable '{name}'"));
        Err(())
    }
}

/// Gives the table at `idx` Redis's "nonexistent global variable" metatable.
pub unsafe fn set_error_metatable(l: State, idx: c_int) {
    let idx = ffi::lua_absindex(l, idx);
    ffi::lua_newtable(l);
    lua::set_fn(l, "__index", missing_global);
    ffi::lua_setmetatable(l, idx);
}

/// Pushes a read-only proxy for the table at `idx`, protecting everything reachable from it
/// first: table values are replaced by their proxies in place, metatables are protected.
/// Returns the existing proxy for tables seen before (cycles, shared tables).
pub unsafe fn protect(l: State, idx: c_int) {
    let idx = ffi::lua_absindex(l, idx);
    ffi::lua_checkstack(l, 8);
    if is_proxy(l, idx) || push_proxy_of(l, idx) {
        if is_proxy(l, idx) {
            ffi::lua_pushvalue(l, idx);
        }
        return;
    }
    // The proxy, registered before descending so cycles find it.
    ffi::lua_newtable(l);
    let proxy = ffi::lua_gettop(l);
    lua::registry_get(l, &RO_PROXY);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_pushvalue(l, proxy);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    lua::registry_get(l, &RO_REAL);
    ffi::lua_pushvalue(l, proxy);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    // Table values become proxies (assigning existing fields during traversal is allowed).
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, idx) != 0 {
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            protect(l, -1);
            if ffi::lua_rawequal(l, -1, -2) == 0 {
                ffi::lua_pushvalue(l, -3);
                ffi::lua_pushvalue(l, -2);
                ffi::lua_rawset(l, idx);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
    if ffi::lua_getmetatable(l, idx) != 0 {
        protect(l, -1);
        ffi::lua_pop(l, 2);
    }
    // The proxy's own metatable: read through, refuse writes.
    ffi::lua_newtable(l);
    ffi::lua_pushvalue(l, idx);
    lua::raw_set_field(l, -2, "__index");
    lua::set_fn(l, "__newindex", readonly_newindex);
    ffi::lua_setmetatable(l, proxy);
}

/// Creates the globals proxy scripts see: its metatable's `__index` is the proxy of the
/// table at `target` (replaceable later through [`set_globals_target`]).
pub unsafe fn install_globals_proxy(l: State, real_globals: c_int, target_proxy: c_int) {
    let real_globals = ffi::lua_absindex(l, real_globals);
    let target_proxy = ffi::lua_absindex(l, target_proxy);
    ffi::lua_newtable(l); // the proxy E
    let e = ffi::lua_gettop(l);
    ffi::lua_newtable(l); // its metatable ME
    let me = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, target_proxy);
    lua::raw_set_field(l, me, "__index");
    lua::set_fn(l, "__newindex", readonly_newindex);
    ffi::lua_pushvalue(l, me);
    ffi::lua_setmetatable(l, e);
    // E reads (rawget, next) as the real globals; getmetatable(E) shows a protected ME.
    lua::registry_get(l, &RO_REAL);
    ffi::lua_pushvalue(l, e);
    ffi::lua_pushvalue(l, real_globals);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    lua::registry_get(l, &RO_META);
    ffi::lua_pushvalue(l, e);
    ffi::lua_pushvalue(l, me);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    protect(l, me);
    ffi::lua_pop(l, 1);
    ffi::lua_pushvalue(l, me);
    lua::registry_set(l, &GLOBALS_META);
    // `_G` is the proxy, and so are the thread's globals (new chunks and coroutines).
    ffi::lua_pushvalue(l, e);
    lua::raw_set_field(l, real_globals, "_G");
    ffi::lua_pushvalue(l, e);
    ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
    ffi::lua_pop(l, 2);
}

/// Points the globals proxy at another (protected) table: the library API during FUNCTION
/// LOAD, the globals otherwise. The table is on top of the stack (popped).
pub unsafe fn set_globals_target(l: State) {
    lua::registry_get(l, &GLOBALS_META);
    ffi::lua_insert(l, -2);
    lua::raw_set_field(l, -2, "__index");
    ffi::lua_pop(l, 1);
}

// --- The builtins that must see through proxies -------------------------------------------

lua_callback! {
    fn sb_rawset(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        check_any(l, 2)?;
        check_any(l, 3)?;
        if is_proxy(l, 1) {
            lua::push_str(l, READONLY_ERROR);
            return Err(());
        }
        ffi::lua_settop(l, 3);
        raising(l, || ffi::lua_rawset(l, 1));
        Ok(1)
    }
}

lua_callback! {
    fn sb_rawget(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        check_any(l, 2)?;
        ffi::lua_settop(l, 2);
        unwrap_proxy(l, 1);
        ffi::lua_rawget(l, 1);
        Ok(1)
    }
}

lua_callback! {
    fn sb_next(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        ffi::lua_settop(l, 2);
        unwrap_proxy(l, 1);
        if raising(l, || ffi::lua_next(l, 1)) != 0 {
            Ok(2)
        } else {
            ffi::lua_pushnil(l);
            Ok(1)
        }
    }
}

lua_callback! {
    fn sb_pairs(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        ffi::lua_pushcfunction(l, sb_next);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_pushnil(l);
        Ok(3)
    }
}

lua_callback! {
    fn sb_ipairs_aux(l) {
        let i = check_int(l, 2)? as i64 + 1;
        check_type(l, 1, ffi::LUA_TTABLE)?;
        unwrap_proxy(l, 1);
        ffi::lua_pushinteger(l, i as ffi::lua_Integer);
        ffi::lua_rawgeti(l, 1, i as ffi::lua_Integer);
        Ok(if ffi::lua_isnil(l, -1) != 0 { 0 } else { 2 })
    }
}

lua_callback! {
    fn sb_ipairs(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        ffi::lua_pushcfunction(l, sb_ipairs_aux);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_pushinteger(l, 0);
        Ok(3)
    }
}

lua_callback! {
    /// `unpack` with overflow-safe range arithmetic (huge ranges are refused, never
    /// attempted).
    fn sb_unpack(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        unwrap_proxy(l, 1);
        let i = if ffi::lua_isnoneornil(l, 2) != 0 { 1 } else { check_int(l, 2)? } as i64;
        let e = if ffi::lua_isnoneornil(l, 3) != 0 { ffi::lua_objlen(l, 1) as i64 } else { check_int(l, 3)? as i64 };
        if i > e {
            return Ok(0);
        }
        let n = e - i + 1;
        if n <= 0 || n >= i32::MAX as i64 || ffi::lua_checkstack(l, n as c_int) == 0 {
            lua::push_error_at(l, 1, "too many results to unpack");
            return Err(());
        }
        for k in i..=e {
            ffi::lua_rawgeti(l, 1, k as ffi::lua_Integer);
        }
        Ok(n as c_int)
    }
}

lua_callback! {
    fn sb_setmetatable(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        let t = ffi::lua_type(l, 2);
        if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
            push_arg_error(l, 2, "nil or table expected");
            return Err(());
        }
        if is_proxy(l, 1) {
            lua::push_str(l, READONLY_ERROR);
            return Err(());
        }
        if ffi::lua_getmetatable(l, 1) != 0 {
            let protected = lua::raw_get_field(l, -1, "__metatable") != ffi::LUA_TNIL;
            ffi::lua_pop(l, 2);
            if protected {
                lua::push_error_at(l, 1, "cannot change a protected metatable");
                return Err(());
            }
        }
        ffi::lua_settop(l, 2);
        ffi::lua_setmetatable(l, 1);
        Ok(1)
    }
}

lua_callback! {
    fn sb_getmetatable(l) {
        check_any(l, 1)?;
        ffi::lua_settop(l, 1);
        if is_proxy(l, 1) {
            lua::registry_get(l, &RO_META);
            ffi::lua_pushvalue(l, 1);
            ffi::lua_rawget(l, -2);
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                if !push_proxy_of(l, -1) {
                    ffi::lua_pushnil(l);
                }
                return Ok(1);
            }
            ffi::lua_pop(l, 2);
            unwrap_proxy(l, 1);
            if ffi::lua_getmetatable(l, 1) == 0 {
                ffi::lua_pushnil(l);
                return Ok(1);
            }
            if !push_proxy_of(l, -1) {
                ffi::lua_pushnil(l);
            }
            return Ok(1);
        }
        if ffi::lua_getmetatable(l, 1) == 0 {
            ffi::lua_pushnil(l);
            return Ok(1);
        }
        if lua::raw_get_field(l, -1, "__metatable") != ffi::LUA_TNIL {
            return Ok(1);
        }
        ffi::lua_pop(l, 1);
        if push_proxy_of(l, -1) {
            return Ok(1);
        }
        Ok(1)
    }
}

lua_callback! {
    fn sb_loadstring(l) {
        let code = check_bytes(l, 1)?.to_vec();
        let name = match lua::to_bytes(l, 2) {
            Some(b) if ffi::lua_isnoneornil(l, 2) == 0 => b.to_vec(),
            _ => code.clone(),
        };
        let name = c_name(&name);
        if lua::load_text(l, &code, &name) {
            Ok(1)
        } else {
            ffi::lua_pushnil(l);
            ffi::lua_insert(l, -2);
            Ok(2)
        }
    }
}

lua_callback! {
    fn sb_load(l) {
        let name = if ffi::lua_isnoneornil(l, 2) != 0 { b"=(load)".to_vec() } else { check_bytes(l, 2)?.to_vec() };
        check_type(l, 1, ffi::LUA_TFUNCTION)?;
        let mut code = Vec::new();
        loop {
            ffi::lua_pushvalue(l, 1);
            let status = raising(l, || ffi::lua_pcall(l, 0, 1, 0));
            if status != 0 {
                return Err(());
            }
            match ffi::lua_type(l, -1) {
                ffi::LUA_TNIL => break,
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                    let piece = lua::to_bytes(l, -1).unwrap_or_default();
                    if piece.is_empty() {
                        break;
                    }
                    code.extend_from_slice(piece);
                    ffi::lua_pop(l, 1);
                }
                _ => {
                    ffi::lua_pop(l, 1);
                    ffi::lua_pushnil(l);
                    lua::push_str(l, "reader function must return a string");
                    return Ok(2);
                }
            }
        }
        ffi::lua_settop(l, 2);
        if lua::load_text(l, &code, &c_name(&name)) {
            Ok(1)
        } else {
            ffi::lua_pushnil(l);
            ffi::lua_insert(l, -2);
            Ok(2)
        }
    }
}

/// A chunk name as C sees it: up to the first NUL.
fn c_name(name: &[u8]) -> CString {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    CString::new(&name[..end]).unwrap_or_default()
}

lua_callback! {
    /// `table.insert`, refusing read-only tables (it writes with `lua_rawseti`, which no
    /// metatable can stop). The other table functions only write within `#t`, which is 0 for
    /// a proxy.
    fn sb_table_insert(l) {
        check_type(l, 1, ffi::LUA_TTABLE)?;
        let mut e = ffi::lua_objlen(l, 1) as i64 + 1;
        let pos = match ffi::lua_gettop(l) {
            2 => e,
            3 => {
                let pos = check_int(l, 2)? as i64;
                if pos > e {
                    e = pos;
                }
                pos
            }
            _ => {
                lua::push_error_at(l, 1, "wrong number of arguments to 'insert'");
                return Err(());
            }
        };
        if is_proxy(l, 1) {
            lua::push_str(l, READONLY_ERROR);
            return Err(());
        }
        let mut i = e;
        while i > pos {
            ffi::lua_rawgeti(l, 1, (i - 1) as ffi::lua_Integer);
            ffi::lua_rawseti(l, 1, i as ffi::lua_Integer);
            i -= 1;
        }
        ffi::lua_rawseti(l, 1, pos as ffi::lua_Integer);
        Ok(0)
    }
}

lua_callback! {
    /// Redis's `pcall`: like Lua's, but an error table `{err=…}` (what redis.call raises)
    /// comes back as its message string, as in Redis 6.
    fn redis_pcall(l) {
        let argc = ffi::lua_gettop(l);
        if argc == 0 {
            check_any(l, 1)?;
        }
        ffi::lua_pushboolean(l, 1);
        ffi::lua_insert(l, 1);
        let status = raising(l, || ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0));
        if status != 0 {
            ffi::lua_remove(l, 1);
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                if lua::raw_get_field(l, -1, "err") == ffi::LUA_TSTRING {
                    ffi::lua_replace(l, -2);
                } else {
                    ffi::lua_pop(l, 1);
                }
            }
            ffi::lua_pushboolean(l, 0);
            ffi::lua_insert(l, 1);
        }
        Ok(ffi::lua_gettop(l))
    }
}

lua_callback! {
    /// Redis's error handler (`__redis__err__handler`): turns any error into a table
    /// `{err=…, source=…, line=…}` describing where the script failed (the caller's position
    /// when the error comes from a C function).
    pub fn error_handler(l) {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut have = ffi::lua_getstack(l, 1, &mut ar) != 0 && ffi::lua_getinfo(l, c"nSl".as_ptr(), &mut ar) != 0;
        if have && cstr(ar.what) == "C" {
            ar = std::mem::zeroed();
            have = ffi::lua_getstack(l, 2, &mut ar) != 0 && ffi::lua_getinfo(l, c"nSl".as_ptr(), &mut ar) != 0;
        }
        ffi::lua_settop(l, 1);
        if ffi::lua_type(l, 1) != ffi::LUA_TTABLE || is_proxy(l, 1) {
            let text = display(l, 1);
            ffi::lua_newtable(l);
            let mut msg = b"ERR ".to_vec();
            msg.extend_from_slice(&text);
            lua::set_string(l, "err", &msg);
            ffi::lua_replace(l, 1);
        }
        if have {
            lua::set_string(l, "source", cstr(ar.source).as_bytes());
            ffi::lua_pushinteger(l, ar.currentline as ffi::lua_Integer);
            lua::raw_set_field(l, 1, "line");
        }
        Ok(1)
    }
}

/// `tostring(v)` for an error value (no metamethods: error values are shown plainly).
unsafe fn display(l: State, idx: c_int) -> Vec<u8> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => lua::to_bytes(l, idx).unwrap_or_default().to_vec(),
        ffi::LUA_TNUMBER => lua::format_g14(ffi::lua_tonumber(l, idx)).into_bytes(),
        ffi::LUA_TNIL => b"nil".to_vec(),
        ffi::LUA_TBOOLEAN => {
            if ffi::lua_toboolean(l, idx) != 0 {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }
        }
        t => {
            let name = cstr(ffi::lua_typename(l, t));
            format!("{}: {:p}", name, ffi::lua_topointer(l, idx)).into_bytes()
        }
    }
}

/// Opens Lua's own libraries that Redis exposes.
unsafe fn open_lua_libs(l: State) {
    let libs: [(ffi::lua_CFunction, &CStr); 4] = [
        (ffi::luaopen_base, c""),
        (ffi::luaopen_table, c"table"),
        (ffi::luaopen_string, c"string"),
        (ffi::luaopen_math, c"math"),
    ];
    for (open, name) in libs {
        ffi::lua_pushcfunction(l, open);
        ffi::lua_pushstring(l, name.as_ptr());
        ffi::lua_call(l, 1, 0);
    }
}

/// Loads the libraries and replaces the builtins, in the real globals (the thread's globals
/// while the VM is being built).
pub unsafe fn install_base(l: State) {
    for key in [&RO_REAL, &RO_PROXY, &RO_META] {
        ffi::lua_newtable(l);
        lua::registry_set(l, key);
    }
    open_lua_libs(l);
    super::cjson::open(l);
    super::structlib::open(l);
    super::cmsgpack::open(l);
    super::bit::open(l);
    for name in ["dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"] {
        ffi::lua_pushnil(l);
        lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, name);
    }
    let overrides: [(&str, ffi::lua_CFunction); 11] = [
        ("pcall", redis_pcall),
        ("rawset", sb_rawset),
        ("rawget", sb_rawget),
        ("next", sb_next),
        ("pairs", sb_pairs),
        ("ipairs", sb_ipairs),
        ("unpack", sb_unpack),
        ("setmetatable", sb_setmetatable),
        ("getmetatable", sb_getmetatable),
        ("loadstring", sb_loadstring),
        ("load", sb_load),
    ];
    for (name, f) in overrides {
        ffi::lua_pushcfunction(l, f);
        lua::raw_set_field(l, ffi::LUA_GLOBALSINDEX, name);
    }
    lua::raw_get_field(l, ffi::LUA_GLOBALSINDEX, "table");
    lua::set_fn(l, "insert", sb_table_insert);
    ffi::lua_pop(l, 1);
    lua::raw_get_field(l, ffi::LUA_GLOBALSINDEX, "math");
    lua::set_fn(l, "random", super::api::math_random);
    lua::set_fn(l, "randomseed", super::api::math_randomseed);
    ffi::lua_pop(l, 1);
    ffi::lua_pushcfunction(l, error_handler);
    lua::registry_set(l, &ERROR_HANDLER);
}

/// Protects the string metatable (shared by every string value).
pub unsafe fn protect_string_metatable(l: State) {
    lua::push_str(l, "");
    if ffi::lua_getmetatable(l, -1) != 0 {
        protect(l, -1);
        ffi::lua_pop(l, 2);
    }
    ffi::lua_pop(l, 1);
}
