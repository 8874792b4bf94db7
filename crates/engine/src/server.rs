//! The whole engine state behind the server's lock: databases, configuration, clients,
//! statistics. The network layer holds it in a mutex and calls [`crate::dispatch`] on it.

use std::collections::BTreeMap;

use crate::client::{flags, Clients, Waker};
use crate::cmd::table::{commands, CommandTable};
use crate::config::Config;
use crate::keyspace::{AccessPolicy, Db, Effects};

/// INFO commandstats counters of one command.
#[derive(Default, Clone, Debug)]
pub struct CmdStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Server-wide counters (INFO stats).
#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub client_qbuf_limit_disconnections: u64,
    pub client_outbuf_limit_disconnections: u64,
    pub pubsub_channels_messages: u64,
    pub dump_payload_sanitizations: u64,
    pub io_threaded_reads_processed: u64,
    pub io_threaded_writes_processed: u64,
    pub evicted_clients: u64,
    pub total_blocking_keys: u64,
}

/// Fixed facts about this process (INFO server).
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub run_id: String,
    pub start_ms: i64,
    pub executable: String,
    pub config_file: String,
    pub tcp_port: u16,
    pub pid: u32,
    /// Replication ID (INFO replication master_replid).
    pub replid: String,
}

/// Why and how the server should stop (SHUTDOWN, signals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownRequest {
    pub save: Option<bool>,
    pub now: bool,
    pub force: bool,
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pause {
    /// Deadline (ms since the epoch) while paused.
    pub until_ms: i64,
    /// Only writes are paused (`WRITE` mode) rather than all commands.
    pub writes_only: bool,
}

pub struct Server {
    pub dbs: Vec<Db>,
    pub fx: Effects,
    pub config: Config,
    pub clients: Clients,
    pub commands: &'static CommandTable,
    pub cmdstats: Vec<CmdStats>,
    pub errorstats: BTreeMap<String, u64>,
    pub stats: Stats,
    pub process: ProcessInfo,
    pub shutdown: Option<ShutdownRequest>,
    pub pause: Pause,
    /// Whether the cron's active expiry runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// Connected clients limit reached events etc. are counted in stats; this is the
    /// number of clients blocked on keys (INFO clients blocked_clients).
    pub blocked_clients: usize,
    /// Peak of the memory allocator's allocated bytes (INFO memory).
    pub used_memory_peak: u64,
    /// Time of the last successful save (LASTSAVE), seconds.
    pub lastsave: i64,
    /// Reads the allocator's allocated-bytes counter; set by the binary (jemalloc).
    pub memory_probe: Option<fn() -> MemoryStats>,
    /// The allocator's statistics report (MEMORY MALLOC-STATS), set by the binary.
    pub malloc_stats: Option<fn() -> String>,
    /// Returns the allocator's free pages to the system (MEMORY PURGE), set by the binary.
    pub malloc_purge: Option<fn()>,
    /// Eviction state: the pool of candidates, whether a cycle is still running.
    pub evict: crate::evict::EvictState,
    /// Set while the server is loading a dataset.
    pub loading: bool,
    /// Allocated bytes right after start-up (INFO used_memory_startup).
    pub used_memory_startup: u64,
    /// Bytes used by the Lua interpreter (INFO used_memory_lua).
    pub lua_memory: u64,
    pub persistence: crate::persist::PersistenceState,
    /// The append-only file.
    pub aof: crate::persist::aof::Aof,
    /// Wakes the network layer's background driver (a snapshot walk has work to do).
    pub background_wake: Option<Waker>,
    /// Replaces the TCP listeners (CONFIG SET port / bind): the network layer owns sockets.
    pub rebind: Option<RebindHook>,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE accepts payloads with a wrong CRC.
    pub skip_checksum_validation: bool,
    /// MIGRATE's cached connections.
    pub migrate: crate::cmd::migrate::MigrateSockets,
    pub instantaneous: Instantaneous,
    pub pubsub: crate::pubsub::PubSub,
    /// Slow log, latency events, MONITOR clients.
    pub introspection: crate::introspection::Introspection,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
    /// Per-command latency histograms, indexed like `cmdstats`.
    pub latency: Vec<crate::latency::Histogram>,
    /// `latency-tracking`, cached for the hot path.
    pub latency_tracking: bool,
    /// Configuration read on hot paths, refreshed by `apply_config`.
    pub tunables: Tunables,
    /// The collection encoding thresholds, refreshed by `apply_config`: read by every write
    /// to a collection, where a lookup by name would cost more than the write.
    pub encoding: EncodingLimits,
    /// Clients that a write served while their connection had parked more requests behind
    /// the blocking one (`Client::parked_input`), in the order they were served: the
    /// connection layer runs those requests before releasing the engine, as Redis's
    /// processUnblockedClients does (see `blocking::serve_client`).
    pub unblocked_with_input: Vec<u64>,
    pub cron: crate::cron::CronState,
    /// The Lua engine: EVAL scripts, function libraries, the running script's state.
    pub scripts: crate::script::ScriptEngine,
    /// ACL users, the ACL log.
    pub acl: crate::acl::Acl,
    pub repl: crate::replication::Replication,
    /// DEBUG PAUSE-CRON: the cron does nothing while set.
    pub cron_paused: bool,
    /// Wall-clock time from the monotonic reading each command already takes.
    pub clock: crate::util::time::WallClock,
}

