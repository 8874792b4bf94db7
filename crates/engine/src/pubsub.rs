//! Pub/Sub delivery: who is subscribed to what, (un)subscribing with Redis's confirmations,
//! and publishing (PUBLISH, SPUBLISH and keyspace notifications).
//!
//! Messages are encoded once per protocol and appended to each receiver's outbox, which wakes
//! its connection; a publisher never waits for a subscriber. A subscriber that stops reading
//! keeps its pending bytes counted (outbox plus what its connection still holds, `obuf_bytes`)
//! and is closed when that passes the `client-output-buffer-limit` of its class, as Redis's
//! checkClientOutputBufferLimits does: at once for the hard limit, after the configured seconds
//! for the soft one (checked when output is added and by the cron).

use std::collections::HashMap;

use crate::client::{flags, Client};
use crate::reply::Reply;
use crate::server::Server;

/// Subscribers by channel, by pattern and by shard channel, each list in subscription order
/// (Redis keeps lists, so delivery order is subscription order).
#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    pub patterns: PatternTable,
    pub shard_channels: HashMap<Vec<u8>, Vec<u64>>,
}

impl PubSub {
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }
}

/// Patterns with their subscribers: a vector (PUBLISH walks every pattern) with a map from
/// pattern to position, so (un)subscribing does not scan all patterns.
#[derive(Default)]
pub struct PatternTable {
    entries: Vec<(Vec<u8>, Vec<u64>)>,
    index: HashMap<Vec<u8>, usize>,
}

impl PatternTable {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Vec<u8>, Vec<u64>)> {
        self.entries.iter()
    }

    fn add(&mut self, pattern: &[u8], id: u64) {
        match self.index.get(pattern) {
            Some(&i) => self.entries[i].1.push(id),
            None => {
                self.index.insert(pattern.to_vec(), self.entries.len());
                self.entries.push((pattern.to_vec(), vec![id]));
            }
        }
    }

    fn remove(&mut self, pattern: &[u8], id: u64) {
        let Some(&i) = self.index.get(pattern) else { return };
        let ids = &mut self.entries[i].1;
        ids.retain(|&c| c != id);
        if ids.is_empty() {
            self.index.remove(pattern);
            self.entries.swap_remove(i);
            if let Some((moved, _)) = self.entries.get(i) {
                self.index.insert(moved.clone(), i);
            }
        }
    }
}

/// Which kind of channel a (un)subscription is about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn names(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Kind::Channel => (b"subscribe", b"unsubscribe"),
            Kind::Pattern => (b"psubscribe", b"punsubscribe"),
            Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
        }
    }
}

/// The count a confirmation reports: channels plus patterns, or shard channels alone.
fn count_for(client: &Client, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => client.shard_channels.len() as i64,
        _ => (client.channels.len() + client.patterns.len()) as i64,
    }
}

fn confirmation(kind_name: &[u8], channel: Option<&[u8]>, count: i64) -> Reply {
    Reply::Push(vec![Reply::bulk(kind_name), channel.map_or(Reply::Nil, Reply::bulk), Reply::Int(count)])
}

/// Whether a reply is made only of pushes (subscription confirmations): those reach the
/// client even under CLIENT REPLY OFF/SKIP, as Redis sends them with CLIENT_PUSHING.
pub fn is_push(reply: &Reply) -> bool {
    match reply {
        Reply::Push(_) => true,
        Reply::Multi(items) => !items.is_empty() && items.iter().all(|r| matches!(r, Reply::Push(_))),
        _ => false,
    }
}

