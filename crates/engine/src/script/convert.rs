//! Type conversion between command replies and Lua values, exactly as Redis does it.
//!
//! Redis encodes a command's reply in the script client's protocol (RESP2 by default,
//! RESP3 after `redis.setresp(3)`) and parses it back into Lua; we convert our RESP3-shaped
//! [`Reply`] directly, choosing per variant what that round trip would give:
//!
//! | reply | RESP2 script | RESP3 script |
//! |---|---|---|
//! | integer | number | number |
//! | bulk | string | string |
//! | null bulk / null array | false | nil |
//! | status | `{ok=…}` | `{ok=…}` |
//! | error | `{err=…}` | `{err=…}` |
//! | array | table | table |
//! | map | flat table | `{map={k=v…}}` |
//! | set | table | `{set={member=true…}}` |
//! | double | string | `{double=n}` |
//! | boolean | 1 / 0 | true / false |
//! | big number | string | `{big_number=…}` |
//! | verbatim | string | `{verbatim_string={format=…, string=…}}` |
//!
//! The other direction (a script's return value to the caller's reply) follows
//! luaReplyToRedisReply: numbers are truncated to integers, `false` is a null, tables with an
//! `err`, `ok`, `double`, `big_number`, `verbatim_string`, `map` or `set` field become those
//! replies, other tables arrays up to their first nil. Each nested table needs Lua stack
//! room, so a self-referencing table ends with "reached lua stack limit" as in Redis.

use std::ffi::c_int;

use super::lua::{self, ffi, State};
use crate::error::{err, Error};
use crate::reply::Reply;

/// Redis's luaPushErrorBuff: `text` is "-CODE message" or "message" (code ERR). Pushes
/// `{err="CODE message"}`.
pub unsafe fn push_error_table(l: State, text: &[u8]) {
    let msg = error_table_text(text);
    ffi::lua_newtable(l);
    lua::set_string(l, "err", &msg);
}

