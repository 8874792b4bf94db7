//! Periodic work, run `hz` times a second by the server (Redis's serverCron): active expiry,
//! incremental rehashing, CLIENT PAUSE expiry, idle-client timeouts, instantaneous metrics.

use std::time::Instant;

use crate::server::Server;

/// Redis's ACTIVE_EXPIRE_CYCLE_* constants.
const KEYS_PER_LOOP: usize = 20;
const SLOW_TIME_PERC: i64 = 25;
const ACCEPTABLE_STALE: usize = 10;

/// State of the expire cycle between calls.
#[derive(Default, Debug)]
pub struct CronState {
    next_db: usize,
    timelimit_exit: bool,
}

/// One run of the cron.
pub fn run(srv: &mut Server) {
    if srv.cron_paused {
        return;
    }
    srv.clock.calibrate();
    srv.fx.now_ms = crate::util::time::now_ms();
    let now = srv.fx.now_ms;
    if srv.pause.until_ms != 0 && srv.pause.until_ms <= now {
        crate::server::unpause(srv);
    }
    let paused = srv.pause.until_ms > now;
    // A replica's keys expire when its master says so (a DEL in the stream).
    if srv.active_expire_enabled && !paused && srv.repl.master.is_none() {
        active_expire_cycle(srv);
        // Keys expired by the cycle propagate as separate DELs, not one transaction.
        crate::replication::flush_pending(srv, false);
    }
    // A round that hit its time limit goes on here too (the server's eviction task usually
    // gets to it first).
    crate::evict::continue_evictions(srv);
    crate::replication::ping_replicas(srv);
    crate::persist::check_background_done(srv);
    crate::persist::aof::cron(srv);
    crate::persist::check_save_points(srv);
    srv.migrate.close_idle(now / 1000);
    if srv.config.bool("activerehashing") {
        for db in srv.dbs.iter_mut() {
            // Redis spends up to 1 ms per cron rehashing; 100 chains is well under that.
            db.rehash(100);
        }
    }
    let s = &srv.stats;
    srv.instantaneous.sample(now, [s.total_commands_processed, s.total_net_input_bytes, s.total_net_output_bytes]);
    let used = crate::memory::used_memory(srv);
    if used > srv.used_memory_peak {
        srv.used_memory_peak = used;
    }
    close_idle_clients(srv, now);
    crate::dispatch::after_command(srv);
    crate::introspection::cron(srv);
}

/// Redis's activeExpireCycle (slow mode): sample keys with a TTL in each database, expire the
/// dead ones, and keep going while more than the acceptable share of samples were expired,
/// within 25 % of a cron period.
pub fn active_expire_cycle(srv: &mut Server) {
    let effort = (srv.tunables.active_expire_effort.clamp(1, 10) - 1) as usize;
    let keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let slow_perc = SLOW_TIME_PERC + 2 * effort as i64;
    let acceptable_stale = ACCEPTABLE_STALE - effort;
    let start = Instant::now();
    let timelimit_us = (slow_perc * 1_000_000 / srv.tunables.hz.max(1) / 100).max(1) as u128;
    let ndb = srv.dbs.len();
    let dbs_per_call = if srv.cron.timelimit_exit { ndb } else { ndb.min(16) };
    srv.cron.timelimit_exit = false;
    let (mut total_sampled, mut total_expired) = (0usize, 0usize);
    let mut iteration = 0u64;
    'dbs: for _ in 0..dbs_per_call {
        let id = srv.cron.next_db % ndb;
        srv.cron.next_db += 1;
        loop {
            iteration += 1;
            let (db, fx) = (&mut srv.dbs[id], &mut srv.fx);
            if db.expires_count() == 0 {
                db.avg_ttl = 0;
                break;
            }
            let (sampled, expired, _) = db.expire_sample(fx, keys_per_loop, keys_per_loop * 20);
            total_sampled += sampled;
            total_expired += expired;
            if iteration % 16 == 0 && start.elapsed().as_micros() > timelimit_us {
                srv.cron.timelimit_exit = true;
                srv.fx.stats.expired_time_cap_reached_count += 1;
                break 'dbs;
            }
            if sampled != 0 && expired * 100 / sampled <= acceptable_stale {
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    crate::introspection::latency_event(srv, "expire-cycle", elapsed);
    srv.fx.stats.expire_cycle_cpu_milliseconds =
        srv.fx.stats.expire_cycle_cpu_milliseconds.saturating_add(elapsed.as_millis() as u64);
    let current = if total_sampled > 0 { total_expired as f64 / total_sampled as f64 } else { 0.0 };
    srv.fx.stats.expired_stale_perc = current * 0.05 + srv.fx.stats.expired_stale_perc * 0.95;
}

/// Closes clients idle for longer than `timeout` seconds (not blocked or subscribed ones,
/// as Redis's clientsCronHandleTimeout).
fn close_idle_clients(srv: &mut Server, now: i64) {
    let timeout = srv.tunables.timeout_secs;
    if timeout <= 0 {
        return;
    }
    let idle: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| {
            // Like Redis: replicas and monitors, blocked and subscribed clients never idle out.
            !c.has(
                crate::client::flags::INTERNAL
                    | crate::client::flags::MONITOR
                    | crate::client::flags::REPLICA
                    | crate::client::flags::MASTER,
            ) && c.blocked.is_none()
                && !c.has(crate::client::flags::PUBSUB)
        })
        .filter(|c| (now - c.last_interaction_ms) / 1000 > timeout)
        .map(|c| c.slot)
        .collect();
    for slot in idle {
        crate::log::verbose("Closing idle client");
        srv.free_client(slot);
    }
}
