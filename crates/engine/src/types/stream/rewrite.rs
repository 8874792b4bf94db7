//! The commands that rebuild a stream (Redis's rewriteStreamObject, for AOF rewrites):
//! an XADD per entry (or `XADD key MAXLEN 0 0-1 x y` for an empty stream), an XSETID with
//! the counters, then per group an XGROUP CREATE with its read counter, an XCLAIM … FORCE
//! per pending entry (consumer by consumer) and an XGROUP CREATECONSUMER per consumer with
//! nothing pending.

use super::{Stream, StreamId};

/// Calls `emit` with each command's arguments, in Redis's order.
pub fn commands(key: &[u8], s: &Stream, mut emit: impl FnMut(&[&[u8]])) {
    let mut buf = itoa::Buffer::new();
    if s.is_empty() {
        emit(&[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    } else {
        let mut argv: Vec<Vec<u8>> = Vec::new();
        for e in s.range(StreamId::MIN, StreamId::MAX, false) {
            argv.clear();
            argv.push(b"XADD".to_vec());
            argv.push(key.to_vec());
            argv.push(e.id.to_bytes());
            for (f, v) in e.pairs() {
                argv.push(f.bytes(&mut buf).to_vec());
                argv.push(v.bytes(&mut buf).to_vec());
            }
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            emit(&refs);
        }
    }
    let last = s.last_id.to_bytes();
    let added = s.entries_added.to_string();
    let max_deleted = s.max_deleted_entry_id.to_bytes();
    emit(&[b"XSETID", key, &last, b"ENTRIESADDED", added.as_bytes(), b"MAXDELETEDID", &max_deleted]);
    for (name, g) in s.groups() {
        let last = g.last_id.to_bytes();
        let read = g.entries_read.to_string();
        emit(&[b"XGROUP", b"CREATE", key, name, &last, b"ENTRIESREAD", read.as_bytes()]);
        for c in g.consumers() {
            if c.pel.is_empty() {
                emit(&[b"XGROUP", b"CREATECONSUMER", key, name, &c.name]);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                let id = id.to_bytes();
                let time = nack.delivery_time.to_string();
                let count = nack.delivery_count.to_string();
                emit(&[
                    b"XCLAIM",
                    key,
                    name,
                    &c.name,
                    b"0",
                    &id,
                    b"TIME",
                    time.as_bytes(),
                    b"RETRYCOUNT",
                    count.as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ]);
            }
        }
    }
}
