//! The engine as the network layer shares it: one mutex, taken once per batch of pipelined
//! commands, and a notification for shutdown.

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
    pub fn lock(&self) -> MutexGuard<'_, Server> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The REST gateway reaches the engine through this lock (see spinel_http's module docs).
impl spinel_http::Engine for Shared {
    fn lock(&self) -> MutexGuard<'_, Server> {
        Shared::lock(self)
    }
}
