//! The engine as the network layer shares it: one mutex, taken once per batch of pipelined
//! commands, and a notification for shutdown.
//!
//! Scripts are the exception to "the lock is never held for long": a script command holds the
//! lock until the script ends (see docs/ARCHITECTURE.md, concurrency). It runs inline on the
//! runtime thread; once it passes `busy-reply-threshold`, the Lua hook calls
//! `block_in_place`, which hands that thread's share of the runtime to a fresh thread while
//! the script goes on. Tasks therefore never block on the lock while a script holds it:
//! [`Shared::lock_async`] waits for it asynchronously, and
//! [`Shared::lock_for_commands`] reports when the script ran past `busy-reply-threshold`, so
//! the connection answers `-BUSY` (and SCRIPT KILL, SHUTDOWN NOSAVE) without the engine.

use std::pin::pin;
use std::sync::{Arc, Mutex};

pub use spinel_engine::persist::aof::EngineGuard;

use spinel_engine::script::busy::ScriptWatch;
use spinel_engine::server::Server;
use tokio::sync::Notify;

pub struct Shared {
    engine: Mutex<Server>,
    /// Signalled when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: Notify,
    /// The running script, readable without the lock.
    pub script: Arc<ScriptWatch>,
    /// Signalled when a script times out, ends, or a script thread releases the engine.
    script_changed: Notify,
}

pub type SharedRef = Arc<Shared>;

/// What a connection gets to run its commands with.
pub enum Access<'a> {
    Locked(EngineGuard<'a>),
    /// Another client's script is past the busy threshold: answer without the engine.
    Busy,
}

impl Shared {
    pub fn new(server: Server) -> SharedRef {
        let script = server.scripts.watch.clone();
        let shared = Arc::new(Shared {
            engine: Mutex::new(server),
            shutdown: Notify::new(),
            script: script.clone(),
            script_changed: Notify::new(),
        });
        let weak = Arc::downgrade(&shared);
        script.set_on_change(Arc::new(move || {
            if let Some(s) = weak.upgrade() {
                s.script_changed.notify_waiters();
            }
        }));
        script.set_on_timeout(Arc::new(release_runtime_thread));
        shared
    }

    /// Locks the engine, blocking the calling thread. Only for threads that may block (a
    /// script thread, start-up); runtime tasks use [`Shared::lock_async`]. A panic while it
    /// was held leaves a consistent-enough state for Redis-style "log and go on", so
    /// poisoning is ignored. Every guard writes the AOF buffer when released (see
    /// [`EngineGuard`]).
    pub fn lock(&self) -> EngineGuard<'_> {
        EngineGuard::new(self.engine.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn try_lock(&self) -> Option<EngineGuard<'_>> {
        match self.engine.try_lock() {
            Ok(g) => Some(EngineGuard::new(g)),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(EngineGuard::new(e.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Locks the engine from a runtime task: immediately when it is free (always, unless a
    /// script runs), otherwise waiting without blocking the thread.
    pub async fn lock_async(&self) -> EngineGuard<'_> {
        loop {
            match self.acquire(false).await {
                Access::Locked(g) => return g,
                Access::Busy => continue,
            }
        }
    }

    /// Locks the engine to run a client's commands, or reports that a script is busy.
    pub async fn lock_for_commands(&self) -> Access<'_> {
        self.acquire(true).await
    }

    async fn acquire(&self, report_busy: bool) -> Access<'_> {
        loop {
            if let Some(g) = self.try_lock() {
                return Access::Locked(g);
            }
            if !self.script.hopping() {
                // Plain contention between I/O threads (io-threads > 1): a batch is short,
                // so yield and try again — never block the thread, as a script may start
                // and time out meanwhile.
                tokio::task::yield_now().await;
                continue;
            }
            let mut notified = pin!(self.script_changed.notified());
            notified.as_mut().enable();
            if report_busy && self.script.is_timedout() {
                return Access::Busy;
            }
            if let Some(g) = self.try_lock() {
                return Access::Locked(g);
            }
            if !self.script.hopping() {
                continue;
            }
            notified.await;
        }
    }

    /// Wakes the tasks waiting for the engine after a script thread released it.
    pub fn script_thread_done(&self) {
        self.script.hop_end();
        self.script_changed.notify_waiters();
    }
}

/// Runs on a script's thread when it passes the busy threshold: on a multi-threaded runtime
/// (the server always builds one, even for `io-threads 1`), `block_in_place` moves this
/// worker's queue and I/O driver to another thread, so the other connections are served (with
/// -BUSY) while the script keeps this thread. Elsewhere (a current-thread runtime, a plain
/// thread) there is nothing to release.
///
/// `block_in_place` takes the worker back when its closure returns if the new thread has not
/// picked it up yet, so the closure waits until a task spawned meanwhile has run — which only
/// the new thread can do.
fn release_runtime_thread() {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        let (moved_tx, moved_rx) = std::sync::mpsc::sync_channel::<()>(1);
        handle.spawn(async move {
            let _ = moved_tx.send(());
        });
        let _ = moved_rx.recv_timeout(std::time::Duration::from_secs(5));
    });
}

/// The REST gateway reaches the engine through this lock (see spinel_http's module docs).
impl spinel_http::Engine for Shared {
    fn lock(&self) -> EngineGuard<'_> {
        Shared::lock(self)
    }
}
