//! maxmemory: evicting keys before a command when memory is over the limit (Redis's evict.c).
//!
//! Before every command (when `maxmemory` is set) [`perform_evictions`] compares used_memory
//! (see [`crate::memory`]) with the limit and deletes keys chosen by `maxmemory-policy` until
//! the memory freed covers the excess:
//!
//! * LRU, LFU and volatile-ttl sample `maxmemory-samples` keys from every database (all keys,
//!   or only keys with a TTL for volatile-*) and merge them into a pool of the 16 best
//!   candidates kept across calls, ordered by score: idle time (LRU), 255 − decayed frequency
//!   (LFU) or the nearest expire time (TTL). The best candidate that still exists goes.
//! * The random policies delete a random key, visiting the databases round-robin.
//!
//! An eviction is a deletion with its consequences: the `evicted` keyspace event, WATCH and
//! client-side-caching invalidation, DEL (or UNLINK with `lazyfree-lazy-eviction`, which
//! also frees big values in the background) propagated to replicas, INFO `evicted_keys`.
//! The loop gives up after the time `maxmemory-eviction-tenacity` allows and leaves the rest
//! to the cron (Redis's eviction time proc); if nothing can be evicted, deny-oom commands are
//! rejected with `-OOM` by the dispatcher.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::keyspace::notify;
use crate::server::Server;

/// Mirrors [`EvictState::running`] for the server's eviction task, which polls it without
/// taking the engine lock (Redis's evictionTimeProc runs a round per event-loop iteration).
static ROUND_PENDING: AtomicBool = AtomicBool::new(false);

/// Whether an eviction round hit its time limit with memory still over: the server should
/// run [`continue_evictions`] soon.
pub fn round_pending() -> bool {
    ROUND_PENDING.load(Ordering::Relaxed)
}

/// Candidates kept between eviction rounds (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// Redis's shared.oomerr.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// `maxmemory-policy`, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    NoEviction,
}