/// Subscribes the client to each name, replying once per name (Redis's
/// pubsubSubscribeChannel / pubsubSubscribePattern).
pub fn subscribe(srv: &mut Server, slot: usize, kind: Kind, names: &[&[u8]]) -> Reply {
    let mut replies = Vec::with_capacity(names.len());
    for &name in names {
        let client = &mut srv.clients[slot];
        let id = client.id;
        let added = match kind {
            Kind::Channel => client.channels.insert(name.to_vec(), ()).is_none(),
            Kind::Shard => client.shard_channels.insert(name.to_vec(), ()).is_none(),
            Kind::Pattern => {
                let new = !client.patterns.iter().any(|p| p == name);
                if new {
                    client.patterns.push(name.to_vec());
                }
                new
            }
        };
        let count = count_for(client, kind);
        if added {
            match kind {
                Kind::Channel => srv.pubsub.channels.entry(name.to_vec()).or_default().push(id),
                Kind::Shard => srv.pubsub.shard_channels.entry(name.to_vec()).or_default().push(id),
                Kind::Pattern => srv.pubsub.patterns.add(name, id),
            }
        }
        replies.push(confirmation(kind.names().0, Some(name), count));
    }
    srv.clients[slot].set(flags::PUBSUB, true);
    one_or_many(replies)
}

/// Removes one subscription from the server side tables.
fn forget(srv: &mut Server, kind: Kind, name: &[u8], id: u64) {
    let map = match kind {
        Kind::Channel => &mut srv.pubsub.channels,
        Kind::Shard => &mut srv.pubsub.shard_channels,
        Kind::Pattern => {
            srv.pubsub.patterns.remove(name, id);
            return;
        }
    };
    if let Some(ids) = map.get_mut(name) {
        ids.retain(|&c| c != id);
        if ids.is_empty() {
            map.remove(name);
        }
    }
}

