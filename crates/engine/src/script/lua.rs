//! A thin layer over the Lua 5.1 C API (mlua-sys, vendored): state creation with our
//! allocator, stack helpers, and the rules every Rust function called from Lua follows.
//!
//! We use the raw API rather than a safe wrapper because Redis's scripting semantics need it:
//! errors are Lua *tables* (`{err=…}`) raised from C functions and caught by Redis's `pcall`,
//! the error handler reads the stack with `lua_getstack`, the timeout hook re-arms itself, and
//! replies are converted with Lua's own stack limit (`reached lua stack limit`).
//!
//! Rules for callbacks (`extern "C-unwind" fn(*mut lua_State) -> c_int`), enforced by
//! [`callback`]:
//! - The body runs inside `catch_unwind`; a panic becomes a Lua error, never an unwind
//!   through C frames.
//! - A Lua error is raised (`lua_error`, a longjmp) only by the outer wrapper, after the
//!   body returned and every Rust value it owned was dropped.
//! - While a callback runs, the allocator does not enforce the memory limit (it is "soft"),
//!   so the Lua API calls a callback makes cannot fail with a memory error and longjmp over
//!   Rust frames. The limit is enforced again as soon as Lua code runs.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};

pub use mlua_sys as ffi;

pub type State = *mut ffi::lua_State;

/// Allocation alignment for Lua blocks (Lua needs the platform's max alignment).
const ALIGN: usize = 16;

/// Per-VM data reachable from any callback through the allocator's user data: memory
/// accounting and the current script run.
pub struct VmShared {
    /// Bytes currently allocated by this VM.
    pub used: Cell<usize>,
    /// Refuse allocations that would pass this many bytes (outside callbacks).
    pub limit: Cell<usize>,
    /// While true (inside a Rust callback) the limit is not enforced.
    pub soft: Cell<bool>,
    /// The script run in progress (`super::run::RunCtx`), or null.
    pub run: Cell<*mut c_void>,
    /// The FUNCTION LOAD in progress (`super::functions::LoadCtx`), or null.
    pub load: Cell<*mut c_void>,
}

impl VmShared {
    pub fn new(limit: usize) -> Box<VmShared> {
        Box::new(VmShared {
            used: Cell::new(0),
            limit: Cell::new(limit),
            soft: Cell::new(false),
            run: Cell::new(std::ptr::null_mut()),
            load: Cell::new(std::ptr::null_mut()),
        })
    }
}

/// Lua's allocation function: Rust's global allocator (so INFO's used_memory counts Lua
/// memory, as Redis's zmalloc does), with accounting and the limit.
unsafe extern "C-unwind" fn allocate(ud: *mut c_void, ptr: *mut c_void, osize: usize, nsize: usize) -> *mut c_void {
    // SAFETY: `ud` is the VmShared boxed by `Vm::new`, alive as long as the state.
    let shared = &*(ud as *const VmShared);
    if nsize == 0 {
        if !ptr.is_null() && osize > 0 {
            std::alloc::dealloc(ptr as *mut u8, std::alloc::Layout::from_size_align_unchecked(osize, ALIGN));
            shared.used.set(shared.used.get().saturating_sub(osize));
        }
        return std::ptr::null_mut();
    }
    let old = if ptr.is_null() { 0 } else { osize };
    let new_used = shared.used.get() - old + nsize;
    if nsize > old && new_used > shared.limit.get() && !shared.soft.get() {
        return std::ptr::null_mut();
    }
    let Ok(layout) = std::alloc::Layout::from_size_align(nsize, ALIGN) else { return std::ptr::null_mut() };
    let p = if ptr.is_null() || old == 0 {
        std::alloc::alloc(layout)
    } else {
        std::alloc::realloc(ptr as *mut u8, std::alloc::Layout::from_size_align_unchecked(old, ALIGN), nsize)
    };
    if p.is_null() {
        return std::ptr::null_mut();
    }
    shared.used.set(new_used);
    p as *mut c_void
}

/// Lua's last resort when an error happens outside any protected call: we never call the API
/// unprotected in a way that can fail, so this only logs.
unsafe extern "C-unwind" fn panic_handler(l: State) -> c_int {
    let msg = to_str_lossy(l, -1);
    crate::log::warning(&format!("Lua panic: {msg}"));
    0
}

/// Creates a state whose allocator reports to `shared`.
///
/// # Safety
/// `shared` must outlive the state.
pub unsafe fn new_state(shared: &VmShared) -> State {
    let l = ffi::lua_newstate(allocate, shared as *const VmShared as *mut c_void);
    if !l.is_null() {
        ffi::lua_atpanic(l, panic_handler);
    }
    l
}

