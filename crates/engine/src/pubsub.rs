//! Pub/Sub delivery: who is subscribed to what, and publishing (PUBLISH and keyspace
//! notifications). Messages go into subscribers' outboxes and wake their connections.

use std::collections::HashMap;

use crate::server::Server;

/// Subscribers by channel and by pattern, in subscription order (Redis keeps lists, so
/// delivery order is subscription order).
#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    pub patterns: Vec<(Vec<u8>, Vec<u64>)>,
    pub shard_channels: HashMap<Vec<u8>, Vec<u64>>,
}

impl PubSub {
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
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

/// Appends a pub/sub message to a client's pending output, enforcing the pubsub class of
/// client-output-buffer-limit.
fn deliver(srv: &mut Server, id: u64, bytes_resp2: &[u8], bytes_resp3: &[u8]) {
    let limits = srv.config.output_buffer_limits()[2];
    let now = srv.fx.now_ms;
    let Some(client) = srv.clients.by_id_mut(id) else { return };
    if client.has(crate::client::flags::CLOSE_ASAP) {
        return;
    }
    client.push_output(if client.resp3 { bytes_resp3 } else { bytes_resp2 });
    if crate::client::output_limit_reached(client, limits.hard, limits.soft, limits.soft_seconds, now) {
        client.set(crate::client::flags::CLOSE_ASAP, true);
        client.wake();
        srv.stats.client_outbuf_limit_disconnections += 1;
    }
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
            deliver(srv, id, &m2, &m3);
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
                deliver(srv, id, &m2, &m3);
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

/// Removes the client from every channel, pattern and shard channel it subscribed to,
/// without notifying it (RESET, disconnect).
pub fn unsubscribe_all(srv: &mut Server, slot: usize) {
    let Some(client) = srv.clients.get_mut(slot) else { return };
    let id = client.id;
    let channels: Vec<Vec<u8>> = client.channels.drain().map(|(c, _)| c).collect();
    let shard: Vec<Vec<u8>> = client.shard_channels.drain().map(|(c, _)| c).collect();
    let had_patterns = !client.patterns.is_empty();
    client.patterns.clear();
    client.set(crate::client::flags::PUBSUB, false);
    for (map, names) in [(&mut srv.pubsub.channels, channels), (&mut srv.pubsub.shard_channels, shard)] {
        for name in names {
            if let Some(ids) = map.get_mut(&name) {
                ids.retain(|&c| c != id);
                if ids.is_empty() {
                    map.remove(&name);
                }
            }
        }
    }
    if had_patterns {
        for (_, ids) in srv.pubsub.patterns.iter_mut() {
            ids.retain(|&c| c != id);
        }
        srv.pubsub.patterns.retain(|(_, ids)| !ids.is_empty());
    }
}

/// Subscribes a client to a channel (no reply is sent: the caller reports the subscription
/// itself, as the REST API's SSE stream does). Returns false if it was already subscribed.
pub fn subscribe_channel(srv: &mut Server, slot: usize, channel: &[u8]) -> bool {
    let Some(client) = srv.clients.get_mut(slot) else { return false };
    if client.channels.insert(channel.to_vec(), ()).is_some() {
        return false;
    }
    client.set(crate::client::flags::PUBSUB, true);
    let id = client.id;
    srv.pubsub.channels.entry(channel.to_vec()).or_default().push(id);
    true
}

/// Subscribes a client to a pattern, like [`subscribe_channel`].
pub fn subscribe_pattern(srv: &mut Server, slot: usize, pattern: &[u8]) -> bool {
    let Some(client) = srv.clients.get_mut(slot) else { return false };
    if client.patterns.iter().any(|p| p == pattern) {
        return false;
    }
    client.patterns.push(pattern.to_vec());
    client.set(crate::client::flags::PUBSUB, true);
    let id = client.id;
    match srv.pubsub.patterns.iter_mut().find(|(p, _)| p == pattern) {
        Some((_, ids)) => ids.push(id),
        None => srv.pubsub.patterns.push((pattern.to_vec(), vec![id])),
    }
    true
}
