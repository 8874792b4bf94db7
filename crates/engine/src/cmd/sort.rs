//! SORT and SORT_RO (Redis's sort.c): sorting a list, set or sorted set numerically or
//! lexicographically, by its own elements or by external keys (`BY weight_*`, hash fields
//! `BY obj_*->field`), with LIMIT, GET projections and STORE into a list.
//!
//! The full sort is stable, as glibc's qsort (a merge sort) is for Redis, so elements whose
//! weights compare equal keep the order they were loaded in; a sort BY a pattern with a LIMIT
//! is Redis's partial quicksort ([`crate::util::pqsort`]), ties and all. `BY` a pattern without `*`
//! skips sorting: lists and sorted sets then come out in their own order (reversed by DESC,
//! sliced by LIMIT directly), sets in iteration order unless the result is stored or the
//! caller is a script, where Redis forces an ALPHA sort to keep replicas identical.

use std::cmp::Ordering;

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::list::new_list;
use crate::cmd::spec::{acl, key, BeginSearch, CommandSpec, FindKeys, Group, KeySpec, DENYOOM, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Lookup, Value, ValueRef};
use crate::reply::Reply;
use crate::types::list::Where;
use crate::types::zset::Start;
use crate::types::Object;
use crate::util::pqsort::pqsort;

const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/// A key spec found only by the command's own key finder.
const fn unknown_spec(flags: u64, notes: &'static str) -> KeySpec {
    KeySpec { flags, begin: BeginSearch::Unknown, find: FindKeys::Unknown, notes: Some(notes) }
}

const BY_GET_NOTES: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTES: &str = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: WRITE | DENYOOM,
        acl: acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
        key_specs: &[
            KeySpec::one(1, key::RO | key::ACCESS),
            unknown_spec(key::RO | key::ACCESS, BY_GET_NOTES),
            unknown_spec(key::OW | key::UPDATE, STORE_NOTES),
        ],
        handler: Some(sort),
        getkeys: Some(sort_keys),
        group: Group::Generic,
        since: "1.0.0",
        summary: "Sort the elements in a list, set or sorted set",
        complexity: COMPLEXITY,
        args: "key:key [BY pattern:pattern@1] [LIMIT offset_count=(offset:integer count:integer)] [GET pattern:pattern@1]... order=[ASC|DESC] [sorting=ALPHA] [STORE destination:key@2]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: READONLY,
        acl: acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS), unknown_spec(key::RO | key::ACCESS, BY_GET_NOTES)],
        handler: Some(sort_ro),
        getkeys: Some(sort_ro_keys),
        group: Group::Generic,
        since: "7.0.0",
        summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        complexity: COMPLEXITY,
        args: "key:key [BY pattern:pattern@1] [LIMIT offset_count=(offset:integer count:integer)] [GET pattern:pattern@1]... order=[ASC|DESC] [sorting=ALPHA]",
        ..CommandSpec::DEFAULT
    },
];

/// Redis's sortGetKeys: the sorted key, then the last STORE destination.
fn sort_keys(argv: &[&[u8]]) -> Vec<(usize, u64)> {
    let mut keys = vec![(1, key::RO | key::ACCESS)];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if args::is(a, "limit") {
            i += 2;
        } else if args::is(a, "get") || args::is(a, "by") {
            i += 1;
        } else if args::is(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|p| (p, key::OW | key::UPDATE)));
    keys
}

/// Redis's sortROGetKeys: only the sorted key.
fn sort_ro_keys(_argv: &[&[u8]]) -> Vec<(usize, u64)> {
    vec![(1, key::RO | key::ACCESS)]
}