/// Unsubscribes from the given names, or from everything of that kind when `names` is empty
/// (then one reply per subscription, or a single one with a null name if there were none).
pub fn unsubscribe(srv: &mut Server, slot: usize, kind: Kind, names: &[&[u8]]) -> Reply {
    let owned: Vec<Vec<u8>>;
    let all = names.is_empty();
    let targets: Vec<&[u8]> = if all {
        let client = &srv.clients[slot];
        owned = match kind {
            Kind::Channel => client.channels.keys().cloned().collect(),
            Kind::Shard => client.shard_channels.keys().cloned().collect(),
            Kind::Pattern => client.patterns.clone(),
        };
        owned.iter().map(|n| n.as_slice()).collect()
    } else {
        names.to_vec()
    };
    let mut replies = Vec::with_capacity(targets.len().max(1));
    for name in targets {
        let client = &mut srv.clients[slot];
        let id = client.id;
        let removed = match kind {
            Kind::Channel => client.channels.remove(name).is_some(),
            Kind::Shard => client.shard_channels.remove(name).is_some(),
            Kind::Pattern => match client.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    client.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        let count = count_for(client, kind);
        if removed {
            forget(srv, kind, name, id);
        }
        replies.push(confirmation(kind.names().1, Some(name), count));
    }
    let client = &mut srv.clients[slot];
    if all && replies.is_empty() {
        replies.push(confirmation(kind.names().1, None, count_for(client, kind)));
    }
    if client.subscriptions() == 0 {
        client.set(flags::PUBSUB, false);
    }
    one_or_many(replies)
}

fn one_or_many(mut replies: Vec<Reply>) -> Reply {
    if replies.len() == 1 {
        replies.pop().unwrap_or(Reply::NoReply)
    } else {
        Reply::Multi(replies)
    }
}

fn encode_message(kind: &[u8], pattern: Option<&[u8]>, channel: &[u8], message: &[u8], resp3: bool) -> Vec<u8> {
    use spinel_resp::write;
    let mut out = Vec::with_capacity(32 + channel.len() + message.len());
    write::push_header(&mut out, if pattern.is_some() { 4 } else { 3 }, resp3);
    write::bulk(&mut out, kind);
    if let Some(p) = pattern {
        write::bulk(&mut out, p);
    }
    write::bulk(&mut out, channel);
    write::bulk(&mut out, message);
    out
}

/// The output-buffer-limit class of a client: pubsub for subscribers, normal otherwise
/// (MONITOR clients count as normal, as in Redis's getClientType).
fn limits_for(srv: &Server, client: &Client) -> crate::config::ObufLimit {
    let limits = srv.config.output_buffer_limits();
    if client.has(flags::PUBSUB) {
        limits[2]
    } else {
        limits[0]
    }
}

/// Closes the client if its pending output passed its class's limits; true if it did.
fn enforce_limits(srv: &mut Server, slot: usize) -> bool {
    let now = srv.fx.now_ms;
    let Some(client) = srv.clients.get(slot) else { return false };
    let limits = limits_for(srv, client);
    let Some(client) = srv.clients.get_mut(slot) else { return false };
    if !crate::client::output_limit_reached(client, limits.hard, limits.soft, limits.soft_seconds, now) {
        return false;
    }
    client.set(flags::CLOSE_ASAP, true);
    client.wake();
    let info = crate::cmd::client_cmd::info_line(srv, &srv.clients[slot]);
    crate::log::warning(&format!("Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."));
    srv.stats.client_outbuf_limit_disconnections += 1;
    true
}

/// Queues bytes for a client outside the reply to its own command (pub/sub messages,
/// invalidations, MONITOR lines), choosing the encoding for its protocol and enforcing the
/// output buffer limits. Nothing is queued for a client already being closed.
pub fn push_async(srv: &mut Server, id: u64, resp2: &[u8], resp3: &[u8]) {
    let Some(slot) = srv.clients.slot_of(id) else { return };
    let client = &mut srv.clients[slot];
    if client.has(flags::CLOSE_ASAP) {
        return;
    }
    client.push_output(if client.resp3 { resp3 } else { resp2 });
    enforce_limits(srv, slot);
}

/// Publishes `message` on `channel` (shard channels when `sharded`); returns receivers.
pub fn publish(srv: &mut Server, channel: &[u8], message: &[u8], sharded: bool) -> usize {
    let kind: &[u8] = if sharded { b"smessage" } else { b"message" };
    let mut receivers = 0;
    let subscribers = if sharded { srv.pubsub.shard_channels.get(channel) } else { srv.pubsub.channels.get(channel) };
    if let Some(ids) = subscribers.cloned() {
        let (m2, m3) =
            (encode_message(kind, None, channel, message, false), encode_message(kind, None, channel, message, true));
        for id in ids {
            push_async(srv, id, &m2, &m3);
            receivers += 1;
        }
    }
    if !sharded && !srv.pubsub.patterns.is_empty() {
        let matching: Vec<(Vec<u8>, Vec<u64>)> = srv
            .pubsub
            .patterns
            .iter()
            .filter(|(p, _)| crate::util::glob::matches(p, channel, false))
            .cloned()
            .collect();
        for (pattern, ids) in matching {
            let m2 = encode_message(b"pmessage", Some(&pattern), channel, message, false);
            let m3 = encode_message(b"pmessage", Some(&pattern), channel, message, true);
            for id in ids {
                push_async(srv, id, &m2, &m3);
                receivers += 1;
            }
        }
    }
    srv.stats.pubsub_channels_messages += receivers as u64;
    receivers
}

/// Publishes the queued keyspace events (`__keyspace@<db>__:<key>` and
/// `__keyevent@<db>__:<event>`), as Redis's notifyKeyspaceEvent does.
pub fn publish_keyspace_events(srv: &mut Server) {
    let events = std::mem::take(&mut srv.fx.events);
    let flags = srv.fx.notify_flags;
    for ev in events {
        if flags & crate::keyspace::notify::KEYSPACE != 0 {
            let mut chan = format!("__keyspace@{}__:", ev.db).into_bytes();
            chan.extend_from_slice(&ev.key);
            publish(srv, &chan, ev.event.as_bytes(), false);
        }
        if flags & crate::keyspace::notify::KEYEVENT != 0 {
            let chan = format!("__keyevent@{}__:{}", ev.db, ev.event).into_bytes();
            publish(srv, &chan, &ev.key, false);
        }
    }
}

/// Channels (or shard channels) with subscribers, optionally matching a glob pattern.
pub fn channel_list(srv: &Server, pattern: Option<&[u8]>, sharded: bool) -> Vec<Vec<u8>> {
    let map = if sharded { &srv.pubsub.shard_channels } else { &srv.pubsub.channels };
    map.keys().filter(|c| pattern.is_none_or(|p| crate::util::glob::matches(p, c, false))).cloned().collect()
}

/// Subscriber count of a channel (patterns excluded).
pub fn subscriber_count(srv: &Server, channel: &[u8], sharded: bool) -> usize {
    let map = if sharded { &srv.pubsub.shard_channels } else { &srv.pubsub.channels };
    map.get(channel).map_or(0, Vec::len)
}

/// Redis's clientsCron check of output buffer limits: a client over the soft limit for too
/// long is closed even if nothing new is written to it.
pub fn cron_check_output_limits(srv: &mut Server) {
    let pending: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| !c.has(flags::CLOSE_ASAP) && (c.obuf_bytes > 0 || !c.outbox.is_empty()))
        .map(|c| c.slot)
        .collect();
    for slot in pending {
        enforce_limits(srv, slot);
    }
}

