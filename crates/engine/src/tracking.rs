//! Client-side caching (Redis's tracking.c): CLIENT TRACKING and the invalidation messages.
//!
//! In the default mode the server remembers, per key, the clients that read it (the tracking
//! table); when the key changes each of them is told once and forgotten. In BCAST mode
//! clients subscribe to key prefixes instead and receive, once per command batch, every
//! modified key under their prefixes. Messages are RESP3 `invalidate` pushes, or — for a
//! RESP2 client redirecting to a connection subscribed to `__redis__:invalidate` — Pub/Sub
//! messages on that channel.
//!
//! Keys are collected where they are modified (`Db::signal_modified`, only while tracking is
//! in use) and processed at the end of each `call()`, where the client running the command is
//! known: it does not get invalidations about its own writes in NOLOOP mode, and otherwise
//! gets them after its reply.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::client::flags;
use crate::cmd::spec;
use crate::cmd::table::Command;
use crate::error::{err, Error};
use crate::reply::Reply;
use crate::server::Server;

/// Every per-client tracking option flag, cleared together when tracking is disabled.
const ALL_FLAGS: u32 = flags::TRACKING
    | flags::TRACKING_BROKEN_REDIR
    | flags::TRACKING_BCAST
    | flags::TRACKING_OPTIN
    | flags::TRACKING_OPTOUT
    | flags::TRACKING_CACHING
    | flags::TRACKING_NOLOOP;

/// A BCAST prefix: keys modified since the last broadcast (with the client that modified
/// them, for NOLOOP) and the clients subscribed to it.
#[derive(Default)]
struct Prefix {
    keys: BTreeMap<Vec<u8>, Option<u64>>,
    clients: Vec<u64>,
}

#[derive(Default)]
struct ClientState {
    redirect: u64,
    prefixes: BTreeSet<Vec<u8>>,
}

#[derive(Default)]
pub struct Tracking {
    /// Key → ids of clients that may have it cached (Redis's TrackingTable).
    table: HashMap<Vec<u8>, Vec<u64>>,
    /// Tracking was enabled at least once (Redis creates its tables then).
    enabled: bool,
    /// Client ids stored across the table (INFO tracking_total_items).
    total_items: u64,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    clients: HashMap<u64, ClientState>,
    /// Clients with tracking on (INFO tracking_clients).
    pub tracking_clients: usize,
    /// Consecutive cron/command runs that could not bring the table under the limit.
    limit_runs: u32,
}

/// The value part of an invalidation message.
enum Payload<'a> {
    Key(&'a [u8]),
    /// An already encoded array of keys (BCAST).
    Proto(&'a [u8]),
    /// All keys (after a flush): a null in the tracking client's protocol.
    Null(bool),
}

/// Orders client ids like Redis's rax of ids stored as native (little-endian) bytes.
fn id_order(id: u64) -> u64 {
    id.swap_bytes()
}

/// Updates the switch that makes `Db::signal_modified` collect keys.
fn refresh(srv: &mut Server) {
    srv.fx.tracking = srv.tracking.tracking_clients > 0 || !srv.tracking.table.is_empty();
}

/// Redis's checkPrefixCollisionsOrReply: prefixes of one client must not overlap.
pub fn check_prefix_collisions(srv: &Server, slot: usize, prefixes: &[&[u8]]) -> Result<(), Error> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let id = srv.clients[slot].id;
    let existing = srv.tracking.clients.get(&id).map(|s| &s.prefixes);
    for (i, p) in prefixes.iter().enumerate() {
        if let Some(e) = existing.and_then(|set| set.iter().find(|e| overlap(e, p))) {
            return Err(err(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(e)
            )));
        }
        if let Some(q) = prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(err(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(q)
            )));
        }
    }
    Ok(())
}

