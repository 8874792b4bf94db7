//! INFO replication and the replicas' health (Redis's genRedisInfoString "Replication"
//! section and refreshGoodSlavesCount), for both roles.

use std::fmt::Write;

use super::replica::LinkState;
use crate::client::Client;
use crate::server::Server;

/// The replicas receiving our stream, in attach order.
fn replicas(srv: &Server) -> Vec<&Client> {
    srv.repl.replicas.iter().filter_map(|id| srv.clients.slot_of(*id).and_then(|s| srv.clients.get(s))).collect()
}

/// Seconds since the replica last acknowledged (its lag).
fn lag_secs(srv: &Server, c: &Client) -> i64 {
    (crate::util::time::now_ms().max(srv.fx.now_ms) - c.repl_ack_ms).max(0) / 1000
}

/// Replicas whose lag is within `min-replicas-max-lag` (Redis's repl_good_slaves_count).
pub fn good_replicas_count(srv: &Server) -> usize {
    let max_lag = srv.config.int("min-replicas-max-lag");
    replicas(srv).iter().filter(|c| lag_secs(srv, c) <= max_lag).count()
}

/// Redis's checkGoodReplicasStatus: a replica, or min-replicas-* off, or enough good ones.
pub fn enough_good_replicas(srv: &Server) -> bool {
    let to_write = srv.config.int("min-replicas-to-write");
    srv.repl.master.is_some()
        || to_write == 0
        || srv.config.int("min-replicas-max-lag") == 0
        || good_replicas_count(srv) as i64 >= to_write
}

/// The replica's part: where the master is and how the link is doing.
fn replica_lines(srv: &Server, out: &mut String) {
    let Some(link) = &srv.repl.master else { return };
    let now_s = crate::util::time::now_ms() / 1000;
    let up = link.state == LinkState::Connected;
    // Without a master client Redis shows its cached master's offsets: the offset this
    // server had reached (its own when it just became a replica).
    let own = srv.repl.offset as i64;
    let (read, applied) = if link.client_id.is_some() { (link.read_offset, link.applied_offset) } else { (own, own) };
    let last_io = if link.client_id.is_some() { now_s - link.last_io_ms / 1000 } else { -1 };
    let _ = write!(
        out,
        "master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{last_io}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{read}\r\nslave_repl_offset:{applied}\r\n",
        link.host,
        link.port,
        if up { "up" } else { "down" },
        u8::from(link.state == LinkState::Transfer),
    );
    if link.state == LinkState::Transfer {
        let size = link.transfer_size.max(0);
        let perc = if size > 0 { link.transfer_read as f64 / size as f64 * 100.0 } else { 0.0 };
        let _ = write!(
            out,
            "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
            link.transfer_size,
            link.transfer_read,
            link.transfer_size - link.transfer_read,
            now_s - link.transfer_last_io_ms / 1000,
        );
    }
    if !up {
        let since = if link.down_since_ms != 0 { now_s - link.down_since_ms / 1000 } else { -1 };
        let _ = write!(out, "master_link_down_since_seconds:{since}\r\n");
    }
    let _ = write!(
        out,
        "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
        srv.config.int("replica-priority"),
        u8::from(srv.config.bool("replica-read-only")),
        u8::from(srv.config.bool("replica-announced")),
    );
}

/// The whole section, without its header.
pub fn section(srv: &Server, out: &mut String) {
    let role = if srv.repl.master.is_some() { "slave" } else { "master" };
    let _ = write!(out, "role:{role}\r\n");
    replica_lines(srv, out);
    let replicas = replicas(srv);
    let _ = write!(out, "connected_slaves:{}\r\n", replicas.len());
    if srv.config.int("min-replicas-to-write") != 0 && srv.config.int("min-replicas-max-lag") != 0 {
        let _ = write!(out, "min_slaves_good_slaves:{}\r\n", good_replicas_count(srv));
    }
    for (i, c) in replicas.iter().enumerate() {
        let ip = c.addr.rsplit_once(':').map_or(c.addr.as_str(), |(ip, _)| ip);
        let _ = write!(
            out,
            "slave{i}:ip={ip},port={},state=online,offset={},lag={}\r\n",
            c.repl_listening_port,
            c.repl_ack_offset,
            lag_secs(srv, c)
        );
    }
    let offset = srv.repl.offset;
    let backlog = srv.repl.backlog.as_ref();
    let _ = write!(
        out,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{offset}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        srv.process.replid,
        srv.repl.replid2,
        srv.repl.second_offset,
        u8::from(backlog.is_some()),
        srv.config.int("repl-backlog-size"),
        backlog.map_or(0, |b| b.first_offset()),
        backlog.map_or(0, |b| b.histlen()),
    );
}
