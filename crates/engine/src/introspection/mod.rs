//! What `call()` records about each command besides its result: the slow log, latency
//! events, MONITOR lines, and client-side caching (tracking) bookkeeping.
//!
//! [`before_call`] and [`after_call`] bracket every execution (nested ones in EXEC and scripts
//! too). The client whose request is being served at top level is Redis's `current_client`:
//! output meant for it that must follow its reply (MONITOR lines about its own commands,
//! invalidations of keys it modified itself) is held in `deferred` and appended after the
//! reply by [`after_reply`]; everyone else gets such output in their outbox at once.

pub mod latency_monitor;
pub mod monitor;
pub mod slowlog;

use std::time::Duration;

use crate::client::flags;
use crate::cmd::spec;
use crate::cmd::table::Command;
use crate::server::Server;

#[derive(Default)]
pub struct Introspection {
    pub slowlog: slowlog::SlowLog,
    pub latency: latency_monitor::LatencyMonitor,
    /// Clients in MONITOR mode, in the order they asked.
    pub monitors: Vec<u64>,
    /// Argument positions of the running command to hide (Redis's redactClientCommandArgument).
    redacted: Vec<usize>,
    /// The client whose command runs at top level (Redis's `server.current_client`).
    pub current: Option<u64>,
    /// The client whose request `dispatch::process` is handling, if any: a top-level call for
    /// another client is a blocked command being served again.
    request: Option<u64>,
    /// Output to append after the current reply, by destination client id.
    deferred: Vec<(u64, Vec<u8>)>,
    slower_than: i64,
    slowlog_max_len: usize,
    latency_threshold: u64,
}

/// What [`before_call`] saved, restored by [`after_call`] (calls nest).
pub struct CallFrame {
    current: Option<u64>,
    redacted: Vec<usize>,
}

impl Introspection {
    /// Copies the configuration read on every command.
    pub fn configure(&mut self, config: &crate::config::Config) {
        self.slower_than = config.int("slowlog-log-slower-than");
        self.slowlog_max_len = config.int("slowlog-max-len").max(0) as usize;
        self.latency_threshold = config.int("latency-monitor-threshold").max(0) as u64;
    }

    pub fn latency_threshold(&self) -> u64 {
        self.latency_threshold
    }

    pub fn slowlog_max_len(&self) -> usize {
        self.slowlog_max_len
    }
}

/// Marks the start of serving a client request; returns the outer request to restore.
pub fn enter_request(srv: &mut Server, slot: usize) -> Option<u64> {
    let id = srv.clients.get(slot).map(|c| c.id);
    std::mem::replace(&mut srv.introspection.request, id)
}

pub fn leave_request(srv: &mut Server, outer: Option<u64>) {
    srv.introspection.request = outer;
}

/// Hides argument `index` of the running command from the slow log and MONITOR.
pub fn redact(srv: &mut Server, index: usize) {
    if !srv.introspection.redacted.contains(&index) {
        srv.introspection.redacted.push(index);
    }
}

/// Queues output for client `id` to follow the current reply.
pub fn defer(srv: &mut Server, id: u64, bytes: Vec<u8>) {
    let deferred = &mut srv.introspection.deferred;
    match deferred.iter_mut().find(|(d, _)| *d == id) {
        Some((_, buf)) => buf.extend_from_slice(&bytes),
        None => deferred.push((id, bytes)),
    }
}

pub fn before_call(srv: &mut Server, slot: usize, nested: bool) -> CallFrame {
    let redacted = std::mem::take(&mut srv.introspection.redacted);
    let current = srv.introspection.current;
    if !nested {
        srv.introspection.current = srv.clients.get(slot).map(|c| c.id);
    }
    CallFrame { current, redacted }
}

/// Redis's logic at the end of call(): latency events, slow log, MONITOR, and tracking.
/// Redis's slowlogPushCurrentCommand for a blocked command served later (updateStatsOnUnblock
/// logs it then, with the time of the run that served it).
pub fn slowlog_served(srv: &mut Server, slot: usize, cmd: &'static Command, args: &[&[u8]], duration_us: u64) {
    let slower_than = srv.introspection.slower_than;
    if cmd.flags & spec::SKIP_SLOWLOG != 0 || slower_than < 0 || duration_us < slower_than as u64 {
        return;
    }
    let Some(c) = srv.clients.get(slot) else { return };
    let entry = slowlog::Entry {
        id: 0,
        time: crate::util::time::now_ms() / 1000,
        duration: duration_us,
        args: slowlog::trimmed_args(args, &[]),
        peer: c.addr.clone(),
        name: c.name.clone().unwrap_or_default(),
    };
    srv.introspection.slowlog.push(entry);
    let max_len = srv.introspection.slowlog_max_len;
    srv.introspection.slowlog.trim(max_len);
}

