//! MIGRATE: DUMP here, RESTORE there, DEL here (unless COPY) — over a blocking connection
//! with a timeout, as Redis does it, cached per target for 10 seconds (64 at most).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, FindKeys, Group, KeySpec, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::reply::Reply;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "migrate",
    arity: -6,
    flags: WRITE,
    acl: acl::KEYSPACE | acl::DANGEROUS,
    key_specs: &[
        KeySpec::one(3, key::RW | key::ACCESS | key::DELETE),
        KeySpec::keyword(
            "KEYS",
            -2,
            FindKeys::Range { lastkey: -1, keystep: 1, limit: 0 },
            key::RW | key::ACCESS | key::DELETE | key::INCOMPLETE,
        ),
    ],
    getkeys: Some(migrate_keys),
    handler: Some(migrate),
    group: Group::Generic,
    summary: "Atomically transfer a key from a Redis instance to another one.",
    complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    args: "host:string port:integer key_or_empty_string=(key:key|empty_string=\"\") destination-db:integer timeout:integer [copy=COPY]{3.0.0} [replace=REPLACE]{3.0.0} authentication=[[AUTH password:string]{4.0.7}|[AUTH2 username_password=(username:string password:string)]{6.0.0}] [KEYS key:key...]{3.0.6}",
    since: "2.6.0",
    history: &[
        ("3.0.0", "Added the `COPY` and `REPLACE` options."),
        ("3.0.6", "Added the `KEYS` option."),
        ("4.0.7", "Added the `AUTH` option."),
        ("6.0.0", "Added the `AUTH2` option."),
    ],
    tips: &["nondeterministic_output"],
    ..CommandSpec::DEFAULT
}];

const CACHE_ITEMS: usize = 64;
const CACHE_TTL_SECS: i64 = 10;

/// A cached connection to a MIGRATE target.
pub struct CachedSocket {
    stream: TcpStream,
    last_dbid: Option<i64>,
    last_use_secs: i64,
    /// Bytes read past the last reply line.
    pending: Vec<u8>,
}

/// MIGRATE's connection cache (INFO migrate_cached_sockets).
#[derive(Default)]
pub struct MigrateSockets {
    cache: HashMap<String, CachedSocket>,
}

impl MigrateSockets {
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Closes sockets unused for more than 10 seconds (migrateCloseTimedoutSockets).
    pub fn close_idle(&mut self, now_secs: i64) {
        self.cache.retain(|_, s| now_secs - s.last_use_secs <= CACHE_TTL_SECS);
    }
}

/// Redis's migrateGetKeys: `key`, or every argument after KEYS.
fn migrate_keys(args: &[&[u8]]) -> Vec<(usize, u64)> {
    let flags = key::RW | key::ACCESS | key::DELETE;
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        if args::is(args[i], "keys") {
            if !args[3].is_empty() {
                return Vec::new();
            }
            first = i + 1;
            num = args.len() - first;
            break;
        }
        if args::is(args[i], "auth") {
            i += 1;
        } else if args::is(args[i], "auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + num).map(|p| (p, flags)).collect()
}

struct Request<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    first_key: usize,
    num_keys: usize,
    /// Argument positions MONITOR and SLOWLOG must not show (the credentials).
    secret: Vec<usize>,
}