/// Removes the client from every channel, pattern and shard channel it subscribed to,
/// without notifying it (RESET, disconnect).
pub fn unsubscribe_all(srv: &mut Server, slot: usize) {
    let Some(client) = srv.clients.get_mut(slot) else { return };
    let id = client.id;
    let channels: Vec<Vec<u8>> = client.channels.drain().map(|(c, _)| c).collect();
    let shard: Vec<Vec<u8>> = client.shard_channels.drain().map(|(c, _)| c).collect();
    let patterns = std::mem::take(&mut client.patterns);
    client.set(flags::PUBSUB, false);
    for name in channels {
        forget(srv, Kind::Channel, &name, id);
    }
    for name in shard {
        forget(srv, Kind::Shard, &name, id);
    }
    for name in patterns {
        forget(srv, Kind::Pattern, &name, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_table_keeps_index_consistent() {
        let mut t = PatternTable::default();
        t.add(b"a*", 1);
        t.add(b"b*", 1);
        t.add(b"c*", 2);
        t.add(b"a*", 2);
        t.remove(b"a*", 1);
        assert_eq!(t.len(), 3);
        t.remove(b"a*", 2);
        assert_eq!(t.len(), 2);
        // "c*" moved into the hole left by "a*" and is still found.
        t.remove(b"c*", 2);
        assert_eq!(t.len(), 1);
        assert_eq!(t.iter().next().map(|(p, _)| p.as_slice()), Some(&b"b*"[..]));
    }

    #[test]
    fn pushes_are_recognised() {
        let c = confirmation(b"subscribe", Some(b"x"), 1);
        assert!(is_push(&c));
        assert!(is_push(&Reply::Multi(vec![c.clone(), c])));
        assert!(!is_push(&Reply::Ok));
        assert!(!is_push(&Reply::Multi(vec![])));
    }
}

/// Subscribes a client to a channel without sending the confirmation (the REST API's SSE
/// stream reports subscriptions itself). Returns false if it was already subscribed.
pub fn subscribe_channel(srv: &mut Server, slot: usize, channel: &[u8]) -> bool {
    let Some(client) = srv.clients.get(slot) else { return false };
    if client.channels.contains_key(channel) {
        return false;
    }
    subscribe(srv, slot, Kind::Channel, &[channel]);
    true
}

/// Subscribes a client to a pattern, like [`subscribe_channel`].
pub fn subscribe_pattern(srv: &mut Server, slot: usize, pattern: &[u8]) -> bool {
    let Some(client) = srv.clients.get(slot) else { return false };
    if client.patterns.iter().any(|p| p == pattern) {
        return false;
    }
    subscribe(srv, slot, Kind::Pattern, &[pattern]);
    true
}