pub fn after_call(
    srv: &mut Server,
    slot: usize,
    cmd: &'static Command,
    args: &[&[u8]],
    elapsed: Duration,
    nested: bool,
    frame: CallFrame,
) {
    let redacted = std::mem::replace(&mut srv.introspection.redacted, frame.redacted);
    let Some(client) = srv.clients.get(slot) else {
        srv.introspection.current = frame.current;
        return;
    };
    let id = client.id;
    let blocked = client.has(flags::BLOCKED);
    let duration_us = elapsed.as_micros() as u64;
    let threshold = srv.introspection.latency_threshold;
    if threshold > 0 && duration_us / 1000 >= threshold {
        let event = if cmd.flags & spec::FAST != 0 { "fast-command" } else { "command" };
        srv.introspection.latency.add_sample(event, duration_us / 1000, crate::util::time::now_ms() / 1000);
    }
    let slower_than = srv.introspection.slower_than;
    if !blocked && cmd.flags & spec::SKIP_SLOWLOG == 0 && slower_than >= 0 {
        let max_len = srv.introspection.slowlog_max_len;
        if duration_us >= slower_than as u64 {
            let c = &srv.clients[slot];
            let entry = slowlog::Entry {
                id: 0,
                time: crate::util::time::now_ms() / 1000,
                duration: duration_us,
                args: slowlog::trimmed_args(args, &redacted),
                peer: c.addr.clone(),
                name: c.name.clone().unwrap_or_default(),
            };
            srv.introspection.slowlog.push(entry);
        }
        // Like Redis, every logged-or-not command trims the log to the configured length.
        srv.introspection.slowlog.trim(max_len);
    }
    // A blocked command served again was shown when it first ran.
    let served_again = !nested && srv.introspection.request != Some(id);
    if !srv.introspection.monitors.is_empty() && cmd.flags & (spec::SKIP_MONITOR | spec::ADMIN) == 0 && !served_again {
        let current = srv.introspection.current;
        monitor::feed(srv, slot, args, &redacted, current);
    }
    crate::tracking::after_call(srv, slot, cmd, args);
    srv.introspection.current = frame.current;
}

/// Shows a command to MONITOR clients now. For commands flagged SKIP_MONITOR that must
/// appear before what they run (EVAL, EVALSHA and FCALL feed themselves first, as in Redis).
pub fn feed_monitors(srv: &mut Server, slot: usize, args: &[&[u8]]) {
    if srv.introspection.monitors.is_empty() {
        return;
    }
    let redacted = srv.introspection.redacted.clone();
    let current = srv.introspection.current;
    monitor::feed(srv, slot, args, &redacted, current);
}

/// Records a latency event measured outside commands (`expire-cycle`…) if over the threshold.
pub fn latency_event(srv: &mut Server, event: &str, elapsed: Duration) {
    let threshold = srv.introspection.latency_threshold;
    let ms = elapsed.as_millis() as u64;
    if threshold > 0 && ms >= threshold {
        let now_s = crate::util::time::now_ms() / 1000;
        srv.introspection.latency.add_sample(event, ms, now_s);
    }
}

/// Sends what waited for the reply just encoded into `out` for the client in `slot`: its own
/// deferred output goes after the reply, others' to their outboxes. Also runs the tracking
/// work Redis does before going back to the event loop.
pub fn after_reply(srv: &mut Server, slot: usize, args: &[&[u8]], out: &mut Vec<u8>) {
    crate::tracking::after_request(srv, slot, args);
    let Some(id) = srv.clients.get(slot).map(|c| c.id) else { return };
    flush_deferred(srv, Some((id, out)));
}

fn flush_deferred(srv: &mut Server, mut own: Option<(u64, &mut Vec<u8>)>) {
    if srv.introspection.deferred.is_empty() {
        return;
    }
    for (dest, bytes) in std::mem::take(&mut srv.introspection.deferred) {
        match own.as_mut() {
            Some((id, out)) if *id == dest => out.extend_from_slice(&bytes),
            _ => crate::pubsub::push_async(srv, dest, &bytes, &bytes),
        }
    }
}

/// The introspection side of the cron: tracking upkeep (expired keys, table limit,
/// broadcasts), pending output, and output buffer limits of idle readers.
pub fn cron(srv: &mut Server) {
    crate::tracking::cron(srv);
    flush_deferred(srv, None);
    crate::pubsub::cron_check_output_limits(srv);
}
