//! Proxy mode: the REST gateway in front of other Redis servers, configured as
//! serverless-redis-http (SRH) is, and done right.
//!
//! Configuration ([`Settings::from_env`]): `SRH_MODE=env` takes one token from `SRH_TOKEN`,
//! `SRH_CONNECTION_STRING` (`redis://` or `rediss://`) and `SRH_MAX_CONNECTIONS` (default 3);
//! `SRH_MODE=file` (SRH's default) reads a JSON file (`SRH_CONFIG_FILE`, else SRH's
//! `srh-config/tokens.json`) mapping each token to
//! `{"srh_id": …, "connection_string": …, "max_connections": n}`. Tokens sharing an `srh_id`
//! share a pool. `SRH_PORT` and `SRH_IPV6` choose the listening socket. Everything is
//! validated at start-up with errors that name the problem; SRH only finds a typo when a
//! request hits it.
//!
//! Each request borrows one connection from its token's pool ([`pool`]): a pipeline is
//! written in one go and its replies read in order; a multi-exec sends MULTI, the commands
//! and EXEC on that one connection, so concurrent transactions never interleave (SRH bug
//! #25). A blocking command is wrapped in MULTI/EXEC, where Redis runs it without waiting —
//! the same answer the in-process gateway gives. An unreachable backend answers 500 for its
//! tokens only.

pub mod conn;
pub mod pool;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use spinel_engine::cmd::spec;
use spinel_engine::cmd::table::{commands, Found};
use spinel_resp::Frame;

use self::conn::Target;
use self::pool::Pool;
use crate::local::{Format, Item, Outcome, STATEFUL};
use crate::request::Args;

/// SRH's srh_id for the single pool of env mode.
pub const ENV_SRH_ID: &str = "env_config_connection";
/// SRH's default tokens file (relative to the working directory).
pub const DEFAULT_CONFIG_FILE: &str = "srh-config/tokens.json";

/// Commands that may block: sent inside MULTI/EXEC so they answer at once.
const BLOCKING: &[&str] = &[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "xread",
    "xreadgroup",
    "wait",
];

pub struct Proxy {
    /// Every token with its pool; searched in constant time per token.
    tokens: Vec<(Vec<u8>, Arc<Pool>)>,
    pub pools: Vec<Arc<Pool>>,
}

/// Proxy mode's configuration as read from the environment.
pub struct Settings {
    pub proxy: Proxy,
    /// `SRH_PORT`, if set.
    pub port: Option<u16>,
    /// `SRH_IPV6=true`: listen on `::`.
    pub ipv6: bool,
}

/// One token's line of configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    pub token: String,
    pub srh_id: String,
    pub connection_string: String,
    pub max_connections: usize,
}

fn parse_max(v: &str, what: &str) -> Result<usize, String> {
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{what} must be a whole number from 1 to 100000, got '{v}'")),
    }
}

/// Reads SRH's tokens file format.
pub fn parse_tokens_file(text: &str, path: &str) -> Result<Vec<TokenEntry>, String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("{path}: not a JSON object of tokens: {e}"))?;
    if map.is_empty() {
        return Err(format!("{path}: no tokens configured"));
    }
    let mut out = Vec::new();
    for (token, v) in map {
        let shown = format!("{path}: token #{}", out.len() + 1);
        let obj = v.as_object().ok_or_else(|| format!("{shown}: its value must be an object"))?;
        let string = |key: &str| -> Result<String, String> {
            match obj.get(key) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(format!("{shown}: \"{key}\" must be a non-empty string")),
                None => Err(format!("{shown}: \"{key}\" is missing")),
            }
        };
        let max_connections = match obj.get("max_connections") {
            None => 3,
            Some(serde_json::Value::Number(n)) => parse_max(&n.to_string(), &format!("{shown}: \"max_connections\""))?,
            Some(other) => parse_max(&other.to_string(), &format!("{shown}: \"max_connections\""))?,
        };
        for key in obj.keys() {
            if !["srh_id", "connection_string", "max_connections"].contains(&key.as_str()) {
                return Err(format!("{shown}: unknown field \"{key}\""));
            }
        }
        out.push(TokenEntry {
            token,
            srh_id: string("srh_id")?,
            connection_string: string("connection_string")?,
            max_connections,
        });
    }
    Ok(out)
}