/// Configuration values the connection and dispatch paths read per request.
#[derive(Clone, Debug, Default)]
pub struct Tunables {
    pub requirepass_set: bool,
    pub proto_max_bulk_len: i64,
    pub query_buffer_limit: u64,
    pub maxclients: u64,
    pub timeout_secs: i64,
    pub hz: i64,
    pub protected_mode: bool,
    pub active_expire_effort: i64,
    pub normal_obuf_limit: (u64, u64, u64),
    /// `maxmemory` (0: no limit), for the deny-oom check.
    pub maxmemory: i64,
    /// `min-replicas-to-write` (0: off) and `min-replicas-max-lag`.
    pub min_replicas_to_write: i64,
    pub min_replicas_max_lag: i64,
    /// `busy-reply-threshold` in ms (0: scripts never become busy), read at every script run.
    pub busy_reply_threshold_ms: u64,
}

/// Closes the TCP listeners and listens on `port` (0: none) at the `bind` addresses, as
/// Redis's changeBindAddr / changeListenPort; the error is for the log.
pub type RebindHook = std::sync::Arc<dyn Fn(&[String], u16) -> Result<(), String> + Send + Sync>;

/// The thresholds that decide each collection's encoding (`*-max-listpack-*`,
/// `set-max-intset-entries`, `list-max-listpack-size`, `stream-node-max-*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct EncodingLimits {
    pub hash: crate::types::hash::HashLimits,
    pub set: crate::types::set::SetLimits,
    pub zset: crate::types::zset::Limits,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    pub stream: crate::types::stream::Limits,
}

impl EncodingLimits {
    fn from_config(config: &crate::config::Config) -> EncodingLimits {
        EncodingLimits {
            hash: crate::types::hash::HashLimits::from_config(config),
            set: crate::types::set::SetLimits::from_config(config),
            zset: crate::types::zset::Limits {
                max_entries: config.int("zset-max-listpack-entries").max(0) as usize,
                max_value: config.int("zset-max-listpack-value").max(0) as usize,
            },
            list_max_listpack_size: config.int("list-max-listpack-size"),
            list_compress_depth: config.int("list-compress-depth"),
            stream: crate::types::stream::Limits {
                max_bytes: config.uint("stream-node-max-bytes"),
                max_entries: config.int("stream-node-max-entries"),
            },
        }
    }
}

/// Redis's instantaneous metrics: rates sampled by the cron every 100 ms, averaged over the
/// last 16 samples.
#[derive(Default, Debug, Clone)]
pub struct Instantaneous {
    last_ms: i64,
    last: [u64; 3],
    samples: [[f64; 16]; 3],
    idx: usize,
}

impl Instantaneous {
    /// Records one sample of (commands processed, net input bytes, net output bytes).
    pub fn sample(&mut self, now_ms: i64, values: [u64; 3]) {
        if self.last_ms != 0 {
            let dt = (now_ms - self.last_ms).max(1) as f64;
            for k in 0..3 {
                self.samples[k][self.idx] = values[k].saturating_sub(self.last[k]) as f64 * 1000.0 / dt;
            }
            self.idx = (self.idx + 1) % 16;
        }
        self.last_ms = now_ms;
        self.last = values;
    }

