//! A pool of connections to one backend (one `srh_id`).
//!
//! At most `max_connections` connections exist at once (a semaphore); they are made lazily,
//! on the first request that finds no idle one. A borrowed connection is a [`Lease`]: the
//! request uses it alone — a transaction's MULTI…EXEC never shares it — and gives it back
//! when done, unless something went wrong on it, in which case it is dropped and the next
//! request connects afresh (that is how the pool reconnects after a server restart). An idle
//! connection is checked for EOF before reuse. When the pool has not been used for its idle
//! timeout (15 minutes, as SRH), the reaper closes its idle connections; the next request
//! reconnects.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::conn::{Conn, Target};

/// How long a request waits for a free connection when all are lent.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// SRH's idle shutdown.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub struct Pool {
    pub srh_id: String,
    pub target: Target,
    pub max_connections: usize,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Conn>>,
    last_used: Mutex<Instant>,
    /// Connections opened so far (for tests and logs).
    opened: std::sync::atomic::AtomicU64,
}

/// A borrowed connection. Dropping it returns the connection to the pool; [`Lease::discard`]
/// closes it instead.
pub struct Lease {
    pool: Arc<Pool>,
    conn: Option<Conn>,
    /// True when the connection came from the idle list (it may have gone stale).
    pub reused: bool,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub fn conn(&mut self) -> &mut Conn {
        match self.conn.as_mut() {
            Some(c) => c,
            // `conn` is only None after `discard`, which consumes the lease.
            None => unreachable!("lease used after discard"),
        }
    }

    /// Closes the connection rather than returning it (it failed, or is out of step).
    pub fn discard(mut self) {
        self.conn = None;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
        *self.pool.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

impl Pool {
    pub fn new(srh_id: String, target: Target, max_connections: usize) -> Arc<Pool> {
        Arc::new(Pool {
            srh_id,
            target,
            max_connections,
            permits: Arc::new(Semaphore::new(max_connections)),
            idle: Mutex::new(Vec::new()),
            last_used: Mutex::new(Instant::now()),
            opened: Default::default(),
        })
    }

    /// Borrows a connection: an idle one that is still open, or a new one.
    pub async fn get(self: &Arc<Self>) -> Result<Lease, String> {
        let permit = match tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(format!("ERR timed out waiting for a connection to {}", self.target.address())),
        };
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(mut conn) = idle else { break };
            if conn.still_open() {
                return Ok(Lease { pool: self.clone(), conn: Some(conn), reused: true, _permit: permit });
            }
        }
        let conn = self.connect().await?;
        Ok(Lease { pool: self.clone(), conn: Some(conn), reused: false, _permit: permit })
    }

    /// A new connection outside the pool's count (subscriptions hold theirs for as long as
    /// the stream lasts, and cannot be reused).
    pub async fn connect(&self) -> Result<Conn, String> {
        self.opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Conn::connect(&self.target)
            .await
            .map_err(|e| format!("ERR unable to connect to the backend {}: {e}", self.target.address()))
    }

    /// Connections opened since start.
    pub fn opened(&self) -> u64 {
        self.opened.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Idle connections right now.
    pub fn idle_count(&self) -> usize {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Closes the idle connections if the pool was unused for `idle_timeout`; true if it did.
    pub fn reap(&self, idle_timeout: Duration) -> bool {
        let last = *self.last_used.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < idle_timeout {
            return false;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let had = !idle.is_empty();
        idle.clear();
        had
    }
}