/// The VmShared of the state `l` belongs to.
///
/// # Safety
/// `l` must be a state created by [`new_state`] (or a thread of one).
pub unsafe fn shared<'a>(l: State) -> &'a VmShared {
    let mut ud: *mut c_void = std::ptr::null_mut();
    ffi::lua_getallocf(l, &mut ud);
    &*(ud as *const VmShared)
}

/// The outcome of a callback body: `Ok(n)` returns `n` values; `Err(())` raises the value
/// the body left on top of the stack.
pub type CbResult = Result<c_int, ()>;

/// Runs a callback body with the rules of this module (see the module docs).
///
/// # Safety
/// `l` must be a state created by [`new_state`] (or one of its threads).
pub unsafe fn callback(l: State, body: impl FnOnce(State) -> CbResult) -> c_int {
    let sh = shared(l);
    let was_soft = sh.soft.replace(true);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(l)));
    sh.soft.set(was_soft);
    match outcome {
        Ok(Ok(n)) => n,
        Ok(Err(())) => ffi::lua_error(l),
        Err(_) => {
            push_str(l, "internal error in a Redis Lua library function");
            ffi::lua_error(l)
        }
    }
}

/// Declares a Lua C function whose body follows the [`callback`] rules.
macro_rules! lua_callback {
    ($(#[$m:meta])* $vis:vis fn $name:ident($l:ident) $body:block) => {
        $(#[$m])*
        $vis unsafe extern "C-unwind" fn $name($l: $crate::script::lua::State) -> std::ffi::c_int {
            $crate::script::lua::callback($l, |$l| $body)
        }
    };
}
pub(crate) use lua_callback;

pub unsafe fn push_bytes(l: State, b: &[u8]) {
    ffi::lua_pushlstring(l, b.as_ptr() as *const c_char, b.len());
}

pub unsafe fn push_str(l: State, s: &str) {
    push_bytes(l, s.as_bytes());
}

/// The bytes of the string (or number, converted in place) at `idx`.
pub unsafe fn to_bytes<'a>(l: State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

/// The bytes at `idx` only if it is really a string (no number conversion).
pub unsafe fn string_at<'a>(l: State, idx: c_int) -> Option<&'a [u8]> {
    if ffi::lua_type(l, idx) == ffi::LUA_TSTRING {
        to_bytes(l, idx)
    } else {
        None
    }
}

pub unsafe fn to_str_lossy(l: State, idx: c_int) -> String {
    to_bytes(l, idx).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

/// `t[name] = value on top` (raw), where `t` is at `idx` (not relative to the pushed value).
pub unsafe fn raw_set_field(l: State, idx: c_int, name: &str) {
    let idx = ffi::lua_absindex(l, idx);
    push_str(l, name);
    ffi::lua_insert(l, -2);
    ffi::lua_rawset(l, idx);
}

/// Pushes `t[name]` (raw) for the table at `idx`; returns its type.
pub unsafe fn raw_get_field(l: State, idx: c_int, name: &str) -> c_int {
    let idx = ffi::lua_absindex(l, idx);
    push_str(l, name);
    ffi::lua_rawget(l, idx);
    ffi::lua_type(l, -1)
}

/// Registers `f` as `t[name]` for the table on top of the stack.
pub unsafe fn set_fn(l: State, name: &str, f: ffi::lua_CFunction) {
    ffi::lua_pushcfunction(l, f);
    raw_set_field(l, -2, name);
}

/// Sets `t[name] = n` for the table on top of the stack.
pub unsafe fn set_number(l: State, name: &str, n: f64) {
    ffi::lua_pushnumber(l, n);
    raw_set_field(l, -2, name);
}

/// Sets `t[name] = s` for the table on top of the stack.
pub unsafe fn set_string(l: State, name: &str, s: &[u8]) {
    push_bytes(l, s);
    raw_set_field(l, -2, name);
}

/// Pushes a registry value stored under a static key (the key's address).
pub unsafe fn registry_get(l: State, key: &'static u8) {
    ffi::lua_pushlightuserdata(l, key as *const u8 as *mut c_void);
    ffi::lua_rawget(l, ffi::LUA_REGISTRYINDEX);
}

/// Stores the value on top of the stack in the registry under a static key (pops it).
pub unsafe fn registry_set(l: State, key: &'static u8) {
    ffi::lua_pushlightuserdata(l, key as *const u8 as *mut c_void);
    ffi::lua_insert(l, -2);
    ffi::lua_rawset(l, ffi::LUA_REGISTRYINDEX);
}

/// Compiles `code` as a text chunk named `name`, refusing precompiled bytecode the way
/// Redis's Lua does (its parser never takes the binary path, so a chunk starting with
/// ESC is a syntax error "unexpected symbol near 'char(27)'"). Pushes the function or the
/// error message; returns whether it compiled.
pub unsafe fn load_text(l: State, code: &[u8], name: &CStr) -> bool {
    let status = if code.first() == Some(&0x1b) {
        // A leading space sends the buffer to the text parser without changing any line
        // number or the chunk name, which is what Redis's patched loader does.
        let mut text = Vec::with_capacity(code.len() + 1);
        text.push(b' ');
        text.extend_from_slice(code);
        ffi::luaL_loadbuffer(l, text.as_ptr() as *const c_char, text.len(), name.as_ptr())
    } else {
        ffi::luaL_loadbuffer(l, code.as_ptr() as *const c_char, code.len(), name.as_ptr())
    };
    status == 0
}

/// Casts a Lua number to a C `long long` the way x86-64's `cvttsd2si` does (Redis does a
/// plain C cast): NaN and out-of-range values become `i64::MIN`.
pub fn number_to_i64(n: f64) -> i64 {
    if n.is_nan() || n >= 9_223_372_036_854_775_808.0 || n < -9_223_372_036_854_775_808.0 {
        i64::MIN
    } else {
        n as i64
    }
}

/// C's `(int)` cast of a Lua number, as `lua_tointeger`/`luaL_checkint` do on x86-64.
pub fn number_to_i32(n: f64) -> i32 {
    if n.is_nan() || n >= 2_147_483_648.0 || n < -2_147_483_648.0 {
        i32::MIN
    } else {
        n as i32
    }
}

/// `luaL_where(L, level)` as a string ("user_script:1: " or "").
pub unsafe fn where_prefix(l: State, level: c_int) -> Vec<u8> {
    ffi::luaL_where(l, level);
    let s = to_bytes(l, -1).map(|b| b.to_vec()).unwrap_or_default();
    ffi::lua_pop(l, 1);
    s
}

/// Pushes an error message with the position of the Lua code at `level` (luaL_error).
pub unsafe fn push_error_at(l: State, level: c_int, msg: &str) {
    let mut text = where_prefix(l, level);
    text.extend_from_slice(msg.as_bytes());
    push_bytes(l, &text);
}

/// Formats a double like C's `%.17g` (how Redis passes Lua numbers to commands).
pub fn format_g17(n: f64) -> Vec<u8> {
    let mut buf = [0u8; 32];
    let len = spinel_resp::write::format_g17(n, &mut buf);
    buf[..len].to_vec()
}

/// Formats a double like C's `%.14g` (Lua's own number to string conversion).
pub fn format_g14(n: f64) -> String {
    format_g(n, 14)
}

/// C's `%.{prec}g`.
pub fn format_g(n: f64, prec: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let prec = prec.max(1);
    let exp = format!("{:.*e}", prec - 1, n);
    let (mantissa, e) = exp.split_once('e').unwrap_or((&exp, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if e < -4 || e >= prec as i32 {
        let m = trim_zeros(mantissa);
        format!("{}e{}{:02}", m, if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (prec as i32 - 1 - e).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, n)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_formats_like_c() {
        assert_eq!(format_g(0.1, 14), "0.1");
        assert_eq!(format_g(100.0, 14), "100");
        assert_eq!(format_g(1e20, 14), "1e+20");
        assert_eq!(format_g(0.0003, 14), "0.0003");
        assert_eq!(format_g(0.00003, 14), "3e-05");
        assert_eq!(format_g(1023.2, 14), "1023.2");
        assert_eq!(format_g(-5000.0, 14), "-5000");
        assert_eq!(format_g(123456789012345.0, 14), "1.2345678901234e+14");
    }

    #[test]
    fn casts_like_x86() {
        assert_eq!(number_to_i64(1e300), i64::MIN);
        assert_eq!(number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(number_to_i64(-1.9), -1);
        assert_eq!(number_to_i32(-2147483648.0), i32::MIN);
        assert_eq!(number_to_i32(3e9), i32::MIN);
    }
}

/// Bytes the VM may still allocate before its limit. Library functions that build a large
/// result in Rust check it first, so a script cannot make them exceed the limit.
pub unsafe fn budget(l: State) -> usize {
    let sh = shared(l);
    sh.limit.get().saturating_sub(sh.used.get())
}

/// Pushes the message of a Lua memory error.
pub unsafe fn push_memory_error(l: State) {
    push_str(l, "not enough memory");
}
