//! The engine as the network layer shares it: one mutex, taken once per batch of pipelined
//! commands, and a notification for shutdown.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use spinel_engine::server::Server;
use tokio::sync::Notify;

pub struct Shared {
    engine: Mutex<Server>,
    /// Signalled when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: Notify,
}

pub type SharedRef = Arc<Shared>;

impl Shared {
    pub fn new(server: Server) -> SharedRef {
        Arc::new(Shared { engine: Mutex::new(server), shutdown: Notify::new() })
    }

    /// Locks the engine. A panic while it was held leaves a consistent-enough state for
    /// Redis-style "log and go on", so poisoning is ignored.
    pub fn lock(&self) -> EngineGuard<'_> {
        EngineGuard(self.engine.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The locked engine. Releasing it first writes what the AOF buffered while it was held
/// (Redis's flushAppendOnlyFile in beforeSleep), so no reply produced under the lock can
/// reach a socket before its write is in the AOF (and fsynced, under `appendfsync always`).
pub struct EngineGuard<'a>(MutexGuard<'a, Server>);

impl Deref for EngineGuard<'_> {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.0
    }
}

impl Drop for EngineGuard<'_> {
    fn drop(&mut self) {
        spinel_engine::persist::aof::before_unlock(&mut self.0);
    }
}
