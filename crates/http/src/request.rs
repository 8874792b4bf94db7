//! What a request asks for, as Redis argument vectors.
//!
//! JSON bodies are read with serde_json's `RawValue`, so a number argument is passed on as
//! the exact text the client wrote (`99.5`, `1e+21`, `1.0`, 2^63−1), never through an f64.
//! Strings become their UTF-8 bytes, `true`/`false` their names, `null` the empty string;
//! anything nested is refused. Every malformed body is a [`BadRequest`] with a JSON-ready
//! message, never a panic.
//!
//! The path form (`/set/foo/bar/EX/100?NX`) splits the path on `/` *before* percent-decoding
//! each segment, so `%2F` stays inside a key; a POST body is one more argument, raw; query
//! parameters follow as `key value` pairs (a key without `=` is one argument) with `_token`
//! left out.

use serde_json::value::RawValue;

/// One command: its arguments, name first.
pub type Args = Vec<Vec<u8>>;

/// A request that cannot be run: 400 with `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

fn bad(what: impl std::fmt::Display) -> BadRequest {
    BadRequest(format!("ERR failed to parse command: {what}"))
}

/// The arguments of one JSON value of a command array.
fn argument(raw: &RawValue) -> Result<Vec<u8>, BadRequest> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).map(String::into_bytes).map_err(bad),
        Some(b'[') | Some(b'{') => Err(bad("nested arrays and objects are not valid arguments")),
        Some(b'n') => Ok(Vec::new()),
        // true, false and numbers: the text as written.
        Some(_) => Ok(text.as_bytes().to_vec()),
        None => Err(bad("empty value")),
    }
}

fn command_from(raws: &[&RawValue]) -> Result<Args, BadRequest> {
    let Some(first) = raws.first() else { return Err(bad("empty command")) };
    if !first.get().starts_with('"') {
        return Err(bad("the command name must be a string"));
    }
    raws.iter().map(|r| argument(r)).collect()
}

/// `POST /`: one command, `["SET","k","v","EX",100]`.
pub fn single(body: &[u8]) -> Result<Args, BadRequest> {
    if let Some((args, end)) = plain_command(body, 0) {
        if end == body.len() {
            return Ok(args);
        }
    }
    let raws: Vec<&RawValue> = serde_json::from_slice(body).map_err(bad)?;
    command_from(&raws)
}

/// `/pipeline` and `/multi-exec`: an array of commands, none empty, at least one.
pub fn many(body: &[u8]) -> Result<Vec<Args>, BadRequest> {
    if let Some(cmds) = plain_commands(body) {
        return Ok(cmds);
    }
    let list: Vec<Vec<&RawValue>> = serde_json::from_slice(body).map_err(bad)?;
    if list.is_empty() {
        return Err(bad("empty pipeline"));
    }
    list.iter().map(|c| command_from(c)).collect()
}

// The fast path. What the SDKs send (JSON.stringify of string arrays) is compact JSON whose
// strings have no escapes: `[["GET","k"],["SET","k","v"]]`. That shape is read here without
// serde; anything else (whitespace, numbers, escapes, control characters, invalid UTF-8, empty
// arrays, trailing bytes) returns None and goes through serde, so the two agree on every body
// the fast path accepts and serde alone decides every error.

/// A compact array of plain strings starting at `at`: its arguments and the index after it.
fn plain_command(body: &[u8], mut at: usize) -> Option<(Args, usize)> {
    if body.get(at) != Some(&b'[') {
        return None;
    }
    at += 1;
    let mut args = Vec::new();
    loop {
        if body.get(at) != Some(&b'"') {
            return None;
        }
        let start = at + 1;
        let len = body.get(start..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let end = start + len;
        if body[end] != b'"' {
            return None;
        }
        let text = &body[start..end];
        std::str::from_utf8(text).ok()?;
        args.push(text.to_vec());
        at = end + 1;
        match body.get(at) {
            Some(b',') => at += 1,
            Some(b']') => return Some((args, at + 1)),
            _ => return None,
        }
    }
}

/// A compact array of [`plain_command`]s that is the whole body.
fn plain_commands(body: &[u8]) -> Option<Vec<Args>> {
    if body.first() != Some(&b'[') {
        return None;
    }
    let mut at = 1;
    let mut cmds = Vec::new();
    loop {
        let (args, next) = plain_command(body, at)?;
        cmds.push(args);
        match body.get(next) {
            Some(b',') => at = next + 1,
            Some(b']') if next + 1 == body.len() => return Some(cmds),
            _ => return None,
        }
    }
}

/// Percent-decodes `%XX` escapes (anything else, `+` included, stays as it is).
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Query parameters as (key, value) pairs, percent-decoded; value None when there is no `=`.
pub fn query_pairs(query: &str) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k.as_bytes()), Some(percent_decode(v.as_bytes()))),
            None => (percent_decode(p.as_bytes()), None),
        })
        .collect()
}

/// The `_token` query parameter, if any.
pub fn query_token(query: Option<&str>) -> Option<Vec<u8>> {
    query_pairs(query?).into_iter().find(|(k, _)| k == b"_token").map(|(_, v)| v.unwrap_or_default())
}

/// The path's segments after its leading slashes (a doubled `//` is tolerated), not decoded.
pub fn segments(path: &str) -> Vec<&str> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    let mut segs: Vec<&str> = trimmed.split('/').collect();
    // One trailing slash (`/get/foo/`) is not an empty last argument.
    if segs.len() > 1 && segs.last() == Some(&"") {
        segs.pop();
    }
    segs
}