impl Settings {
    /// Reads SRH's environment (`get` is `std::env::var` in production).
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let mode = get("SRH_MODE").unwrap_or_else(|| "file".into());
        let entries = match mode.as_str() {
            "env" => {
                let need = |k: &str| get(k).filter(|v| !v.is_empty()).ok_or_else(|| format!("SRH_MODE=env needs {k}"));
                let max = match get("SRH_MAX_CONNECTIONS") {
                    Some(v) => parse_max(&v, "SRH_MAX_CONNECTIONS")?,
                    None => 3,
                };
                vec![TokenEntry {
                    token: need("SRH_TOKEN")?,
                    srh_id: ENV_SRH_ID.into(),
                    connection_string: need("SRH_CONNECTION_STRING")?,
                    max_connections: max,
                }]
            }
            "file" => {
                let path = get("SRH_CONFIG_FILE").unwrap_or_else(|| DEFAULT_CONFIG_FILE.into());
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("cannot read the tokens file {path}: {e}"))?;
                parse_tokens_file(&text, &path)?
            }
            other => return Err(format!("SRH_MODE must be 'env' or 'file', got '{other}'")),
        };
        let port = match get("SRH_PORT") {
            Some(p) => Some(p.trim().parse::<u16>().map_err(|_| format!("SRH_PORT must be a port number, got '{p}'"))?),
            None => None,
        };
        let ipv6 = get("SRH_IPV6").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        Ok(Settings { proxy: Proxy::new(&entries)?, port, ipv6 })
    }
}

impl Proxy {
    /// Validates the entries and builds one pool per `srh_id`.
    pub fn new(entries: &[TokenEntry]) -> Result<Proxy, String> {
        let mut pools: HashMap<String, (Arc<Pool>, String)> = HashMap::new();
        let mut tokens: Vec<(Vec<u8>, Arc<Pool>)> = Vec::new();
        for e in entries {
            if e.token.is_empty() || e.token.bytes().any(|c| !c.is_ascii_graphic()) {
                return Err(format!("srh_id {}: tokens must be non-empty printable ASCII without spaces", e.srh_id));
            }
            if tokens.iter().any(|(t, _)| t == e.token.as_bytes()) {
                return Err(format!("srh_id {}: a token is configured twice", e.srh_id));
            }
            let target = Target::parse(&e.connection_string)
                .map_err(|why| format!("srh_id {}: bad connection_string: {why}", e.srh_id))?;
            let pool = match pools.get(&e.srh_id) {
                Some((pool, conn_str)) => {
                    if *conn_str != e.connection_string || pool.max_connections != e.max_connections {
                        return Err(format!(
                            "srh_id {}: tokens sharing an srh_id must have the same connection_string and max_connections",
                            e.srh_id
                        ));
                    }
                    pool.clone()
                }
                None => {
                    let pool = Pool::new(e.srh_id.clone(), target, e.max_connections);
                    pools.insert(e.srh_id.clone(), (pool.clone(), e.connection_string.clone()));
                    pool
                }
            };
            tokens.push((e.token.clone().into_bytes(), pool));
        }
        if tokens.is_empty() {
            return Err("no tokens configured".into());
        }
        let mut pools: Vec<Arc<Pool>> = pools.into_values().map(|(p, _)| p).collect();
        pools.sort_by(|a, b| a.srh_id.cmp(&b.srh_id));
        Ok(Proxy { tokens, pools })
    }

    /// The pool of a token (every token compared, in constant time each).
    pub fn authenticate(&self, token: &[u8]) -> Option<Arc<Pool>> {
        let i = crate::auth::find(self.tokens.iter().map(|(t, _)| t.as_slice()), token)?;
        Some(self.tokens[i].1.clone())
    }