/// Redis's enableTracking. `options` holds the BCAST/OPTIN/OPTOUT/NOLOOP client flags.
pub fn enable(srv: &mut Server, slot: usize, redirect: u64, options: u32, prefixes: &[&[u8]]) {
    let client = &mut srv.clients[slot];
    let id = client.id;
    if !client.has(flags::TRACKING) {
        srv.tracking.tracking_clients += 1;
    }
    client.flags |= flags::TRACKING;
    client.flags &= !(flags::TRACKING_BROKEN_REDIR
        | flags::TRACKING_BCAST
        | flags::TRACKING_OPTIN
        | flags::TRACKING_OPTOUT
        | flags::TRACKING_NOLOOP);
    client.flags |= options & (flags::TRACKING_OPTIN | flags::TRACKING_OPTOUT | flags::TRACKING_NOLOOP);
    let bcast = options & flags::TRACKING_BCAST != 0;
    if bcast {
        client.flags |= flags::TRACKING_BCAST;
    }
    let t = &mut srv.tracking;
    t.enabled = true;
    t.clients.entry(id).or_default().redirect = redirect;
    if bcast {
        let empty: &[&[u8]] = &[b""];
        for &prefix in if prefixes.is_empty() { empty } else { prefixes } {
            let p = t.prefixes.entry(prefix.to_vec()).or_default();
            if !p.clients.contains(&id) {
                p.clients.push(id);
                t.clients.entry(id).or_default().prefixes.insert(prefix.to_vec());
            }
        }
    }
    refresh(srv);
}

/// Redis's disableTracking: leaves the client's prefixes and clears its options. Its ids in
/// the tracking table are dropped lazily, when those keys change.
pub fn disable(srv: &mut Server, slot: usize) {
    let Some(client) = srv.clients.get_mut(slot) else { return };
    let id = client.id;
    let was_tracking = client.has(flags::TRACKING);
    client.flags &= !ALL_FLAGS;
    let t = &mut srv.tracking;
    if let Some(state) = t.clients.remove(&id) {
        for prefix in state.prefixes {
            if let Some(p) = t.prefixes.get_mut(&prefix) {
                p.clients.retain(|&c| c != id);
                if p.clients.is_empty() {
                    t.prefixes.remove(&prefix);
                }
            }
        }
    }
    if was_tracking {
        t.tracking_clients -= 1;
    }
    refresh(srv);
}

/// The redirection of a tracking client (0: none), -1 when tracking is off.
pub fn redirect_of(srv: &Server, slot: usize) -> i64 {
    let c = &srv.clients[slot];
    if !c.has(flags::TRACKING) {
        return -1;
    }
    srv.tracking.clients.get(&c.id).map_or(0, |s| s.redirect as i64)
}

/// CLIENT TRACKINGINFO.
pub fn info_reply(srv: &Server, slot: usize) -> Reply {
    let c = &srv.clients[slot];
    let mut names = vec![if c.has(flags::TRACKING) { "on" } else { "off" }];
    let caching = c.has(flags::TRACKING_CACHING);
    for (flag, name) in
        [(flags::TRACKING_BCAST, "bcast"), (flags::TRACKING_OPTIN, "optin"), (flags::TRACKING_OPTOUT, "optout")]
    {
        if c.has(flag) {
            names.push(name);
            if caching && flag == flags::TRACKING_OPTIN {
                names.push("caching-yes");
            } else if caching && flag == flags::TRACKING_OPTOUT {
                names.push("caching-no");
            }
        }
    }
    if c.has(flags::TRACKING_NOLOOP) {
        names.push("noloop");
    }
    if c.has(flags::TRACKING_BROKEN_REDIR) {
        names.push("broken_redirect");
    }
    let prefixes = srv.tracking.clients.get(&c.id).map(|s| s.prefixes.iter().collect::<Vec<_>>()).unwrap_or_default();
    Reply::Map(vec![
        (Reply::bulk_str("flags"), Reply::Set(names.into_iter().map(Reply::bulk_str).collect())),
        (Reply::bulk_str("redirect"), Reply::Int(redirect_of(srv, slot))),
        (Reply::bulk_str("prefixes"), Reply::bulks(prefixes)),
    ])
}