impl Policy {
    pub fn from_name(name: &str) -> Policy {
        match name {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    /// Whether only keys with a TTL may be evicted.
    pub fn volatile(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    /// Whether the policy needs per-key LRU (`Some(false)`) or LFU (`Some(true)`) data.
    pub fn access(self) -> Option<bool> {
        match self {
            Policy::VolatileLru | Policy::AllkeysLru => Some(false),
            Policy::VolatileLfu | Policy::AllkeysLfu => Some(true),
            _ => None,
        }
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// The eviction settings, refreshed from the configuration after every CONFIG SET.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvictConfig {
    pub maxmemory: u64,
    pub policy: Policy,
    pub samples: usize,
    pub tenacity: i64,
    pub lazy: bool,
}

#[derive(Clone, Debug)]
struct Candidate {
    score: u64,
    key: Vec<u8>,
    db: usize,
}

/// Eviction state kept in the server.
#[derive(Debug, Default)]
pub struct EvictState {
    pub config: EvictConfig,
    /// Candidates in ascending score order (the best one last), at most [`POOL_SIZE`].
    pool: Vec<Candidate>,
    /// Round-robin database for the random policies.
    next_db: usize,
    /// Set when a round stopped on its time limit with memory still over: the cron continues.
    pub running: bool,
    /// Whether memory was over the limit with nothing evictable when the current command
    /// started (Redis's pre_command_oom_state): scripts consult it before running a deny-oom
    /// command unless they are flagged `allow-oom` (see [`script_command_allowed`]).
    pub pre_command_oom: bool,
    /// When memory went over the limit without being brought back (INFO
    /// current_eviction_exceeded_time), and the total time spent so.
    exceeded_since: Option<Instant>,
    exceeded_total: Duration,
}

impl EvictState {
    /// INFO stats `total_eviction_exceeded_time` and `current_eviction_exceeded_time` (ms).
    pub fn exceeded_times_ms(&self) -> (u64, u64) {
        let current = self.exceeded_since.map_or(Duration::ZERO, |t| t.elapsed());
        ((self.exceeded_total + current).as_millis() as u64, current.as_millis() as u64)
    }

    pub fn reset_stats(&mut self) {
        self.exceeded_total = Duration::ZERO;
        if self.exceeded_since.is_some() {
            self.exceeded_since = Some(Instant::now());
        }
    }
}

/// Reads the eviction settings into their hot-path place.
pub fn configure(srv: &mut Server) {
    let c = &srv.config;
    srv.evict.config = EvictConfig {
        maxmemory: c.uint("maxmemory"),
        policy: Policy::from_name(c.enum_name("maxmemory-policy")),
        samples: c.int("maxmemory-samples").max(1) as usize,
        tenacity: c.int("maxmemory-eviction-tenacity"),
        lazy: c.bool("lazyfree-lazy-eviction"),
    };
}

/// The result of [`perform_evictions`], as Redis's EVICT_*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evict {
    /// Memory is under the limit (or eviction is not possible right now and not needed).
    Ok,
    /// Still over the limit, but a round is in progress (the cron continues it).
    Running,
    /// Over the limit and nothing more can be evicted.
    Fail,
}

/// Memory counted against maxmemory (replica buffers are not), and how much is over.
fn memory_state(srv: &Server) -> (u64, u64) {
    let used = crate::memory::used_memory(srv);
    let not_counted = if srv.repl.replicas.is_empty() { 0 } else { crate::memory::not_counted_for_evict(srv) };
    let used = used.saturating_sub(not_counted);
    (used, used.saturating_sub(srv.evict.config.maxmemory))
}

/// Whether memory is over `maxmemory` (Redis's getMaxmemoryState != C_OK).
pub fn over_limit(srv: &Server) -> bool {
    srv.evict.config.maxmemory != 0 && memory_state(srv).1 > 0
}

/// Redis's evictionTimeLimitUs.
fn time_limit(tenacity: i64) -> Option<Duration> {
    match tenacity {
        t if t <= 10 => Some(Duration::from_micros(50 * t.max(0) as u64)),
        t if t < 100 => Some(Duration::from_micros((500.0 * 1.15f64.powf(t as f64 - 10.0)) as u64)),
        _ => None,
    }
}

/// Redis's isSafeToPerformEvictions: not while loading, not while clients are paused (the
/// dataset must stay still). (Redis also skips replicas with `replica-ignore-maxmemory`;
/// Spinel does not run as a replica.)
fn safe_to_evict(srv: &Server) -> bool {
    if srv.loading {
        return false;
    }
    !(srv.pause.until_ms != 0 && srv.pause.until_ms > srv.fx.now_ms)
}

/// Redis's performEvictions: evicts keys until memory is under `maxmemory`, the time limit
/// passes, or nothing is left to evict.
pub fn perform_evictions(srv: &mut Server) -> Evict {
    // A replica with `replica-ignore-maxmemory` leaves evictions to its master.
    let replica_ignores = srv.repl.master.is_some() && srv.config.bool("replica-ignore-maxmemory");
    if srv.evict.config.maxmemory == 0 || replica_ignores || !safe_to_evict(srv) {
        return Evict::Ok;
    }
    let result = evict_round(srv);
    match result {
        Evict::Ok => {
            if let Some(since) = srv.evict.exceeded_since.take() {
                srv.evict.exceeded_total += since.elapsed();
            }
        }
        _ => {
            srv.evict.exceeded_since.get_or_insert_with(Instant::now);
        }
    }
    srv.evict.running = result == Evict::Running;
    ROUND_PENDING.store(srv.evict.running, Ordering::Relaxed);
    result
}

/// Redis's startEvictionTimeProc: evictions continue in the server's eviction task (and
/// before the next command) rather than inside the running command.
pub fn start_eviction_task(srv: &mut Server) {
    srv.evict.running = true;
    ROUND_PENDING.store(true, Ordering::Relaxed);
}

/// Redis's evictionTimeProc: one more round of a cycle that hit its time limit, with the
/// evictions' DELs propagated and their keyspace events published.
pub fn continue_evictions(srv: &mut Server) {
    if !srv.evict.running {
        ROUND_PENDING.store(false, Ordering::Relaxed);
        return;
    }
    srv.fx.now_ms = crate::util::time::now_ms();
    perform_evictions(srv);
    crate::replication::flush_pending(srv, false);
    crate::dispatch::after_command(srv);
}

fn evict_round(srv: &mut Server) -> Evict {
    let (_, to_free) = memory_state(srv);
    if to_free == 0 {
        return Evict::Ok;
    }
    let cfg = srv.evict.config;
    if cfg.policy == Policy::NoEviction {
        return Evict::Fail;
    }
    let limit = time_limit(cfg.tenacity);
    let start = Instant::now();
    let mut freed: i64 = 0;
    let mut keys_freed = 0u64;
    let mut timed_out = false;
    let mut reached = false;
    while freed < to_free as i64 {
        let Some((db, key)) = pick_victim(srv) else {
            break;
        };
        freed += evict_key(srv, db, &key, cfg.lazy);
        keys_freed += 1;
        if keys_freed.is_multiple_of(16) {
            // With lazy freeing the memory goes back in the background: check the real state.
            if cfg.lazy && memory_state(srv).1 == 0 {
                reached = true;
                break;
            }
            if limit.is_some_and(|l| start.elapsed() > l) {
                timed_out = true;
                break;
            }
        }
    }
    reached |= freed >= to_free as i64;
    let result = if reached {
        Evict::Ok
    } else if timed_out {
        Evict::Running
    } else {
        wait_for_lazyfree(srv, start, limit)
    };
    crate::introspection::latency_event(srv, "eviction-cycle", start.elapsed());
    result
}

/// Redis's cant_free path: nothing left to evict, but values being freed in the background
/// may still bring memory under the limit; wait for them a little (within the time limit).
fn wait_for_lazyfree(srv: &mut Server, start: Instant, limit: Option<Duration>) -> Evict {
    let limit = limit.unwrap_or(Duration::from_secs(1));
    let waited = Instant::now();
    let mut result = Evict::Fail;
    while crate::lazyfree::pending_objects() > 0 && start.elapsed() < limit {
        if memory_state(srv).1 == 0 {
            result = Evict::Ok;
            break;
        }
        std::thread::sleep(limit.min(Duration::from_millis(1)));
    }
    crate::introspection::latency_event(srv, "eviction-lazyfree", waited.elapsed());
    result
}

/// The next key to evict under the policy in force, or None if there is nothing to evict.
fn pick_victim(srv: &mut Server) -> Option<(usize, Vec<u8>)> {
    let policy = srv.evict.config.policy;
    if policy.random() {
        return pick_random(srv, policy.volatile());
    }
    loop {
        let mut total_keys = 0;
        for id in 0..srv.dbs.len() {
            let db = &srv.dbs[id];
            let keys = if policy.volatile() { db.expires_count() } else { db.len() };
            if keys > 0 {
                populate_pool(srv, id);
                total_keys += keys;
            }
        }
        if total_keys == 0 {
            return None;
        }
        // From the best candidate down: the first that still qualifies goes.
        while let Some(c) = srv.evict.pool.pop() {
            let db = &srv.dbs[c.db];
            let exists = if policy.volatile() { db.has_ttl(&c.key) } else { db.peek(&c.key).is_some() };
            if exists {
                return Some((c.db, c.key));
            }
        }
    }
}

/// Redis's evictionPoolPopulate: samples keys of one database and merges them into the pool.
fn populate_pool(srv: &mut Server, id: usize) {
    let policy = srv.evict.config.policy;
    let samples = srv.evict.config.samples;
    let mut sampled: Vec<(u64, Vec<u8>)> = Vec::with_capacity(samples);
    {
        let fx = &mut srv.fx;
        let mut rng = std::mem::replace(&mut fx.rng, crate::util::rand::Rng::from_seed(0));
        let fx = &*fx;
        srv.dbs[id].sample_for_eviction(&mut rng, samples, policy.volatile(), |e| {
            let score = match policy {
                Policy::AllkeysLru | Policy::VolatileLru => fx.idle_ms(e.lru()),
                Policy::AllkeysLfu | Policy::VolatileLfu => 255 - fx.lfu_decayed(e.lru()) as u64,
                // The sooner the expire, the better the candidate.
                _ => u64::MAX - e.expire().unwrap_or(i64::MAX).max(0) as u64,
            };
            sampled.push((score, e.key().to_vec()));
        });
        srv.fx.rng = rng;
    }
    let pool = &mut srv.evict.pool;
    for (score, key) in sampled {
        // The first candidate whose score is not below ours.
        let k = pool.iter().take_while(|c| c.score < score).count();
        if k == 0 && pool.len() == POOL_SIZE {
            // Worse than every candidate of a full pool.
            continue;
        }
        let candidate = Candidate { score, key, db: id };
        if pool.len() < POOL_SIZE {
            pool.insert(k, candidate);
        } else {
            // Full: drop the worst candidate (the first) to make room.
            pool.remove(0);
            pool.insert(k - 1, candidate);
        }
    }
}

/// A random key for the random policies, visiting databases round-robin.
fn pick_random(srv: &mut Server, volatile: bool) -> Option<(usize, Vec<u8>)> {
    let n = srv.dbs.len();
    for _ in 0..n {
        srv.evict.next_db = srv.evict.next_db.wrapping_add(1);
        let id = srv.evict.next_db % n;
        let db = &srv.dbs[id];
        let keys = if volatile { db.expires_count() } else { db.len() };
        if keys == 0 {
            continue;
        }
        // A bounded walk may miss rare TTL keys: try again rather than report nothing.
        for _ in 0..64 {
            if let Some(key) = srv.dbs[id].random_for_eviction(&mut srv.fx.rng, volatile) {
                return Some((id, key));
            }
        }
    }
    None
}

/// Deletes one key as an eviction; returns the bytes that freed (may be negative if other
/// threads allocated meanwhile, as in Redis).
fn evict_key(srv: &mut Server, id: usize, key: &[u8], lazy: bool) -> i64 {
    let before = crate::memory::used_memory(srv) as i64;
    let start = Instant::now();
    let Some(entry) = srv.dbs[id].take(&mut srv.fx, key) else { return 0 };
    crate::lazyfree::free_entry(srv, entry, lazy);
    crate::introspection::latency_event(srv, "eviction-del", start.elapsed());
    let freed = before - crate::memory::used_memory(srv) as i64;
    srv.fx.stats.evicted_keys += 1;
    srv.dbs[id].signal_modified(&mut srv.fx, key);
    srv.fx.notify(notify::EVICTED, "evicted", id, key);
    if srv.fx.propagating {
        let del: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        srv.fx.propagate.push((id, vec![del.to_vec(), key.to_vec()]));
    }
    freed
}

/// The hook for scripts (Redis's scriptVerifyOOM): a deny-oom command called from a script
/// fails with OOM if memory was over the limit when the script started, unless the script
/// is flagged `allow-oom` or the caller is the master/AOF.
pub fn script_command_allowed(srv: &Server, cmd_flags: u64, allow_oom: bool) -> Result<(), crate::error::Error> {
    if srv.evict.config.maxmemory != 0
        && !allow_oom
        && srv.evict.pre_command_oom
        && cmd_flags & crate::cmd::spec::DENYOOM != 0
    {
        return Err(crate::error::err(OOM_ERROR));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_limits_follow_redis() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let mut srv = Server::new(crate::config::Config::new());
        srv.evict.config.policy = Policy::AllkeysLru;
        srv.evict.config.samples = 64;
        srv.fx.now_ms = 100_000_000;
        let now_clock = srv.fx.lru_clock();
        for i in 0..64u32 {
            let key = format!("k{i}");
            srv.dbs[0].set(&mut srv.fx, key.as_bytes(), crate::keyspace::Value::Str(b"v"), false);
            // Key i was last used i seconds ago.
            let entry = srv.dbs[0].lookup(&mut srv.fx, key.as_bytes(), crate::keyspace::Lookup::QUIET);
            if let Some(e) = entry {
                e.set_lru(now_clock - i);
            }
        }
        populate_pool(&mut srv, 0);
        let scores: Vec<u64> = srv.evict.pool.iter().map(|c| c.score).collect();
        assert_eq!(scores.len(), POOL_SIZE);
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
        // 64 samples from a 64-key table see every key: the pool holds the 16 idlest.
        assert_eq!(srv.evict.pool.last().map(|c| c.key.clone()), Some(b"k63".to_vec()));
        assert_eq!(scores[0], 48_000);
    }
}
