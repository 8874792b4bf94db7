//! `POST /subscribe/<channel>` and `POST /psubscribe/<pattern>` as server-sent events.
//!
//! The stream starts with `data: subscribe,<channel>,1` (or `psubscribe,<pattern>,1`), then
//! one event per message: `data: message,<channel>,<payload>` or
//! `data: pmessage,<pattern>,<channel>,<payload>`. Payloads are never base64; a payload
//! containing `\n` continues on further `data:` lines, which EventSource joins with `\n`.
//! A `: ping` comment every [`HEARTBEAT`] keeps proxies from closing an idle stream and tells
//! us when the client is gone; so does hyper dropping the body, which closes our channel.
//!
//! Locally the stream is an internal client subscribed through the server's own pub/sub
//! (`pubsub::subscribe_channel`/`subscribe_pattern`): PUBLISH and keyspace events put
//! RESP-encoded messages in its outbox and call its waker, which wakes the task here. In proxy
//! mode it is a dedicated connection to the backend in subscribed mode.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use spinel_engine::client::{flags, Waker};
use spinel_resp::Frame;
use tokio::sync::{mpsc, Notify};

use crate::body::Body;
use crate::Engine;

/// Interval of the `: ping` comments.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Messages buffered between the producer and a slow client before the producer waits (and,
/// locally, the server's pubsub output-buffer limit takes over).
const CHANNEL_DEPTH: usize = 256;

/// One SSE event whose data is `parts` joined by commas.
pub fn event(parts: &[&[u8]]) -> Bytes {
    let mut out = Vec::with_capacity(16 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    out.extend_from_slice(b"data: ");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        for &c in p.iter() {
            out.push(c);
            if c == b'\n' {
                out.extend_from_slice(b"data: ");
            }
        }
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The event for a pub/sub message frame (`message` or `pmessage`), if it is one.
pub fn message_event(frame: &Frame) -> Option<Bytes> {
    let (Frame::Array(items) | Frame::Push(items)) = frame else { return None };
    let parts: Vec<&[u8]> = items
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) | Frame::Simple(b) => Some(b.as_slice()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.first() {
        Some(&b"message") if parts.len() == 3 => Some(event(&parts)),
        Some(&b"pmessage") if parts.len() == 4 => Some(event(&parts)),
        _ => None,
    }
}

/// Starts a local subscription stream.
pub fn local(engine: Arc<dyn Engine>, peer: &str, pattern: bool, name: Vec<u8>) -> Body {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let notify = Arc::new(Notify::new());
    let waker: Waker = {
        let n = notify.clone();
        Arc::new(move || n.notify_one())
    };
    let (slot, id) = {
        let mut srv = engine.lock();
        let (slot, id) = srv.add_client(peer.to_string(), String::new(), -1, Some(waker));
        let c = &mut srv.clients[slot];
        c.set(flags::INTERNAL, true);
        c.authenticated = true;
        if pattern {
            spinel_engine::pubsub::subscribe_pattern(&mut srv, slot, &name);
        } else {
            spinel_engine::pubsub::subscribe_channel(&mut srv, slot, &name);
        }
        (slot, id)
    };
    let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
    let _ = tx.try_send(event(&[kind, &name, b"1"]));
    tokio::spawn(async move {
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        let mut pending: Vec<u8> = Vec::new();
        'stream: loop {
            tokio::select! {
                _ = notify.notified() => {
                    {
                        let mut srv = engine.lock();
                        let Some(c) = srv.clients.get_mut(slot).filter(|c| c.id == id && !c.has(flags::CLOSE_ASAP)) else {
                            break 'stream;
                        };
                        pending.append(&mut c.outbox);
                    }
                    let mut used = 0;
                    while let Ok(Some((frame, n))) = Frame::decode(&pending[used..]) {
                        used += n;
                        if let Some(ev) = message_event(&frame) {
                            if tx.send(ev).await.is_err() {
                                break 'stream;
                            }
                        }
                    }
                    pending.drain(..used);
                }
                _ = heartbeat.tick() => {
                    if tx.send(Bytes::from_static(b": ping\n\n")).await.is_err() {
                        break;
                    }
                }
                _ = tx.closed() => break,
            }
        }
        let mut srv = engine.lock();
        if srv.clients.get(slot).is_some_and(|c| c.id == id) {
            srv.free_client(slot);
        }
    });
    Body::Stream(rx)
}

/// Starts a subscription stream on a dedicated backend connection (proxy mode).
pub fn proxied(mut conn: crate::proxy::conn::Conn, pattern: bool, name: Vec<u8>) -> Body {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
    let _ = tx.try_send(event(&[kind, &name, b"1"]));
    tokio::spawn(async move {
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                frame = conn.read_frame() => {
                    let Ok(frame) = frame else { break };
                    if let Some(ev) = message_event(&frame) {
                        if tx.send(ev).await.is_err() {
                            break;
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    if tx.send(Bytes::from_static(b": ping\n\n")).await.is_err() {
                        break;
                    }
                }
                _ = tx.closed() => break,
            }
        }
        // Dropping the connection closes it: the backend forgets the subscription.
    });
    Body::Stream(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events() {
        assert_eq!(&event(&[b"subscribe", b"ch", b"1"])[..], b"data: subscribe,ch,1\n\n");
        assert_eq!(&event(&[b"message", b"c", b"a\nb"])[..], b"data: message,c,a\ndata: b\n\n");
        let f = Frame::Array(vec![
            Frame::Bulk(b"pmessage".to_vec()),
            Frame::Bulk(b"p*".to_vec()),
            Frame::Bulk(b"pq".to_vec()),
            Frame::Bulk(b"hi".to_vec()),
        ]);
        assert_eq!(&message_event(&f).unwrap()[..], b"data: pmessage,p*,pq,hi\n\n");
        assert!(message_event(&Frame::Array(vec![Frame::Bulk(b"subscribe".to_vec())])).is_none());
    }
}