    /// Closes idle connections of pools unused for `idle_timeout`, every few seconds, forever.
    pub fn spawn_reaper(&self, idle_timeout: Duration) {
        let pools = self.pools.clone();
        let every = (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                for p in &pools {
                    if p.reap(idle_timeout) {
                        spinel_engine::log::verbose(&format!("Closed the idle connections of pool {}", p.srh_id));
                    }
                }
            }
        });
    }

    /// Runs a request on one borrowed connection. Returns the outcome and whether any
    /// command may have written (for the sync token).
    pub async fn run(&self, pool: &Arc<Pool>, cmds: &[Args], multi: bool, fmt: Format) -> (Outcome, bool) {
        let wrote = cmds.iter().any(may_write);
        let refusals: Vec<Option<String>> = cmds.iter().map(refusal).collect();
        if multi && refusals.iter().any(Option::is_some) {
            return (Outcome::Fail(400, EXECABORT.into()), false);
        }
        let (wire, plan) = if multi { multi_wire(cmds) } else { pipeline_wire(cmds, &refusals) };
        for attempt in 0..2 {
            let mut lease = match pool.get().await {
                Ok(l) => l,
                Err(e) => return (Outcome::Fail(500, e), false),
            };
            match lease.conn().request(&wire).await {
                Ok(frames) => {
                    let outcome = if multi { multi_outcome(frames, fmt) } else { pipeline_outcome(frames, &plan, fmt) };
                    return (outcome, wrote);
                }
                Err(e) => {
                    let reused = lease.reused;
                    lease.discard();
                    // A connection that sat idle may have been closed by a restarted server
                    // just now: try once more on a fresh one.
                    if reused && attempt == 0 {
                        continue;
                    }
                    return (Outcome::Fail(500, format!("ERR backend connection failed: {e}")), wrote);
                }
            }
        }
        (Outcome::Fail(500, "ERR backend connection failed".into()), wrote)
    }

    /// A dedicated connection subscribed to `name` (SUBSCRIBE or PSUBSCRIBE).
    pub async fn subscribe(&self, pool: &Arc<Pool>, pattern: bool, name: &[u8]) -> Result<conn::Conn, String> {
        let mut conn = pool.connect().await?;
        let cmd: &[u8] = if pattern { b"PSUBSCRIBE" } else { b"SUBSCRIBE" };
        match conn.request(&[vec![cmd.to_vec(), name.to_vec()]]).await {
            Ok(frames) => match frames.first() {
                Some(Frame::Error(e)) => Err(String::from_utf8_lossy(e).into_owned()),
                _ => Ok(conn),
            },
            Err(e) => Err(format!("ERR backend connection failed: {e}")),
        }
    }
}

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// The stateless rules of the REST API (no read-only tokens in proxy mode).
fn refusal(args: &Args) -> Option<String> {
    let name = String::from_utf8_lossy(args.first()?).to_ascii_lowercase();
    STATEFUL.contains(&name.as_str()).then(|| format!("ERR Command is not allowed over the REST API: '{name}'"))
}

fn may_write(args: &Args) -> bool {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    match commands().lookup(&refs) {
        Found::Command(c) => c.flags & (spec::WRITE | spec::MAY_REPLICATE) != 0,
        _ => true,
    }
}

fn is_blocking(args: &Args) -> bool {
    let name = String::from_utf8_lossy(args.first().map(|a| a.as_slice()).unwrap_or_default()).to_ascii_lowercase();
    BLOCKING.contains(&name.as_str())
}

/// How each command of a pipeline went on the wire.
enum Sent {
    Plain,
    /// Inside MULTI/EXEC: three replies.
    Wrapped,
    Refused(String),
}

fn pipeline_wire(cmds: &[Args], refusals: &[Option<String>]) -> (Vec<Args>, Vec<Sent>) {
    let mut wire = Vec::with_capacity(cmds.len());
    let mut plan = Vec::with_capacity(cmds.len());
    for (c, refused) in cmds.iter().zip(refusals) {
        if let Some(why) = refused {
            plan.push(Sent::Refused(why.clone()));
        } else if is_blocking(c) {
            wire.push(vec![b"MULTI".to_vec()]);
            wire.push(c.clone());
            wire.push(vec![b"EXEC".to_vec()]);
            plan.push(Sent::Wrapped);
        } else {
            wire.push(c.clone());
            plan.push(Sent::Plain);
        }
    }
    (wire, plan)
}

fn multi_wire(cmds: &[Args]) -> (Vec<Args>, Vec<Sent>) {
    let mut wire = Vec::with_capacity(cmds.len() + 2);
    wire.push(vec![b"MULTI".to_vec()]);
    wire.extend(cmds.iter().cloned());
    wire.push(vec![b"EXEC".to_vec()]);
    (wire, Vec::new())
}

fn pipeline_outcome(frames: Vec<Frame>, plan: &[Sent], fmt: Format) -> Outcome {
    let mut frames = frames.into_iter();
    let mut items = Vec::with_capacity(plan.len());
    for sent in plan {
        let item = match sent {
            Sent::Refused(why) => Item::error(why, fmt),
            Sent::Plain => Item::from_frame(&frames.next().unwrap_or(Frame::Null), fmt),
            Sent::Wrapped => {
                let _multi = frames.next();
                let queued = frames.next().unwrap_or(Frame::Null);
                match (queued, frames.next().unwrap_or(Frame::Null)) {
                    (Frame::Error(e), _) => Item::from_frame(&Frame::Error(e), fmt),
                    (_, Frame::Array(mut r)) if r.len() == 1 => Item::from_frame(&r.remove(0), fmt),
                    (_, other) => Item::from_frame(&other, fmt),
                }
            }
        };
        items.push(item);
    }
    Outcome::Items(items)
}

