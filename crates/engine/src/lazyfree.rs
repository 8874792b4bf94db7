//! Freeing big values off the main thread (UNLINK, FLUSHALL ASYNC, lazyfree-* options).
//!
//! Like Redis's lazyfree.c: a value whose freeing takes more than a few allocations is handed
//! to a background thread; small ones are freed right away, which is cheaper than the hand-off.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use crate::keyspace::{Entry, ValueRef};
use crate::server::Server;

/// Redis's LAZYFREE_THRESHOLD: values with more allocations than this go to the thread.
const LAZYFREE_THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

type Garbage = Vec<Entry>;

fn freer() -> &'static Mutex<Sender<Garbage>> {
    static TX: OnceLock<Mutex<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        let spawned = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
            for batch in rx {
                let n = batch.len() as u64;
                drop(batch);
                PENDING.fetch_sub(n, Ordering::Relaxed);
                FREED.fetch_add(n, Ordering::Relaxed);
            }
        });
        if spawned.is_err() {
            // Without the thread, sends fail and callers free inline.
        }
        Mutex::new(tx)
    })
}

/// Allocations freeing this entry takes (Redis's lazyfreeGetFreeEffort).
fn free_effort(entry: &Entry) -> usize {
    match entry.value() {
        ValueRef::Str(_) => 1,
        ValueRef::Object(o) => o.free_effort(),
    }
}

fn send(batch: Garbage) -> Result<(), Garbage> {
    let n = batch.len() as u64;
    PENDING.fetch_add(n, Ordering::Relaxed);
    let tx = freer().lock().unwrap_or_else(|e| e.into_inner());
    tx.send(batch).map_err(|e| {
        PENDING.fetch_sub(n, Ordering::Relaxed);
        e.0
    })
}

/// Frees a deleted entry, in the background if `lazy` and it is big.
pub fn free_entry(_srv: &mut Server, entry: Entry, lazy: bool) {
    if lazy && free_effort(&entry) > LAZYFREE_THRESHOLD {
        if let Err(back) = send(vec![entry]) {
            drop(back);
        }
    } else {
        drop(entry);
    }
}

/// Frees a flushed database's entries, in the background if `lazy`.
pub fn free_entries(_srv: &mut Server, entries: Vec<Entry>, lazy: bool) {
    if lazy && !entries.is_empty() {
        if let Err(back) = send(entries) {
            drop(back);
        }
    } else {
        drop(entries);
    }
}

/// Objects waiting to be freed (INFO memory `lazyfree_pending_objects`).
pub fn pending_objects() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// Objects freed in the background so far (INFO stats `lazyfreed_objects`).
pub fn freed_objects() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// Resets the freed counter (CONFIG RESETSTAT).
pub fn reset_stats() {
    FREED.store(0, Ordering::Relaxed);
}