/// INFO fields: (tracking_total_keys, tracking_total_items, tracking_total_prefixes).
pub fn totals(srv: &Server) -> (usize, u64, usize) {
    (srv.tracking.table.len(), srv.tracking.total_items, srv.tracking.prefixes.len())
}

/// Redis's trackingRememberKeys: the keys a read command fetched are remembered for the
/// client, unless OPTIN without CACHING yes or OPTOUT with CACHING no.
pub fn remember_keys(srv: &mut Server, slot: usize, cmd: &Command, args: &[&[u8]]) {
    let c = &srv.clients[slot];
    let caching = c.has(flags::TRACKING_CACHING);
    if (c.has(flags::TRACKING_OPTIN) && !caching) || (c.has(flags::TRACKING_OPTOUT) && caching) {
        return;
    }
    // Shard channels are declared as keys for routing but are not cached data.
    if cmd.flags & spec::PUBSUB != 0 {
        return;
    }
    let id = c.id;
    let Some(keys) = crate::cmd::command_cmd::command_keys(cmd, args) else { return };
    let t = &mut srv.tracking;
    for (idx, _) in keys {
        let Some(key) = args.get(idx) else { continue };
        let ids = t.table.entry(key.to_vec()).or_default();
        if let Err(pos) = ids.binary_search_by_key(&id_order(id), |&c| id_order(c)) {
            ids.insert(pos, id);
            t.total_items += 1;
        }
    }
    refresh(srv);
}

fn deliver(srv: &mut Server, dest: u64, bytes: Vec<u8>, defer: bool) {
    if defer {
        crate::introspection::defer(srv, dest, bytes);
    } else {
        crate::pubsub::push_async(srv, dest, &bytes, &bytes);
    }
}

/// Redis's sendTrackingMessage: an invalidation for tracking client `target`, sent to it or
/// to the client it redirects to.
fn send(srv: &mut Server, target: u64, payload: Payload, defer: bool) {
    let Some(slot) = srv.clients.slot_of(target) else { return };
    let redirect = srv.tracking.clients.get(&target).map_or(0, |s| s.redirect);
    let mut dest = slot;
    if redirect != 0 {
        match srv.clients.slot_of(redirect) {
            Some(s) => dest = s,
            None => {
                let c = &mut srv.clients[slot];
                c.set(flags::TRACKING_BROKEN_REDIR, true);
                if c.resp3 {
                    let mut msg = Vec::with_capacity(48);
                    Reply::Push(vec![Reply::bulk_str("tracking-redir-broken"), Reply::Int(redirect as i64)])
                        .encode(&mut msg, true);
                    deliver(srv, target, msg, defer);
                }
                return;
            }
        }
    }
    let d = &srv.clients[dest];
    let mut msg = Vec::with_capacity(64);
    if d.resp3 {
        msg.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
    } else if redirect != 0 && d.has(flags::PUBSUB) {
        msg.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
    } else {
        // RESP2 without a subscribed redirection: nowhere to send it.
        return;
    }
    match payload {
        Payload::Key(key) => {
            msg.extend_from_slice(b"*1\r\n");
            spinel_resp::write::bulk(&mut msg, key);
        }
        Payload::Proto(p) => msg.extend_from_slice(p),
        Payload::Null(resp3) => spinel_resp::write::null(&mut msg, resp3),
    }
    let dest_id = d.id;
    deliver(srv, dest_id, msg, defer);
}