fn multi_outcome(frames: Vec<Frame>, fmt: Format) -> Outcome {
    match frames.into_iter().last() {
        Some(Frame::Array(items)) => Outcome::Items(items.iter().map(|f| Item::from_frame(f, fmt)).collect()),
        Some(Frame::Error(e)) => Outcome::Fail(400, String::from_utf8_lossy(&e).into_owned()),
        Some(other) => Outcome::Items(vec![Item::from_frame(&other, fmt)]),
        None => Outcome::Fail(500, "ERR no reply from the backend".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(token: &str, id: &str, url: &str, max: usize) -> TokenEntry {
        TokenEntry { token: token.into(), srh_id: id.into(), connection_string: url.into(), max_connections: max }
    }

    #[test]
    fn configuration_is_validated() {
        let p = Proxy::new(&[
            entry("a", "x", "redis://h", 3),
            entry("b", "x", "redis://h", 3),
            entry("c", "y", "redis://k", 1),
        ])
        .unwrap();
        assert_eq!(p.pools.len(), 2);
        assert!(Arc::ptr_eq(&p.authenticate(b"a").unwrap(), &p.authenticate(b"b").unwrap()));
        assert!(p.authenticate(b"z").is_none());
        assert!(Proxy::new(&[entry("a", "x", "http://h", 3)]).err().unwrap().contains("redis://"));
        assert!(Proxy::new(&[entry("a", "x", "redis://h", 3), entry("b", "x", "redis://k", 3)]).is_err());
        assert!(Proxy::new(&[entry("a b", "x", "redis://h", 3)]).is_err());
        assert!(Proxy::new(&[]).is_err());

        let f = parse_tokens_file(
            r#"{"t1":{"srh_id":"a","connection_string":"redis://h:1","max_connections":5},"t2":{"srh_id":"b","connection_string":"rediss://k"}}"#,
            "f.json",
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        assert!(f.contains(&entry("t1", "a", "redis://h:1", 5)) && f.contains(&entry("t2", "b", "rediss://k", 3)));
        for (bad, why) in [
            ("[]", "not a JSON object"),
            ("{}", "no tokens"),
            (r#"{"t":1}"#, "must be an object"),
            (r#"{"t":{"connection_string":"redis://h"}}"#, "\"srh_id\" is missing"),
            (r#"{"t":{"srh_id":"a","connection_string":"redis://h","max_connections":0}}"#, "max_connections"),
            (r#"{"t":{"srh_id":"a","connection_string":"redis://h","max_connections":"x"}}"#, "max_connections"),
            (r#"{"t":{"srh_id":"a","connection_string":"redis://h","max_conections":3}}"#, "unknown field"),
        ] {
            let e = parse_tokens_file(bad, "f.json").unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn env_settings() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let s = Settings::from_env(&env(&[
            ("SRH_MODE", "env"),
            ("SRH_TOKEN", "tok"),
            ("SRH_CONNECTION_STRING", "redis://127.0.0.1:6379"),
            ("SRH_PORT", "8080"),
            ("SRH_IPV6", "true"),
        ]))
        .unwrap();
        assert_eq!((s.port, s.ipv6, s.proxy.pools[0].max_connections), (Some(8080), true, 3));
        assert_eq!(s.proxy.pools[0].srh_id, ENV_SRH_ID);
        let e = Settings::from_env(&env(&[("SRH_MODE", "env"), ("SRH_TOKEN", "tok")])).err().unwrap();
        assert!(e.contains("SRH_CONNECTION_STRING"), "{e}");
        let e = Settings::from_env(&env(&[("SRH_MODE", "redis")])).err().unwrap();
        assert!(e.contains("'env' or 'file'"), "{e}");
        let e = Settings::from_env(&env(&[("SRH_MODE", "file"), ("SRH_CONFIG_FILE", "/nonexistent/t.json")]))
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent/t.json"), "{e}");
        let e = Settings::from_env(&env(&[
            ("SRH_MODE", "env"),
            ("SRH_TOKEN", "tok"),
            ("SRH_CONNECTION_STRING", "redis://h"),
            ("SRH_MAX_CONNECTIONS", "lots"),
        ]))
        .err()
        .unwrap();
        assert!(e.contains("SRH_MAX_CONNECTIONS"), "{e}");
    }
}
