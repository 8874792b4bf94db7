//! Spinel's engine: a Redis 7.0-compatible data store without sockets.
//!
//! The server crate owns connections and calls [`dispatch::process`] with the engine locked;
//! the REST API does the same. Everything a command touches is in [`server::Server`].
//! See docs/ARCHITECTURE.md for the data flow and the concurrency model.

pub mod acl;
pub mod blocking;
pub mod client;
pub mod cmd;
pub mod config;
pub mod cron;
pub mod ctx;
pub mod dispatch;
pub mod error;
pub mod evict;
pub mod info;
pub mod introspection;
pub mod keyspace;
pub mod latency;
pub mod lazyfree;
pub mod log;
pub mod memory;
pub mod persist;
pub mod pubsub;
pub mod replication;
pub mod reply;
pub mod script;
pub mod server;
pub mod tracking;
pub mod types;
pub mod util;

/// The Redis version we are compatible with (INFO, HELLO): clients and test suites gate
/// features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// Spinel's own version.
pub const SPINEL_VERSION: &str = env!("CARGO_PKG_VERSION");