/// The path form: decoded segments, then the raw body (if any), then query pairs.
pub fn path_form(segs: &[&str], body: &[u8], query: Option<&str>) -> Args {
    let mut args: Args = segs.iter().map(|s| percent_decode(s.as_bytes())).collect();
    if !body.is_empty() {
        args.push(body.to_vec());
    }
    if let Some(q) = query {
        for (k, v) in query_pairs(q) {
            if k == b"_token" {
                continue;
            }
            args.push(k);
            if let Some(v) = v {
                args.push(v);
            }
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Args {
        v.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn json_arguments_keep_their_text() {
        assert_eq!(
            single(br#"["SET","k",99.5,1e+21,1.0,9223372036854775807,true,false,null,-0]"#).unwrap(),
            s(&["SET", "k", "99.5", "1e+21", "1.0", "9223372036854775807", "true", "false", "", "-0"])
        );
        assert_eq!(single(br#"["SET","\u00e9\n"]"#).unwrap(), vec![b"SET".to_vec(), "é\n".as_bytes().to_vec()]);
        assert_eq!(many(br#"[["PING"],["GET","a"]]"#).unwrap(), vec![s(&["PING"]), s(&["GET", "a"])]);
    }

    #[test]
    fn bad_bodies_are_errors() {
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            b"[[]]",
            b"\"PING\"",
            b"[1,2]",
            b"[\"SET\",[1]]",
            b"[\"SET\",{\"a\":1}]",
            b"[\"SET\",\"\\ud800\"]",
            b"[\"SET\",",
            b"nul",
            b"[\"a\"] x",
        ] {
            assert!(single(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        for body in [&b""[..], b"[]", b"[[]]", b"{}", b"[\"PING\"]", b"[[1]]", b"[[\"GET\",[\"x\"]]]"] {
            assert!(many(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    /// The fast path and serde agree: every body either takes the fast path with serde's
    /// result, or is left to serde.
    #[test]
    fn plain_bodies_read_as_serde_reads_them() {
        let serde_many = |b: &[u8]| -> Option<Vec<Args>> {
            let list: Vec<Vec<&RawValue>> = serde_json::from_slice(b).ok()?;
            if list.is_empty() {
                return None;
            }
            list.iter().map(|c| command_from(c)).collect::<Result<_, _>>().ok()
        };
        let serde_single = |b: &[u8]| -> Option<Args> {
            let raws: Vec<&RawValue> = serde_json::from_slice(b).ok()?;
            command_from(&raws).ok()
        };
        let bodies: &[&[u8]] = &[
            br#"[["GET","bench:key"]]"#,
            br#"[["SET","k","v"],["GET","k"],["PING"]]"#,
            br#"[["SET","","\u00e9"]]"#,
            br#"[["SET","k","a\"b"]]"#,
            br#"[["SET","k","a\\b"]]"#,
            br#"[["SET","k","a"b"]]"#,
            "[[\"SET\",\"k\",\"é ✓ \u{7f}\"]]".as_bytes(),
            b"[[\"SET\",\"k\",\"a\tb\"]]",
            b"[[\"SET\",\"k\",\"\xff\"]]",
            b"[[\"SET\",\"k\",\"\xc3\"]]",
            br#"[["SET","k",1]]"#,
            br#"[["SET","k",null]]"#,
            br#"[[ "GET","k"]]"#,
            br#"[["GET","k"] ]"#,
            br#" [["GET","k"]]"#,
            br#"[["GET","k"]] "#,
            br#"[["GET","k"]]x"#,
            br#"[["GET","k"],]"#,
            br#"[["GET","k",]]"#,
            br#"[["GET","k"]"#,
            br#"[["GET","k"#,
            br#"[["GET","k""#,
            br#"[[]]"#,
            br#"[]"#,
            br#"[["GET"],[]]"#,
            br#"[[["GET"]]]"#,
            br#"["GET","k"]"#,
            br#"[["GET","k"],["#,
            b"",
            b"[",
            b"[[",
            b"[[\"",
        ];
        for &body in bodies {
            let what = String::from_utf8_lossy(body);
            if let Some(fast) = plain_commands(body) {
                assert_eq!(Some(fast), serde_many(body), "{what}");
            }
            assert_eq!(many(body).ok(), serde_many(body), "{what}");
            assert_eq!(many(body).is_err(), serde_many(body).is_none(), "{what}");
            let inner = body.get(1..body.len().saturating_sub(1)).unwrap_or_default();
            for b in [body, inner] {
                let what = String::from_utf8_lossy(b);
                if let Some((fast, end)) = plain_command(b, 0) {
                    if end == b.len() {
                        assert_eq!(Some(fast), serde_single(b), "{what}");
                    }
                }
                assert_eq!(single(b).ok(), serde_single(b), "{what}");
            }
        }
        assert!(plain_commands(br#"[["GET","k"]]"#).is_some());
        assert!(plain_commands(br#"[["GET","k"],["SET","a\"b"]]"#).is_none());
    }

    #[test]
    fn path_form_rules() {
        assert_eq!(segments("//pipeline"), ["pipeline"]);
        assert_eq!(segments("/"), Vec::<&str>::new());
        assert_eq!(segments("/get/foo/"), ["get", "foo"]);
        assert_eq!(segments("/set/a//b"), ["set", "a", "", "b"]);
        let args = path_form(&["set", "a%2Fb", "v%20x"], b"", Some("EX=100&NX&_token=secret&k=%3D"));
        assert_eq!(args, s(&["set", "a/b", "v x", "EX", "100", "NX", "k", "="]));
        let args = path_form(&["set", "k"], b"{\"raw\": 1}", None);
        assert_eq!(args, s(&["set", "k", "{\"raw\": 1}"]));
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(percent_decode(b"a+b%41"), b"a+bA");
        assert_eq!(query_token(Some("a=1&_token=t%20x")), Some(b"t x".to_vec()));
    }
}