    fn average(&self, k: usize) -> f64 {
        self.samples[k].iter().sum::<f64>() / 16.0
    }

    pub fn ops_per_sec(&self) -> u64 {
        self.average(0) as u64
    }

    pub fn input_kbps(&self) -> f64 {
        self.average(1) / 1024.0
    }

    pub fn output_kbps(&self) -> f64 {
        self.average(2) / 1024.0
    }
}

/// Allocator figures for INFO memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStats {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub retained: u64,
    /// The process RSS (not the allocator's view).
    pub resident_rss: u64,
}

/// `n` random hexadecimal digits (run and replication ids).
pub fn random_hex(n: usize) -> String {
    let mut rng = crate::util::rand::Rng::seeded();
    (0..n).map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap_or('0')).collect()
}

impl Server {
    pub fn new(config: Config) -> Server {
        let databases = config.int("databases").max(1) as usize;
        let table = commands();
        let mut srv = Server {
            dbs: (0..databases).map(Db::new).collect(),
            fx: Effects::default(),
            config,
            clients: Clients::default(),
            commands: table,
            cmdstats: vec![CmdStats::default(); table.len()],
            errorstats: BTreeMap::new(),
            stats: Stats::default(),
            process: ProcessInfo {
                run_id: random_hex(40),
                start_ms: crate::util::time::now_ms(),
                executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                config_file: String::new(),
                tcp_port: 6379,
                pid: std::process::id(),
                replid: random_hex(40),
            },
            shutdown: None,
            pause: Pause::default(),
            active_expire_enabled: true,
            blocked_clients: 0,
            used_memory_peak: 0,
            lastsave: crate::util::time::now_ms() / 1000,
            memory_probe: None,
            malloc_stats: None,
            malloc_purge: None,
            evict: Default::default(),
            loading: false,
            used_memory_startup: 0,
            lua_memory: 0,
            persistence: Default::default(),
            aof: Default::default(),
            background_wake: None,
            rebind: None,
            skip_checksum_validation: false,
            migrate: Default::default(),
            instantaneous: Default::default(),
            pubsub: Default::default(),
            introspection: Default::default(),
            tracking: Default::default(),
            latency: vec![Default::default(); table.len()],
            latency_tracking: true,
            tunables: Tunables::default(),
            encoding: EncodingLimits::default(),
            unblocked_with_input: Vec::new(),
            cron: Default::default(),
            scripts: crate::script::ScriptEngine::default(),
            acl: crate::acl::Acl::new(),
            repl: crate::replication::Replication::new(),
            cron_paused: false,
            clock: Default::default(),
        };
        srv.apply_config();
        srv.add_script_clients();
        srv
    }

    /// Replaces the scripting engine by one whose Lua VMs may hold at most `bytes` (tests of
    /// the memory bound use a small one).
    pub fn set_lua_memory_limit(&mut self, bytes: usize) {
        let (eval_client, function_client) = (self.scripts.eval_client, self.scripts.function_client);
        self.scripts = crate::script::ScriptEngine::new(bytes);
        self.scripts.eval_client = eval_client;
        self.scripts.function_client = function_client;
        self.lua_memory = self.scripts.eval_vm_memory() as u64;
    }

    /// The internal clients scripts run their commands as (one per Lua VM, as Redis creates
    /// them at start-up, so the first connection gets id 3 as in Redis).
    fn add_script_clients(&mut self) {
        let now = crate::util::time::now_ms();
        for eval in [true, false] {
            let slot = self.clients.add(now);
            let c = &mut self.clients[slot];
            c.set(flags::INTERNAL, true);
            c.set(flags::SCRIPT, true);
            c.authenticated = true;
            if eval {
                self.scripts.eval_client = slot;
            } else {
                self.scripts.function_client = slot;
            }
        }
        self.lua_memory = self.scripts.eval_vm_memory() as u64;
    }