fn parse<'a>(args: &[&'a [u8]]) -> CmdResult<Request<'a>> {
    let mut r = Request {
        copy: false,
        replace: false,
        username: None,
        password: None,
        first_key: 3,
        num_keys: 1,
        secret: Vec::new(),
    };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args[j];
        if args::is(a, "copy") {
            r.copy = true;
        } else if args::is(a, "replace") {
            r.replace = true;
        } else if args::is(a, "auth") {
            if more == 0 {
                return Err(Error::Syntax);
            }
            j += 1;
            r.password = Some(args[j]);
            r.secret.push(j);
        } else if args::is(a, "auth2") {
            if more < 2 {
                return Err(Error::Syntax);
            }
            r.username = Some(args[j + 1]);
            r.password = Some(args[j + 2]);
            r.secret.extend([j + 1, j + 2]);
            j += 2;
        } else if args::is(a, "keys") {
            if !args[3].is_empty() {
                return Err(err(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            r.first_key = j + 1;
            r.num_keys = args.len() - j - 1;
            break;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(r)
}

fn encode(out: &mut Vec<u8>, parts: &[&[u8]]) {
    spinel_resp::write::array_header(out, parts.len());
    for p in parts {
        spinel_resp::write::bulk(out, p);
    }
}

fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Option<TcpStream> {
    let host = std::str::from_utf8(host).ok()?;
    let port: u16 = std::str::from_utf8(port).ok()?.parse().ok()?;
    let addr = (host, port).to_socket_addrs().ok()?.next()?;
    let s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    let _ = s.set_nodelay(true);
    Some(s)
}

/// Reads one reply line (connSyncReadLine), None on error or timeout.
fn read_line(sock: &mut CachedSocket, timeout: Duration) -> Option<Vec<u8>> {
    let _ = sock.stream.set_read_timeout(Some(timeout));
    loop {
        if let Some(i) = memchr::memchr(b'\n', &sock.pending) {
            let mut line: Vec<u8> = sock.pending.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Some(line);
        }
        let mut buf = [0u8; 4096];
        match sock.stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => sock.pending.extend_from_slice(&buf[..n]),
        }
    }
}

enum Failure {
    Write,
    Read,
}

fn migrate(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let req = parse(args)?;
    for &j in &req.secret {
        crate::introspection::redact(ctx.srv, j);
    }
    let timeout_ms = args::int(args[5])?;
    let dbid = args::int(args[4])?;
    let timeout = Duration::from_millis(if timeout_ms <= 0 { 1000 } else { timeout_ms as u64 });
    let keys: Vec<&[u8]> = args[req.first_key..req.first_key + req.num_keys]
        .iter()
        .copied()
        .filter(|k| ctx.lookup_read(k).is_some())
        .collect();
    if keys.is_empty() {
        return Ok(Reply::status("NOKEY"));
    }
    let name = format!("{}:{}", String::from_utf8_lossy(args[1]), String::from_utf8_lossy(args[2]));
    let mut may_retry = true;
    loop {
        let now = crate::util::time::now_ms() / 1000;
        if !ctx.srv.migrate.cache.contains_key(&name) {
            if ctx.srv.migrate.cache.len() >= CACHE_ITEMS {
                if let Some(k) = ctx.srv.migrate.cache.keys().next().cloned() {
                    ctx.srv.migrate.cache.remove(&k);
                }
            }
            let Some(stream) = connect(args[1], args[2], timeout) else {
                return Err(err("IOERR error or timeout connecting to the client"));
            };
            ctx.srv.migrate.cache.insert(
                name.clone(),
                CachedSocket { stream, last_dbid: None, last_use_secs: now, pending: Vec::new() },
            );
        }
        match attempt(ctx, &req, &keys, &name, dbid, timeout) {
            Ok(reply) => return Ok(reply),
            Err((failure, retry)) => {
                ctx.srv.migrate.cache.remove(&name);
                if retry && may_retry {
                    may_retry = false;
                    continue;
                }
                let what = match failure {
                    Failure::Write => "writing",
                    Failure::Read => "reading",
                };
                return Err(err(format!("IOERR error or timeout {what} to target instance")));
            }
        }
    }
}

/// One try over the cached socket `name`. Err((failure, retryable)).
fn attempt(
    ctx: &mut Ctx,
    req: &Request<'_>,
    keys: &[&[u8]],
    name: &str,
    dbid: i64,
    timeout: Duration,
) -> Result<Reply, (Failure, bool)> {
    let compress = ctx.srv.config.bool("rdbcompression");
    let now = ctx.now_ms();
    let mut out = Vec::new();
    if let Some(p) = req.password {
        match req.username {
            Some(u) => encode(&mut out, &[b"AUTH", u, p]),
            None => encode(&mut out, &[b"AUTH", p]),
        }
    }
    let last_dbid = ctx.srv.migrate.cache.get(name).and_then(|s| s.last_dbid);
    let select = last_dbid != Some(dbid);
    if select {
        encode(&mut out, &[b"SELECT", dbid.to_string().as_bytes()]);
    }
    let mut sent: Vec<&[u8]> = Vec::new();
    for &k in keys {
        let Some(e) = ctx.db().peek(k) else { continue };
        let ttl = match e.expire() {
            Some(when) if when - now < 0 => continue,
            Some(when) => (when - now).max(1),
            None => 0,
        };
        let Ok(payload) = crate::persist::dump::create(e, compress) else { continue };
        let ttl = ttl.to_string();
        if req.replace {
            encode(&mut out, &[b"RESTORE", k, ttl.as_bytes(), &payload, b"REPLACE"]);
        } else {
            encode(&mut out, &[b"RESTORE", k, ttl.as_bytes(), &payload]);
        }
        sent.push(k);
    }
    let Some(sock) = ctx.srv.migrate.cache.get_mut(name) else { return Err((Failure::Write, true)) };
    sock.last_use_secs = now / 1000;
    let _ = sock.stream.set_write_timeout(Some(timeout));
    for chunk in out.chunks(64 * 1024) {
        if sock.stream.write_all(chunk).is_err() {
            return Err((Failure::Write, true));
        }
    }
    let auth_reply = match req.password {
        Some(_) => Some(read_line(sock, timeout).ok_or((Failure::Read, true))?),
        None => None,
    };
    let select_reply = if select { Some(read_line(sock, timeout).ok_or((Failure::Read, true))?) } else { None };
    let mut target_error: Option<Vec<u8>> = None;
    let mut acked: Vec<&[u8]> = Vec::new();
    let mut socket_error = false;
    for (j, &k) in sent.iter().enumerate() {
        let Some(line) = read_line(sock, timeout) else {
            socket_error = true;
            if j == 0 && target_error.is_none() {
                return Err((Failure::Read, true));
            }
            break;
        };
        let failed = [auth_reply.as_ref(), select_reply.as_ref(), Some(&line)]
            .into_iter()
            .flatten()
            .find(|l| l.first() == Some(&b'-'))
            .cloned();
        match failed {
            Some(e) => {
                sock.last_dbid = None;
                target_error.get_or_insert(e);
            }
            None => acked.push(k),
        }
    }
    if !req.copy {
        for &k in &acked {
            ctx.delete_key(k);
            ctx.notify(notify::GENERIC, "del", k);
            ctx.dirty(1);
        }
        if !acked.is_empty() {
            let mut argv: Vec<&[u8]> = vec![b"DEL"];
            argv.extend(acked.iter().copied());
            ctx.propagate_as(&argv);
        }
    }
    if let Some(e) = target_error {
        let text = String::from_utf8_lossy(&e[1..]);
        return Ok(Reply::Error(err(format!("ERR Target instance replied with error: {text}"))));
    }
    if socket_error {
        ctx.srv.migrate.cache.remove(name);
        return Err((Failure::Read, false));
    }
    if let Some(sock) = ctx.srv.migrate.cache.get_mut(name) {
        sock.last_dbid = Some(dbid);
    }
    Ok(Reply::Ok)
}