/// Redis's trackingInvalidateKey. `modifier` is the client whose command changed the key
/// (None for expiry and evictions); `defer` holds messages for the current client until
/// after its reply.
fn invalidate_key(srv: &mut Server, key: &[u8], modifier: Option<u64>, bcast: bool, defer: bool) {
    if !srv.tracking.enabled {
        return;
    }
    if bcast && !srv.tracking.prefixes.is_empty() {
        for (prefix, p) in srv.tracking.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                p.keys.insert(key.to_vec(), modifier);
            }
        }
    }
    let Some(ids) = srv.tracking.table.remove(key) else { return };
    srv.tracking.total_items -= ids.len() as u64;
    let current = srv.introspection.current;
    for target in ids {
        let Some(c) = srv.clients.slot_of(target).and_then(|s| srv.clients.get(s)) else { continue };
        // A client that switched to BCAST does not hear about keys it read before.
        if !c.has(flags::TRACKING) || c.has(flags::TRACKING_BCAST) {
            continue;
        }
        let is_current = Some(target) == current;
        if c.has(flags::TRACKING_NOLOOP) && is_current {
            continue;
        }
        send(srv, target, Payload::Key(key), defer && is_current);
    }
}

/// Processes the keys modified since the last call (`modifier` ran the command, if any).
pub fn process_modified(srv: &mut Server, modifier: Option<u64>) {
    for (key, by_client) in std::mem::take(&mut srv.fx.tracking_keys) {
        invalidate_key(srv, &key, modifier.filter(|_| by_client), true, true);
    }
    refresh(srv);
}

/// Invalidates keys evicted before a command runs. The command has not started, so its
/// client hears of them before its reply (Redis defers only messages produced while a
/// command executes).
pub fn process_evicted(srv: &mut Server) {
    for (key, _) in std::mem::take(&mut srv.fx.tracking_keys) {
        invalidate_key(srv, &key, None, true, false);
    }
    refresh(srv);
}

/// Redis's trackingInvalidateKeysOnFlush: every tracking client is told that all its keys are
/// invalid (a null), and the table is emptied.
pub fn invalidate_on_flush(srv: &mut Server) {
    if srv.tracking.tracking_clients > 0 {
        let current = srv.introspection.current;
        let targets: Vec<(u64, bool)> =
            srv.clients.iter().filter(|c| c.has(flags::TRACKING)).map(|c| (c.id, c.resp3)).collect();
        for (id, resp3) in targets {
            send(srv, id, Payload::Null(resp3), Some(id) == current);
        }
    }
    srv.tracking.table = HashMap::new();
    srv.tracking.total_items = 0;
    refresh(srv);
}

/// Redis's trackingLimitUsedSlots: above `tracking-table-max-keys`, keys are dropped from the
/// table (their clients are told as if they changed), with more effort on each run that
/// could not get under the limit.
fn limit_used_slots(srv: &mut Server) {
    if !srv.tracking.enabled {
        return;
    }
    let max = srv.config.int("tracking-table-max-keys").max(0) as usize;
    if max == 0 {
        return;
    }
    if srv.tracking.table.len() <= max {
        srv.tracking.limit_runs = 0;
        return;
    }
    let mut effort = 100 * (srv.tracking.limit_runs as usize + 1);
    while effort > 0 {
        effort -= 1;
        let Some(key) = srv.tracking.table.keys().next().cloned() else { break };
        invalidate_key(srv, &key, None, false, false);
        if srv.tracking.table.len() <= max {
            srv.tracking.limit_runs = 0;
            refresh(srv);
            return;
        }
    }
    srv.tracking.limit_runs += 1;
    refresh(srv);
}

/// The array of modified keys for a prefix, without those `exclude` modified itself (NOLOOP);
/// None if that leaves nothing.
fn broadcast_proto(keys: &BTreeMap<Vec<u8>, Option<u64>>, exclude: Option<u64>) -> Option<Vec<u8>> {
    let wanted: Vec<&Vec<u8>> =
        keys.iter().filter(|(_, m)| exclude.is_none() || **m != exclude).map(|(k, _)| k).collect();
    if wanted.is_empty() {
        return None;
    }
    let mut proto = Vec::with_capacity(wanted.len() * 16 + 8);
    spinel_resp::write::array_header(&mut proto, wanted.len());
    for k in wanted {
        spinel_resp::write::bulk(&mut proto, k);
    }
    Some(proto)
}