    /// Copies configuration values that the engine reads on hot paths into their runtime
    /// places. Called at start and after every CONFIG SET.
    pub fn apply_config(&mut self) {
        self.fx.notify_flags = self.config.notify_flags();
        self.latency_tracking = self.config.bool("latency-tracking");
        self.introspection.configure(&self.config);
        self.fx.expire_unlink = self.config.bool("lazyfree-lazy-expire");
        crate::persist::aof::apply_config(self);
        let limits = self.config.output_buffer_limits();
        crate::acl::apply_config(self);
        self.tunables = Tunables {
            requirepass_set: self.acl.default_requires_auth(),
            proto_max_bulk_len: self.config.int("proto-max-bulk-len"),
            query_buffer_limit: self.config.int("client-query-buffer-limit") as u64,
            maxclients: self.config.int("maxclients") as u64,
            timeout_secs: self.config.int("timeout"),
            hz: self.config.int("hz").clamp(1, 500),
            protected_mode: self.config.bool("protected-mode"),
            active_expire_effort: self.config.int("active-expire-effort"),
            normal_obuf_limit: (limits[0].hard, limits[0].soft, limits[0].soft_seconds),
            maxmemory: self.config.int("maxmemory"),
            min_replicas_to_write: self.config.int("min-replicas-to-write"),
            min_replicas_max_lag: self.config.int("min-replicas-max-lag"),
            busy_reply_threshold_ms: self.config.int("busy-reply-threshold").max(0) as u64,
        };
        self.encoding = EncodingLimits::from_config(&self.config);
        crate::evict::configure(self);
        crate::replication::apply_config(self);
        let policy = self.config.enum_name("maxmemory-policy");
        self.fx.access = if policy.contains("lfu") {
            AccessPolicy::Lfu {
                log_factor: self.config.int("lfu-log-factor") as u32,
                decay_time: self.config.int("lfu-decay-time") as u32,
            }
        } else {
            AccessPolicy::Lru
        };
    }

    /// Allocator statistics (from the probe the binary installs) and the process RSS.
    pub fn memory(&self) -> MemoryStats {
        let mut m = self.memory_probe.map(|f| f()).unwrap_or_default();
        m.resident_rss = crate::memory::process_rss();
        m
    }

    /// Registers a connection's client. `authenticated` starts true when no password is set.
    pub fn add_client(&mut self, addr: String, laddr: String, fd: i64, wake: Option<Waker>) -> (usize, u64) {
        let now = crate::util::time::now_ms();
        let slot = self.clients.add(now);
        let nopass = crate::cmd::conn::default_user_nopass(self);
        let c = &mut self.clients[slot];
        c.addr = addr;
        c.laddr = laddr;
        c.fd = fd;
        c.wake = wake;
        c.authenticated = nopass;
        self.stats.total_connections_received += 1;
        (slot, c.id)
    }

    /// Disconnects a client (Redis's freeClient): unblocks it, drops its transaction,
    /// subscriptions and WATCHes, removes it, and wakes its connection so it closes.
    pub fn free_client(&mut self, slot: usize) {
        if self.clients.get(slot).is_none() {
            return;
        }
        crate::blocking::unblock(self, slot);
        crate::cmd::txn::discard_transaction(self, slot);
        crate::pubsub::unsubscribe_all(self, slot);
        crate::tracking::disable(self, slot);
        if self.clients[slot].has(flags::REPLICA) {
            let id = self.clients[slot].id;
            crate::replication::detach_replica(self, id);
        }
        if let Some(mut c) = self.clients.remove(slot) {
            c.set(flags::CLOSE_ASAP, true);
            c.wake();
        }
    }

    /// Records an error reply in errorstats (Redis's afterErrorReply).
    pub fn count_error(&mut self, code: String) {
        self.stats.total_error_replies += 1;
        *self.errorstats.entry(code).or_default() += 1;
    }

    /// Total keys in all databases.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }
}

/// Ends a CLIENT PAUSE and lets the postponed clients run their commands, in arrival order.
pub fn unpause(srv: &mut Server) {
    srv.pause = Pause::default();
    crate::replication::replica::refresh_lazy_expire(srv);
    let mut paused: Vec<(u64, usize)> = srv
        .clients
        .iter()
        .filter(|c| c.blocked.as_ref().is_some_and(|b| b.kind == crate::client::BlockKind::Pause))
        .map(|c| (c.id, c.slot))
        .collect();
    paused.sort_unstable();
    for (_, slot) in paused {
        crate::blocking::serve_client(srv, slot);
    }
}
