//! MONITOR (Redis's replicationFeedMonitors): every command executed, as one status line per
//! command sent to each monitoring client:
//! `+1700000000.123456 [0 127.0.0.1:12345] "set" "k" "v"`.
//!
//! Commands called by Lua show `[db lua]`, unix-socket clients `[db unix:/path]`. Arguments a
//! command redacted (AUTH passwords, sensitive CONFIG SET values) show as `"(redacted)"`.

use crate::client::{flags, Client};
use crate::server::Server;

/// The line for one command, ending in CRLF.
pub fn format_line(srv: &Server, client: &Client, db: usize, args: &[&[u8]], redacted: &[usize]) -> Vec<u8> {
    let now = crate::util::time::now_us();
    let mut line = format!("+{}.{:06} ", now.div_euclid(1_000_000), now.rem_euclid(1_000_000)).into_bytes();
    if client.has(flags::SCRIPT) {
        line.extend_from_slice(format!("[{db} lua] ").as_bytes());
    } else if client.has(flags::UNIX_SOCKET) {
        let path = srv.config.string("unixsocket").unwrap_or_default();
        line.extend_from_slice(format!("[{db} unix:{path}] ").as_bytes());
    } else {
        line.extend_from_slice(format!("[{db} {}] ", client.addr).as_bytes());
    }
    for (j, arg) in args.iter().enumerate() {
        if j > 0 {
            line.push(b' ');
        }
        let shown: &[u8] = if redacted.contains(&j) { b"(redacted)" } else { arg };
        crate::config::parse::repr_into(&mut line, shown);
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Sends the command to every monitor. The line for a monitor that issued the command itself
/// follows that command's reply (`defer_to`), as Redis appends it after the reply.
pub fn feed(srv: &mut Server, slot: usize, args: &[&[u8]], redacted: &[usize], current: Option<u64>) {
    if srv.loading {
        return;
    }
    srv.introspection
        .monitors
        .retain(|&id| srv.clients.slot_of(id).and_then(|s| srv.clients.get(s)).is_some_and(|c| c.has(flags::MONITOR)));
    if srv.introspection.monitors.is_empty() {
        return;
    }
    let Some(client) = srv.clients.get(slot) else { return };
    let line = format_line(srv, client, client.db, args, redacted);
    let monitors = srv.introspection.monitors.clone();
    for id in monitors {
        let Some(m) = srv.clients.slot_of(id).and_then(|s| srv.clients.get(s)) else { continue };
        // A monitor's own replies are off: so are the lines it would be sent.
        if m.reply_off {
            continue;
        }
        if Some(id) == current {
            super::defer(srv, id, line.clone());
        } else {
            crate::pubsub::push_async(srv, id, &line, &line);
        }
    }
}