/// The `err` string luaPushErrorBuff makes of an error text.
pub fn error_table_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(pos) => (&rest[..pos], &rest[pos + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let msg = trim_crlf(msg);
    let mut out = Vec::with_capacity(code.len() + 1 + msg.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(msg);
    // Redis keeps C-string semantics here: the message ends at a NUL.
    if let Some(nul) = out.iter().position(|&c| c == 0) {
        out.truncate(nul);
    }
    out
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let Some((&c, rest)) = s.split_first() {
        if c == b'\r' || c == b'\n' {
            s = rest;
        } else {
            break;
        }
    }
    while let Some((&c, rest)) = s.split_last() {
        if c == b'\r' || c == b'\n' {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Pushes an error table for a command's error reply, flagged so that returning it does
/// not count the error twice in the stats.
pub unsafe fn push_command_error(l: State, e: &Error) {
    let mut text = b"-".to_vec();
    text.extend_from_slice(e.message().as_bytes());
    push_error_table(l, &text);
    ffi::lua_pushboolean(l, 1);
    lua::raw_set_field(l, -2, "ignore_error_stats_update");
}

/// Pushes the Lua value a script sees for `reply` (`resp3`: the script client's protocol).
pub unsafe fn push_reply(l: State, reply: &Reply, resp3: bool) {
    ffi::lua_checkstack(l, 5);
    match reply {
        Reply::Ok => push_status(l, b"OK"),
        Reply::Status(s) => push_status(l, s.as_bytes()),
        Reply::Error(e) => push_command_error(l, e),
        Reply::Int(n) => ffi::lua_pushnumber(l, *n as f64),
        Reply::Bulk(b) => lua::push_bytes(l, b),
        Reply::Nil | Reply::NilArray | Reply::NoReply => {
            if resp3 {
                ffi::lua_pushnil(l)
            } else {
                ffi::lua_pushboolean(l, 0)
            }
        }
        Reply::Array(items) | Reply::Push(items) => push_array(l, items, resp3),
        Reply::Map(pairs) => {
            if resp3 {
                ffi::lua_newtable(l);
                lua::push_str(l, "map");
                ffi::lua_createtable(l, 0, pairs.len().min(1 << 20) as c_int);
                for (k, v) in pairs {
                    push_reply(l, k, resp3);
                    push_reply(l, v, resp3);
                    ffi::lua_settable(l, -3);
                }
                ffi::lua_settable(l, -3);
            } else {
                ffi::lua_createtable(l, (pairs.len() * 2).min(1 << 20) as c_int, 0);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    push_reply(l, k, resp3);
                    ffi::lua_rawseti(l, -2, (2 * i + 1) as ffi::lua_Integer);
                    push_reply(l, v, resp3);
                    ffi::lua_rawseti(l, -2, (2 * i + 2) as ffi::lua_Integer);
                }
            }
        }
        Reply::Set(items) => {
            if resp3 {
                ffi::lua_newtable(l);
                lua::push_str(l, "set");
                ffi::lua_createtable(l, 0, items.len().min(1 << 20) as c_int);
                for item in items {
                    push_reply(l, item, resp3);
                    ffi::lua_pushboolean(l, 1);
                    ffi::lua_settable(l, -3);
                }
                ffi::lua_settable(l, -3);
            } else {
                push_array(l, items, resp3);
            }
        }
        Reply::Double(d) => {
            if resp3 {
                push_double(l, *d);
            } else {
                lua::push_bytes(l, &lua::format_g17(*d));
            }
        }
        Reply::DoubleText(t) => {
            if resp3 {
                let d = std::str::from_utf8(t).ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
                push_double(l, d);
            } else {
                lua::push_bytes(l, t);
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                ffi::lua_pushboolean(l, *b as c_int)
            } else {
                ffi::lua_pushnumber(l, *b as u8 as f64)
            }
        }
        Reply::BigNumber(digits) => {
            if resp3 {
                ffi::lua_newtable(l);
                lua::set_string(l, "big_number", digits);
            } else {
                lua::push_bytes(l, digits);
            }
        }
        Reply::Verbatim(text) => push_verbatim(l, b"txt", text, resp3),
        Reply::VerbatimFormat(format, text) => push_verbatim(l, format, text, resp3),
        Reply::Multi(replies) => match replies.first() {
            Some(first) => push_reply(l, first, resp3),
            None => ffi::lua_pushnil(l),
        },
        Reply::Raw(bytes) => lua::push_bytes(l, bytes),
        // Attributes are not shown to scripts (Redis parses and drops them).
        Reply::Attribute(_, inner) => push_reply(l, inner, resp3),
    }
}

unsafe fn push_status(l: State, s: &[u8]) {
    ffi::lua_newtable(l);
    lua::set_string(l, "ok", s);
}

unsafe fn push_double(l: State, d: f64) {
    ffi::lua_newtable(l);
    lua::set_number(l, "double", d);
}

unsafe fn push_verbatim(l: State, format: &[u8; 3], text: &[u8], resp3: bool) {
    if !resp3 {
        lua::push_bytes(l, text);
        return;
    }
    ffi::lua_newtable(l);
    ffi::lua_newtable(l);
    lua::set_string(l, "string", text);
    lua::set_string(l, "format", format);
    lua::raw_set_field(l, -2, "verbatim_string");
}

unsafe fn push_array(l: State, items: &[Reply], resp3: bool) {
    ffi::lua_createtable(l, items.len().min(1 << 20) as c_int, 0);
    for (i, item) in items.iter().enumerate() {
        push_reply(l, item, resp3);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// Converts (and pops) the value on top of the stack into the reply for the caller.
/// `script_resp3`: the protocol the script chose (booleans differ).
pub unsafe fn pop_reply(l: State, script_resp3: bool) -> Reply {
    // Up to four more values are pushed below (a map's key and value); without room the
    // conversion stops here, as in Redis.
    if ffi::lua_checkstack(l, 4) == 0 {
        ffi::lua_pop(l, 1);
        return Reply::Error(err("ERR reached lua stack limit"));
    }
    let reply = match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => Reply::bulk(lua::to_bytes(l, -1).unwrap_or_default()),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if script_resp3 {
                Reply::Bool(b)
            } else if b {
                Reply::Int(1)
            } else {
                Reply::Nil
            }
        }
        ffi::LUA_TNUMBER => Reply::Int(lua::number_to_i64(ffi::lua_tonumber(l, -1))),
        ffi::LUA_TTABLE => table_reply(l, script_resp3),
        _ => Reply::Nil,
    };
    ffi::lua_pop(l, 1);
    reply
}

/// The reply for the table on top of the stack (left in place).
unsafe fn table_reply(l: State, script_resp3: bool) -> Reply {
    if lua::raw_get_field(l, -1, "err") == ffi::LUA_TSTRING {
        ffi::lua_pop(l, 1);
        let info = ErrorInfo::extract(l);
        return Reply::Error(info.into_error());
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "ok") == ffi::LUA_TSTRING {
        let text = lua::to_bytes(l, -1).unwrap_or_default();
        let status = status_text(text);
        ffi::lua_pop(l, 1);
        return Reply::Status(status.into());
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "double") == ffi::LUA_TNUMBER {
        let d = ffi::lua_tonumber(l, -1);
        ffi::lua_pop(l, 1);
        return Reply::Double(d);
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "big_number") == ffi::LUA_TSTRING {
        let digits: Vec<u8> = lua::to_bytes(l, -1)
            .unwrap_or_default()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        ffi::lua_pop(l, 1);
        return Reply::BigNumber(digits);
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "verbatim_string") == ffi::LUA_TTABLE {
        if lua::raw_get_field(l, -1, "format") == ffi::LUA_TSTRING {
            let format = lua::to_bytes(l, -1).unwrap_or_default();
            let mut fmt = [0u8; 3];
            for (i, c) in format.iter().take(3).enumerate() {
                fmt[i] = *c;
            }
            if lua::raw_get_field(l, -2, "string") == ffi::LUA_TSTRING {
                let text = lua::to_bytes(l, -1).unwrap_or_default().to_vec();
                ffi::lua_pop(l, 3);
                return Reply::VerbatimFormat(fmt, text);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "map") == ffi::LUA_TTABLE {
        let mut pairs = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            let k = pop_reply(l, script_resp3);
            let v = pop_reply(l, script_resp3);
            pairs.push((k, v));
        }
        ffi::lua_pop(l, 1);
        return Reply::Map(pairs);
    }
    ffi::lua_pop(l, 1);
    if lua::raw_get_field(l, -1, "set") == ffi::LUA_TTABLE {
        let mut items = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            items.push(pop_reply(l, script_resp3));
        }
        ffi::lua_pop(l, 1);
        return Reply::Set(items);
    }
    ffi::lua_pop(l, 1);
    let mut items = Vec::new();
    let mut j: i64 = 1;
    loop {
        ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            break;
        }
        let item = pop_reply(l, script_resp3);
        let stop = matches!(&item, Reply::Error(e) if e.message() == "ERR reached lua stack limit");
        items.push(item);
        if stop {
            break;
        }
        j += 1;
    }
    Reply::Array(items)
}

/// A status reply's text: `\r` and `\n` become spaces (sdsmapchars), up to a NUL.
fn status_text(text: &[u8]) -> String {
    let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
    text[..end].iter().map(|&c| if c == b'\r' || c == b'\n' { ' ' } else { c as char }).collect::<String>()
}

/// What luaExtractErrorInformation reads from an error table.
#[derive(Default, Debug)]
pub struct ErrorInfo {
    pub msg: Option<Vec<u8>>,
    pub source: Option<Vec<u8>>,
    pub line: Option<Vec<u8>>,
    pub ignore_stats: bool,
}

impl ErrorInfo {
    /// Reads the error value on top of the stack (left in place).
    pub unsafe fn extract(l: State) -> ErrorInfo {
        let mut info = ErrorInfo::default();
        if ffi::lua_type(l, -1) == ffi::LUA_TSTRING || ffi::lua_type(l, -1) == ffi::LUA_TNUMBER {
            let mut m = b"ERR ".to_vec();
            m.extend_from_slice(lua::to_bytes(l, -1).unwrap_or_default());
            info.msg = Some(m);
            return info;
        }
        if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
            return info;
        }
        info.msg = string_field(l, "err");
        info.source = string_field(l, "source");
        info.line = string_field(l, "line");
        if lua::raw_get_field(l, -1, "ignore_error_stats_update") == ffi::LUA_TBOOLEAN {
            info.ignore_stats = ffi::lua_toboolean(l, -1) != 0;
        }
        ffi::lua_pop(l, 1);
        info
    }

    /// The error a script returned as its value (`return {err=…}`).
    pub fn into_error(self) -> Error {
        let msg = c_text(self.msg.as_deref().unwrap_or_default());
        script_error(String::from_utf8_lossy(msg).into_owned(), self.ignore_stats)
    }
}

unsafe fn string_field(l: State, name: &str) -> Option<Vec<u8>> {
    let t = lua::raw_get_field(l, -1, name);
    let v =
        if t == ffi::LUA_TSTRING || t == ffi::LUA_TNUMBER { lua::to_bytes(l, -1).map(|b| b.to_vec()) } else { None };
    ffi::lua_pop(l, 1);
    v
}

/// C-string view of Lua bytes (Redis formats them with `%s`).
pub fn c_text(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

/// An error reply from a script, as addReplyErrorFormat renders it: newlines at the ends
/// are trimmed, others become spaces; `counted` marks errors whose stats were already updated. A text that starts
/// with `-` keeps it (the reply then starts with `--`, as Redis's `"-%s"` gives).
pub fn script_error(text: String, counted: bool) -> Error {
    let text: String =
        text.trim_matches(['\r', '\n']).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
    if counted {
        Error::Counted(text.into())
    } else {
        err(text)
    }
}