fn sort(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

fn sort_ro(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// One element to sort and what it is sorted by.
struct Item {
    obj: Vec<u8>,
    score: f64,
    /// The BY value for an ALPHA sort by pattern (None: the key was missing).
    cmp: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// BY and GET patterns read arbitrary keys: the user needs read access to every key
/// (Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS).
fn full_key_access(ctx: &mut Ctx, argv: &[&[u8]]) -> bool {
    crate::acl::check::client_has_unrestricted_key_access(ctx.srv, ctx.slot, ctx.cmd, argv, key::ACCESS)
}

fn sort_generic(ctx: &mut Ctx, argv: &[&[u8]], readonly: bool) -> CmdResult {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count): (i64, i64) = (0, -1);
    let mut sortby: Option<&[u8]> = None;
    let mut storekey: Option<&[u8]> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let leftargs = argv.len() - j - 1;
        let a = argv[j];
        if args::is(a, "asc") {
            desc = false;
        } else if args::is(a, "desc") {
            desc = true;
        } else if args::is(a, "alpha") {
            alpha = true;
        } else if args::is(a, "limit") && leftargs >= 2 {
            limit_start = args::int(argv[j + 1])?;
            limit_count = args::int(argv[j + 2])?;
            j += 2;
        } else if !readonly && args::is(a, "store") && leftargs >= 1 {
            storekey = Some(argv[j + 1]);
            j += 1;
        } else if args::is(a, "by") && leftargs >= 1 {
            sortby = Some(argv[j + 1]);
            // A pattern without `*` names no per-element key: nothing to sort by.
            if !c_str(argv[j + 1]).contains(&b'*') {
                dontsort = true;
            } else if !full_key_access(ctx, argv) {
                return Err(err("ERR BY option of SORT denied due to insufficient ACL permissions."));
            }
            j += 1;
        } else if args::is(a, "get") && leftargs >= 1 {
            if !full_key_access(ctx, argv) {
                return Err(err("ERR GET option of SORT denied due to insufficient ACL permissions."));
            }
            gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }

    let key = argv[1];
    let kind = match ctx.lookup(key, Lookup::READ) {
        None => None,
        Some(e) => match e.object_mut() {
            Some(Object::List(_)) => Some(Kind::List),
            Some(Object::Set(_)) => Some(Kind::Set),
            Some(Object::ZSet(z)) => {
                // Redis converts a listpack sorted set to a skiplist before sorting it.
                z.convert_to_skiplist();
                Some(Kind::ZSet)
            }
            _ => return Err(Error::WrongType),
        },
    };
    if dontsort && kind == Some(Kind::Set) && (storekey.is_some() || ctx.client_ref().has(flags::SCRIPT)) {
        // Set order is not deterministic: sort so replicas and scripts see the same.
        dontsort = false;
        alpha = true;
        sortby = None;
    }

    let len = match kind {
        None => 0,
        Some(_) => collection_len(ctx, key),
    } as i64;
    let mut start = limit_start.max(0).min(len);
    let limit_count = limit_count.max(-1).min(len);
    let mut end = if limit_count < 0 { len - 1 } else { start + limit_count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let ranged = dontsort && matches!(kind, Some(Kind::List | Kind::ZSet));
    let mut items: Vec<Item> = if ranged {
        let n = if start != 0 || end != len - 1 { end - start + 1 } else { len };
        let v = load_range(ctx, key, start, n.max(0) as usize, desc, end >= start);
        end -= start;
        start = 0;
        v
    } else {
        load_all(ctx, key)
    };

    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match sortby {
                Some(pattern) => match lookup_by_pattern(ctx, pattern, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => {
                    if !alpha {
                        match c_strtod(&it.obj) {
                            Some(s) => it.score = s,
                            None => conversion_error = true,
                        }
                    }
                    continue;
                }
            };
            if alpha {
                it.cmp = Some(byval);
            } else {
                match c_strtod(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let bypattern = sortby.is_some();
        let mut cmp = |a: &Item, b: &Item| {
            let ord = compare(a, b, alpha, bypattern);
            if desc {
                ord.reverse()
            } else {
                ord
            }
        };
        // Redis sorts only the LIMIT range when sorting by a pattern (its partial
        // quicksort), otherwise everything with glibc's stable qsort.
        if bypattern && (start != 0 || end != items.len() as i64 - 1) {
            pqsort(&mut items, start, end, &mut cmp);
        } else {
            items.sort_by(cmp);
        }
    }

    let count = (end - start + 1).max(0) as usize;
    let outputlen = if gets.is_empty() { count } else { gets.len() * count };
    if conversion_error {
        return Err(err("ERR One or more scores can't be converted into double"));
    }
    let selected = items.get(start.max(0) as usize..).unwrap_or(&[]);
    let selected = &selected[..count.min(selected.len())];
    match storekey {
        None => {
            let mut out = Vec::with_capacity(outputlen);
            for it in selected {
                if gets.is_empty() {
                    out.push(Reply::bulk(&it.obj));
                }
                for pattern in &gets {
                    out.push(match lookup_by_pattern(ctx, pattern, &it.obj) {
                        Some(v) => Reply::bulk_vec(v),
                        None => Reply::Nil,
                    });
                }
            }
            Ok(Reply::Array(out))
        }
        Some(dst) => {
            let mut list = new_list(ctx);
            for it in selected {
                if gets.is_empty() {
                    list.push(Where::Tail, &it.obj);
                }
                for pattern in &gets {
                    let v = lookup_by_pattern(ctx, pattern, &it.obj).unwrap_or_default();
                    list.push(Where::Tail, &v);
                }
            }
            if outputlen > 0 {
                ctx.set_key(dst, Value::Object(Object::List(Box::new(list))), false);
                ctx.notify(notify::LIST, "sortstore", dst);
                ctx.dirty(outputlen as u64);
            } else if ctx.delete_key(dst) {
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            Ok(Reply::Int(outputlen as i64))
        }
    }
}

/// Redis's sortCompare (before DESC is applied).
fn compare(a: &Item, b: &Item, alpha: bool, bypattern: bool) -> Ordering {
    if !alpha {
        // Equal weights fall back to the elements themselves, so the result is deterministic.
        return a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.obj.cmp(&b.obj));
    }
    if bypattern {
        // A missing weight sorts first.
        return match (&a.cmp, &b.cmp) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
        };
    }
    a.obj.cmp(&b.obj)
}

fn collection_len(ctx: &mut Ctx, key: &[u8]) -> usize {
    match ctx.lookup(key, Lookup::QUIET).and_then(|e| e.as_object()) {
        Some(Object::List(l)) => l.len(),
        Some(Object::Set(s)) => s.len(),
        Some(Object::ZSet(z)) => z.len(),
        _ => 0,
    }
}

fn item(obj: Vec<u8>) -> Item {
    Item { obj, score: 0.0, cmp: None }
}

/// Every element, in the collection's own order.
fn load_all(ctx: &mut Ctx, key: &[u8]) -> Vec<Item> {
    match ctx.lookup(key, Lookup::QUIET).and_then(|e| e.as_object()) {
        Some(Object::List(l)) => l.to_vecs().into_iter().map(item).collect(),
        Some(Object::Set(s)) => s.members().into_iter().map(|m| item(m.to_vec())).collect(),
        Some(Object::ZSet(z)) => {
            let mut v = Vec::with_capacity(z.len());
            z.for_each(|m, _| v.push(item(m.to_vec())));
            v
        }
        _ => Vec::new(),
    }
}

/// `n` elements of a list or sorted set from `start` (counted from the end when `desc`),
/// for BY without a pattern: no sort, the range is taken directly.
fn load_range(ctx: &mut Ctx, key: &[u8], start: i64, n: usize, desc: bool, nonempty: bool) -> Vec<Item> {
    let mut v = Vec::with_capacity(n);
    if !nonempty || n == 0 {
        return v;
    }
    let start = start.max(0) as usize;
    match ctx.lookup(key, Lookup::QUIET).and_then(|e| e.as_object()) {
        Some(Object::List(l)) => {
            let from = if desc { l.len().saturating_sub(start + 1) } else { start };
            let mut buf = itoa::Buffer::new();
            l.scan(from, desc, |e| {
                v.push(item(e.bytes(&mut buf).to_vec()));
                v.len() < n
            });
        }
        Some(Object::ZSet(z)) => {
            z.walk(Start::Rank(start), desc, |m, _| {
                v.push(item(m.to_vec()));
                v.len() < n
            });
        }
        _ => {}
    }
    v
}

/// A C string's bytes: Redis sees arguments only up to their first NUL here.
fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

/// Redis's weight parsing: `strtod` must consume the whole C string, without overflow,
/// underflow or NaN (an empty string is 0).
fn c_strtod(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    let mut z = Vec::with_capacity(s.len() + 1);
    z.extend_from_slice(s);
    z.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: errno is thread-local; `z` is NUL-terminated and outlives the call, and strtod
    // writes only `end`, which it points inside `z`.
    let (v, consumed, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(z.as_ptr() as *const libc::c_char, &mut end);
        let erange = *libc::__errno_location() == libc::ERANGE;
        (v, end.offset_from(z.as_ptr() as *const libc::c_char) as usize, erange)
    };
    (consumed == s.len() && !erange && !v.is_nan()).then_some(v)
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*` of the
/// pattern is replaced by the element and the key read, as a string, or as a hash field
/// when the pattern ends in `->field`. None when the key, the field or a `*` is missing, or
/// the key holds another type.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    if c_str(pattern) == b"#" && !pattern.is_empty() {
        return Some(subst.to_vec());
    }
    let star = memchr::memchr(b'*', c_str(pattern))?;
    let after = &pattern[star + 1..];
    let field = memchr::memmem::find(after, b"->").map(|f| &after[f + 2..]).filter(|f| !f.is_empty());
    let postfix = match field {
        Some(f) => &after[..after.len() - f.len() - 2],
        None => after,
    };
    let mut keyname = Vec::with_capacity(star + subst.len() + postfix.len());
    keyname.extend_from_slice(&pattern[..star]);
    keyname.extend_from_slice(subst);
    keyname.extend_from_slice(postfix);
    let entry = ctx.lookup(&keyname, Lookup::READ)?;
    match (field, entry.value()) {
        (Some(f), ValueRef::Object(Object::Hash(h))) => h.get(f).map(|v| v.to_vec()),
        (None, ValueRef::Str(s)) => Some(s.to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_like_strtod() {
        assert_eq!(c_strtod(b"1.5"), Some(1.5));
        assert_eq!(c_strtod(b""), Some(0.0));
        assert_eq!(c_strtod(b" 2"), Some(2.0));
        assert_eq!(c_strtod(b"12\0abc"), Some(12.0));
        assert_eq!(c_strtod(b"abc"), None);
        assert_eq!(c_strtod(b"1e400"), None);
        assert_eq!(c_strtod(b"nan"), None);
        assert_eq!(c_strtod(b"inf"), Some(f64::INFINITY));
    }

    #[test]
    fn getkeys_finds_the_last_store() {
        let argv: Vec<&[u8]> =
            vec![b"sort", b"k", b"LIMIT", b"0", b"1", b"STORE", b"a", b"GET", b"store", b"STORE", b"b"];
        assert_eq!(sort_keys(&argv), vec![(1, key::RO | key::ACCESS), (10, key::OW | key::UPDATE)]);
    }
}
