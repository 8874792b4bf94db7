//! WAIT numreplicas timeout (Redis's waitCommand): block until enough replicas acknowledged
//! the client's last write (its `woff`), or the timeout passes; the reply is the number that
//! did.
//!
//! A waiting client is blocked like BLPOP (kind `Wait`, no keys) with its offset and count
//! in the block state. Each REPLCONF ACK checks the waiting clients ([`serve_waiting`]); the
//! timeout reply counts the acknowledgements at that moment. Blocking sends
//! REPLCONF GETACK * down the stream after the command so replicas answer at once instead of
//! within a second.

use crate::client::{BlockKind, BlockState};
use crate::reply::Reply;
use crate::server::Server;

/// Replicas whose acknowledged offset reached `offset` (replicationCountAcksByOffset).
pub fn count_acks(srv: &Server, offset: u64) -> i64 {
    srv.repl
        .replicas
        .iter()
        .filter_map(|id| srv.clients.slot_of(*id).and_then(|s| srv.clients.get(s)))
        .filter(|c| c.repl_ack_offset >= offset)
        .count() as i64
}

/// The offset and replica count a WAIT blocked with (kept in the block state's `extra`).
fn wanted(state: &BlockState) -> (u64, i64) {
    let num = |i: usize| state.extra.get(i).and_then(|v| std::str::from_utf8(v).ok()?.parse().ok());
    (num(0).unwrap_or(0) as u64, num(1).unwrap_or(0))
}

/// The state a WAIT blocks with.
pub fn block_state(db: usize, args: &[&[u8]], deadline_ms: i64, offset: u64, numreplicas: i64) -> BlockState {
    BlockState {
        db,
        keys: Vec::new(),
        deadline_ms,
        args: args.iter().map(|a| a.to_vec()).collect(),
        extra: vec![offset.to_string().into_bytes(), numreplicas.to_string().into_bytes()],
        timeout_reply: Reply::Int(0),
        kind: BlockKind::Wait,
    }
}

/// A WAIT timed out (or was unblocked): how many replicas acknowledged by now.
pub fn timeout_reply(srv: &Server, state: &BlockState) -> Reply {
    Reply::Int(count_acks(srv, wanted(state).0))
}

/// Asks every replica for an acknowledgement once the command is over (Redis does it
/// before sleeping), so the request is not the client's own write.
pub fn request_acks(srv: &mut Server) {
    srv.repl.getack_pending = true;
}

/// Sends the acknowledgement request a WAIT asked for, after its command.
pub fn send_getack(srv: &mut Server) {
    if std::mem::take(&mut srv.repl.getack_pending) && !srv.repl.replicas.is_empty() {
        super::feed(srv, None, &[b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()]);
    }
}

/// After a replica's ACK: answers the WAITs now satisfied (processClientsWaitingReplicas).
pub fn serve_waiting(srv: &mut Server) {
    let waiting: Vec<(usize, u64, i64)> = srv
        .clients
        .iter()
        .filter_map(|c| {
            let b = c.blocked.as_ref().filter(|b| b.kind == BlockKind::Wait)?;
            let (offset, num) = wanted(b);
            Some((c.slot, offset, num))
        })
        .collect();
    for (slot, offset, num) in waiting {
        let acked = count_acks(srv, offset);
        if acked < num || crate::blocking::unblock(srv, slot).is_none() {
            continue;
        }
        let c = &mut srv.clients[slot];
        let mut out = Vec::new();
        Reply::Int(acked).encode(&mut out, c.resp3);
        c.push_output(&out);
    }
}