/// Redis's trackingBroadcastInvalidationMessages: each BCAST prefix's modified keys go to its
/// clients (after any reply being sent now), then the prefix starts collecting afresh.
fn broadcast(srv: &mut Server) {
    if !srv.tracking.enabled || srv.tracking.tracking_clients == 0 {
        return;
    }
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
    for p in srv.tracking.prefixes.values_mut() {
        if p.keys.is_empty() {
            continue;
        }
        let Some(common) = broadcast_proto(&p.keys, None) else { continue };
        for &id in &p.clients {
            let noloop =
                srv.clients.slot_of(id).and_then(|s| srv.clients.get(s)).is_some_and(|c| c.has(flags::TRACKING_NOLOOP));
            if noloop {
                if let Some(adhoc) = broadcast_proto(&p.keys, Some(id)) {
                    pending.push((id, adhoc));
                }
            } else {
                pending.push((id, common.clone()));
            }
        }
        p.keys.clear();
    }
    for (id, proto) in pending {
        send(srv, id, Payload::Proto(&proto), true);
    }
}

/// Before a command runs (Redis's processCommand): keep the table within its limit.
pub fn before_command(srv: &mut Server) {
    if srv.tracking.tracking_clients > 0 {
        limit_used_slots(srv);
    }
}

/// The tracking part of call()'s epilogue: invalidate what the command modified, then
/// remember what a tracking client read.
pub fn after_call(srv: &mut Server, slot: usize, cmd: &Command, args: &[&[u8]]) {
    if !srv.fx.tracking_keys.is_empty() {
        let id = srv.clients.get(slot).map(|c| c.id);
        process_modified(srv, id);
    }
    if cmd.flags & spec::READONLY != 0 && !matches!(cmd.spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        let c = &srv.clients[slot];
        if c.has(flags::TRACKING) && !c.has(flags::TRACKING_BCAST) {
            remember_keys(srv, slot, cmd, args);
        }
    }
}

/// After a client request (Redis's resetClient and beforeSleep): CLIENT CACHING lasts for one
/// command or transaction; BCAST clients get this round's keys.
pub fn after_request(srv: &mut Server, slot: usize, args: &[&[u8]]) {
    if let Some(c) = srv.clients.get_mut(slot) {
        let is_client_cmd = args.first().is_some_and(|a| a.eq_ignore_ascii_case(b"client"));
        if c.has(flags::TRACKING_CACHING) && !c.has(flags::MULTI) && !is_client_cmd {
            c.set(flags::TRACKING_CACHING, false);
        }
    }
    broadcast(srv);
}

/// Tracking upkeep in the cron: keys expired by the active cycle, the table limit, broadcasts.
pub fn cron(srv: &mut Server) {
    if !srv.fx.tracking_keys.is_empty() {
        process_modified(srv, None);
    }
    if srv.tracking.tracking_clients > 0 {
        limit_used_slots(srv);
    }
    broadcast(srv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_proto_skips_own_keys() {
        let mut keys = BTreeMap::new();
        keys.insert(b"a".to_vec(), Some(1));
        keys.insert(b"b".to_vec(), None);
        assert_eq!(broadcast_proto(&keys, None).unwrap(), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(broadcast_proto(&keys, Some(1)).unwrap(), b"*1\r\n$1\r\nb\r\n");
        keys.remove(&b"b"[..]);
        assert!(broadcast_proto(&keys, Some(1)).is_none());
    }

    #[test]
    fn ids_sort_like_little_endian_bytes() {
        let mut ids = vec![256u64, 1, 2];
        ids.sort_by_key(|&i| id_order(i));
        assert_eq!(ids, vec![256, 1, 2]);
    }
}
