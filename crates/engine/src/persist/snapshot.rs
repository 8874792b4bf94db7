//! Background snapshots without fork: BGSAVE and the base of an AOF rewrite.
//!
//! Redis forks and lets the kernel copy pages the parent touches. A threaded process cannot
//! fork safely, and copying pages would double memory under a write load anyway, so the
//! snapshot here is copy-on-write at *key* granularity:
//!
//! * When a snapshot starts, every non-empty database's table *holds still* (no resizing or
//!   rehashing, so each key keeps its home chain) and gets a [`SnapshotHold`] whose sink is
//!   a [`Side`] buffer.
//! * A walker serializes the tables chain by chain in a fixed order, in short steps taken
//!   under the engine lock between client batches ([`drive`]): the server crate runs it as a
//!   task on the same runtime, so it interleaves with clients at a fine grain instead of
//!   stopping them. Each step adapts to how busy the server is. When commands ran since the
//!   last step, it lasts about an eighth of the time clients had (between 50 µs and 1 ms) and
//!   the next waits for a timer tick, so the walker takes roughly a ninth of a saturated
//!   engine. When none ran, the server is idle: steps of 250 µs follow one another as soon as
//!   the runtime has polled its sockets, so the walker takes the idle CPU while a client that
//!   arrives waits 250 µs at most. (Idle steps used to be 2 ms, taken whenever one ~1 ms gap
//!   saw no command: a load generator's pause of a millisecond then cost every client 2 ms,
//!   the p99 of a light client during saves.)
//! * Before a command changes or deletes a key in a chain the walker has not reached, the
//!   keyspace hands the key to the hold's sink, which serializes its current (snapshot-time)
//!   state, and marks it; the walker skips marked keys. New keys are marked at creation.
//!   Only keys written before the walker reaches them cost memory, and only their
//!   serialized size.
//! * Serialized records go in 256 KiB chunks through a bounded channel to a writer thread,
//!   which computes the CRC-64, writes a temp file (syncing it 4 MB at a time, see
//!   [`super::autosync`]), fsyncs it and renames it over the target (then fsyncs the
//!   directory). The engine never waits on the disk; if the disk is slower than the walker,
//!   the channel fills and the walker pauses.
//!
//! The result is exactly the dataset as it was when the snapshot started, like a fork's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::autosync::SyncedFile;
use super::rdb::dataset::{write_db_header, write_header, write_record, RecordMeta, SaveOptions};
use super::rdb::write::RdbWriter;
use super::rdb::{CRC64, OPCODE_EOF};
use crate::keyspace::{Entry, Preserve, SnapshotHold};
use crate::server::Server;

/// What a snapshot is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// BGSAVE: the RDB file.
    Rdb,
    /// BGREWRITEAOF: a new AOF base (an RDB image with `aof-base` set).
    AofBase,
}

/// How the snapshot writes the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An RDB image (RDB files, AOF bases with `aof-use-rdb-preamble yes`).
    Rdb,
    /// Commands that rebuild the dataset (AOF bases with `aof-use-rdb-preamble no`).
    Commands,
}

/// Writes one key in `format`.
fn encode_entry(format: Format, enc: &mut RdbWriter<Vec<u8>>, e: &Entry, meta: &RecordMeta) -> std::io::Result<()> {
    match format {
        Format::Rdb => write_record(enc, e, meta),
        Format::Commands => super::aof::rewrite::write_entry(enc.get_mut(), e),
    }
}

const CHUNK: usize = 256 * 1024;
const CHANNEL_CHUNKS: usize = 16;
const MIN_STEP: Duration = Duration::from_micros(50);
const MAX_STEP: Duration = Duration::from_millis(1);
/// A step when no command ran since the previous one: the longest an arriving client waits.
const IDLE_STEP: Duration = Duration::from_micros(250);

/// Bytes held in side buffers, now and at the peak (INFO current_cow_size and
/// rdb_last_cow_size report these).
#[derive(Default, Debug)]
pub struct CowStats {
    pub current: AtomicU64,
    pub peak: AtomicU64,
}

impl CowStats {
    fn add(&self, n: u64) {
        let now = self.current.fetch_add(n, Ordering::Relaxed) + n;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn sub(&self, n: u64) {
        self.current.fetch_sub(n, Ordering::Relaxed);
    }
}

/// A database's side buffer: records of keys preserved before they changed.
struct Side {
    enc: RdbWriter<Vec<u8>>,
    format: Format,
    meta: RecordMeta,
    stats: Arc<CowStats>,
    failed: Arc<Mutex<Option<String>>>,
}

impl Preserve for Side {
    fn preserve(&mut self, entry: &Entry) {
        let before = self.enc.get_ref().len();
        if let Err(e) = encode_entry(self.format, &mut self.enc, entry, &self.meta) {
            self.enc.get_mut().truncate(before);
            let mut f = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            f.get_or_insert(e.to_string());
        }
        self.stats.add((self.enc.get_ref().len() - before) as u64);
    }

    fn drain_into(&mut self, out: &mut Vec<u8>) {
        let buf = self.enc.get_mut();
        self.stats.sub(buf.len() as u64);
        if out.is_empty() {
            std::mem::swap(out, buf);
        } else {
            out.append(buf);
        }
        buf.shrink_to(64 * 1024);
    }
}

enum Msg {
    Data(Vec<u8>),
    /// The image is complete: append the checksum, sync, and put the file in place.
    Finish,
}

/// How the writer thread ended.
pub type Outcome = Result<WriteDone, String>;

#[derive(Clone, Debug)]
pub struct WriteDone {
    pub bytes: u64,
    pub path: PathBuf,
}

/// A database to save: its number and its size when the snapshot started.
#[derive(Clone, Copy, Debug)]
struct Plan {
    origin: usize,
    keys: usize,
    expires: usize,
}

/// A running snapshot.
pub struct Job {
    pub purpose: Purpose,
    pub format: Format,
    opts: SaveOptions,
    /// The holds are taken (see [`begin`]).
    began: bool,
    on_begin: Option<BeginHook>,
    pub started_ms: i64,
    /// The dirty counter when it started (what a successful save makes "saved").
    pub dirty_at_start: u64,
    pub keys_total: u64,
    pub keys_done: u64,
    pub cow: Arc<CowStats>,
    /// Set when the snapshot was abandoned on purpose (FLUSHALL, shutdown, SAVE…): its end
    /// is not a failure.
    pub killed: bool,
    plans: Vec<Plan>,
    next: usize,
    db_started: bool,
    enc: RdbWriter<Vec<u8>>,
    tx: Option<SyncSender<Msg>>,
    /// Every key is encoded and the image's end marker written; what remains is handing
    /// the last chunk and `Finish` to the writer.
    encoded_all: bool,
    walked: bool,
    outcome: Arc<Mutex<Option<Outcome>>>,
    side_failed: Arc<Mutex<Option<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    meta: RecordMeta,
    /// `rdb-key-save-delay`: microseconds per key (negative: one in -N keys sleeps 1 µs).
    key_delay_us: i64,
    started: Instant,
    last_step_end: Instant,
    /// INFO's command count at the last step (were clients active since?).
    commands_at_last_step: u64,
}

impl Job {
    /// Whether the walk is over and the writer has reported (the job can be collected).
    pub fn finished(&self) -> bool {
        (self.walked || self.tx.is_none()) && self.outcome.lock().map(|o| o.is_some()).unwrap_or(true)
    }

    /// Takes the writer's outcome once [`Job::finished`].
    pub fn take_outcome(&mut self) -> Outcome {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(|| Err("no outcome".into()))
    }

    /// The serialized bytes held for keys changed before the walker reached them.
    pub fn cow_bytes(&self) -> u64 {
        self.cow.current.load(Ordering::Relaxed)
    }

    pub fn cow_peak(&self) -> u64 {
        self.cow.peak.load(Ordering::Relaxed)
    }
}

/// Starts a snapshot of the dataset into `path` (renamed into place when `rename` is set,
/// else left at `path` for the caller). The walk happens in [`step`]s.
pub fn start(
    srv: &mut Server,
    purpose: Purpose,
    format: Format,
    path: PathBuf,
    rename: Option<PathBuf>,
    on_begin: Option<BeginHook>,
) -> Result<(), String> {
    if srv.persistence.snapshot.is_some() {
        return Err("a snapshot is already in progress".into());
    }
    let mut opts = SaveOptions::from_config(srv);
    opts.aof_base = purpose == Purpose::AofBase;
    let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
    let outcome: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let slot = outcome.clone();
    let trailer = match format {
        Format::Rdb => Some(opts.checksum),
        Format::Commands => None,
    };
    let autosync = srv.config.bool(match purpose {
        Purpose::Rdb => "rdb-save-incremental-fsync",
        Purpose::AofBase => "aof-rewrite-incremental-fsync",
    });
    let thread = std::thread::Builder::new()
        .name(match purpose {
            Purpose::Rdb => "bgsave".into(),
            Purpose::AofBase => "aof-rewrite".into(),
        })
        .spawn(move || {
            // The writer yields to the engine thread when they share a CPU. Its bursts are
            // short (a 256 KiB chunk: a slice-by-16 CRC and a write; every 4 MB, starting
            // writeback), so a slice it keeps when the engine wakes costs clients little.
            // (SCHED_IDLE, which the engine preempts at once, measured the same, and could
            // starve the writer on a saturated core while side buffers grow.)
            // SAFETY: setpriority on this thread's own id.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
            let result = write_stream(rx, &path, rename.as_deref(), trailer, autosync);
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        })
        .map_err(|e| e.to_string())?;
    let now = Instant::now();
    let mut job = Box::new(Job {
        purpose,
        format,
        opts,
        began: false,
        on_begin,
        started_ms: crate::util::time::now_ms(),
        dirty_at_start: srv.fx.dirty,
        keys_total: 0,
        keys_done: 0,
        cow: Arc::new(CowStats::default()),
        killed: false,
        plans: Vec::new(),
        next: 0,
        db_started: false,
        enc: RdbWriter::without_checksum(Vec::with_capacity(CHUNK + 64 * 1024), opts.compress),
        tx: Some(tx),
        encoded_all: false,
        walked: false,
        outcome,
        side_failed: Arc::new(Mutex::new(None)),
        thread: Some(thread),
        meta: RecordMeta::from_server(srv),
        key_delay_us: srv.config.int("rdb-key-save-delay"),
        started: now,
        last_step_end: now,
        commands_at_last_step: 0,
    });
    if !srv.dbs.iter().any(|d| !d.is_empty() && d.is_rehashing()) {
        if let Err(e) = begin(srv, &mut job) {
            abandon(srv, &mut job, false);
            if let Some(t) = job.thread.take() {
                let _ = t.join();
            }
            return Err(e);
        }
    }
    srv.persistence.snapshot = Some(job);
    if let Some(wake) = &srv.background_wake {
        wake();
    }
    Ok(())
}

/// Runs when the snapshot's moment comes, under the engine lock (an AOF rewrite switches
/// its incremental file here, so the base and the new file meet exactly).
pub type BeginHook = fn(&mut Server) -> Result<(), String>;

/// The snapshot's moment: the header is written and every non-empty database is held. Taken
/// at once when no table is rehashing; otherwise the walker first finishes the rehashing in
/// short steps (a held table cannot move keys between its arrays, and lookups in a table
/// held mid-rehash would search both arrays for the whole snapshot).
fn begin(srv: &mut Server, job: &mut Job) -> Result<(), String> {
    if let Some(hook) = job.on_begin {
        hook(srv)?;
    }
    match job.format {
        Format::Rdb => write_header(&mut job.enc, srv, job.opts).map_err(|e| e.to_string())?,
        Format::Commands => super::aof::rewrite::write_preamble(srv, job.enc.get_mut()),
    }
    job.meta = RecordMeta::from_server(srv);
    job.dirty_at_start = srv.fx.dirty;
    job.started_ms = crate::util::time::now_ms();
    job.started = Instant::now();
    for db in srv.dbs.iter_mut() {
        if db.is_empty() {
            continue;
        }
        job.plans.push(Plan { origin: db.id, keys: db.len(), expires: db.expires_count() });
        job.keys_total += db.len() as u64;
        let side = Side {
            enc: RdbWriter::without_checksum(Vec::new(), job.opts.compress),
            format: job.format,
            meta: job.meta,
            stats: job.cow.clone(),
            failed: job.side_failed.clone(),
        };
        db.hold_for_snapshot(Box::new(side));
    }
    job.began = true;
    Ok(())
}

/// Before the snapshot's moment: rehashing steps for about `budget`, then the moment when
/// no table rehashes any more.
fn prepare(srv: &mut Server, job: &mut Job, budget: Duration) -> Option<Progress> {
    let deadline = Instant::now() + budget;
    while Instant::now() < deadline {
        let mut rehashing = false;
        for db in srv.dbs.iter_mut() {
            if !db.is_empty() && db.rehash(256) {
                rehashing = true;
            }
        }
        if !rehashing {
            if let Err(e) = begin(srv, job) {
                abandon(srv, job, false);
                *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(e));
                return Some(Progress::Idle);
            }
            return None;
        }
    }
    Some(Progress::More)
}

/// The writer thread: checksums and writes chunks to a temp file beside `path`, then syncs
/// and renames it. `trailer` is Some(checksum?) for an RDB image, which ends with its CRC-64
/// (zero when checksums are off). `autosync` is `rdb-save-incremental-fsync` (or the AOF
/// rewrite's): the file goes to disk 4 MB at a time as it is written (see [`SyncedFile`]).
/// Any I/O error ends it early (the engine notices and stops walking).
fn write_stream(
    rx: Receiver<Msg>,
    path: &Path,
    rename: Option<&Path>,
    trailer: Option<bool>,
    autosync: bool,
) -> Outcome {
    use std::io::Write;
    // Chunks are already 256 KiB: written as they come, with no buffer copying them again.
    let file = std::fs::File::create(path).map_err(|e| {
        format!("Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}", path.display(), cwd())
    })?;
    let mut out = SyncedFile::new(file, autosync);
    let mut crc = CRC64.digest();
    let result = (|| -> std::io::Result<bool> {
        for msg in rx.iter() {
            match msg {
                Msg::Data(chunk) => {
                    crc.update(&chunk);
                    out.write_all(&chunk)?;
                }
                Msg::Finish => {
                    if let Some(checksum) = trailer {
                        let sum = if checksum { crc.clone().finalize() } else { 0 };
                        out.write_all(&sum.to_le_bytes())?;
                    }
                    out.file().sync_all()?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    })();
    let bytes = out.written();
    drop(out);
    match result {
        Ok(true) => {
            if let Some(target) = rename {
                if let Err(e) = std::fs::rename(path, target) {
                    let _ = std::fs::remove_file(path);
                    return Err(format!(
                        "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
                        path.display(),
                        target.display(),
                        cwd()
                    ));
                }
                super::sync_dir(target);
            }
            Ok(WriteDone { bytes, path: rename.unwrap_or(path).to_path_buf() })
        }
        Ok(false) => {
            let _ = std::fs::remove_file(path);
            Err("snapshot abandoned".into())
        }
        Err(e) => {
            let _ = std::fs::remove_file(path);
            Err(format!("Write error saving DB on disk: {e}"))
        }
    }
}

fn cwd() -> String {
    std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// What a [`drive`] call achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More to do and clients are active: call again after the next timer tick.
    More,
    /// More to do and the server is idle: call again as soon as the runtime has polled its
    /// sockets (and run any client that arrived).
    Again,
    /// Waiting (for the disk, or `rdb-key-save-delay`): call again in a millisecond.
    Waiting,
    /// No walk in progress.
    Idle,
}

/// One step of the walker, its length derived from what happened since the last step (see
/// the module docs): about an eighth of the time clients had when commands ran meanwhile
/// ([`Progress::More`]), a short step to be repeated at once when the server was idle
/// ([`Progress::Again`]). The server crate calls this, lets the runtime poll sockets and run
/// clients, and calls again until it returns [`Progress::Idle`].
pub fn drive(srv: &mut Server) -> Progress {
    let commands = srv.stats.total_commands_processed;
    let Some(job) = srv.persistence.snapshot.as_mut() else { return Progress::Idle };
    let gap = job.last_step_end.elapsed();
    let busy = commands != job.commands_at_last_step;
    job.commands_at_last_step = commands;
    if busy {
        return step(srv, (gap / 8).clamp(MIN_STEP, MAX_STEP));
    }
    match step(srv, IDLE_STEP) {
        Progress::More => Progress::Again,
        other => other,
    }
}

/// Walks for about `budget`.
pub fn step(srv: &mut Server, budget: Duration) -> Progress {
    let Some(mut job) = srv.persistence.snapshot.take() else { return Progress::Idle };
    let waiting = if job.began || job.tx.is_none() { None } else { prepare(srv, &mut job, budget) };
    let progress = match waiting {
        Some(p) => p,
        None => walk(srv, &mut job, budget),
    };
    job.last_step_end = Instant::now();
    srv.persistence.snapshot = Some(job);
    progress
}

/// Runs a snapshot's walk to the end on the caller's thread (tests, and callers without a
/// driver).
pub fn run_to_end(srv: &mut Server) {
    loop {
        match step(srv, Duration::from_millis(100)) {
            Progress::Idle => break,
            // The writer's channel is full, or `rdb-key-save-delay` holds the walker back.
            Progress::Waiting => std::thread::sleep(Duration::from_millis(1)),
            Progress::More | Progress::Again => {}
        }
        let walking = srv.persistence.snapshot.as_ref().is_some_and(|j| !j.walked && j.tx.is_some());
        if !walking {
            break;
        }
    }
}

/// Keys the walker may have saved by now under `rdb-key-save-delay`.
fn key_allowance(job: &Job) -> u64 {
    let us = job.started.elapsed().as_micros() as u64;
    match job.key_delay_us {
        d if d > 0 => us / d as u64,
        d if d < 0 => us * d.unsigned_abs(),
        _ => u64::MAX,
    }
}

fn walk(srv: &mut Server, job: &mut Job, budget: Duration) -> Progress {
    if job.walked || job.tx.is_none() {
        return Progress::Idle;
    }
    let side_error = job.side_failed.lock().ok().and_then(|f| f.clone());
    if let Some(e) = side_error {
        abandon(srv, job, false);
        *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(e));
        return Progress::Idle;
    }
    let deadline = Instant::now() + budget;
    let allowance = key_allowance(job);
    loop {
        if job.enc.get_ref().len() >= CHUNK {
            match send_chunk(job) {
                Ok(true) => {}
                Ok(false) => return Progress::Waiting,
                Err(()) => {
                    abandon(srv, job, false);
                    return Progress::Idle;
                }
            }
        }
        let Some(plan) = job.plans.get(job.next).copied() else {
            return finish_walk(job);
        };
        let Some(db) = srv.dbs.iter_mut().find(|d| d.snapshot_origin() == Some(plan.origin)) else {
            // The hold is gone (the database was released): nothing more to save from it.
            job.next += 1;
            job.db_started = false;
            continue;
        };
        if !job.db_started {
            match job.format {
                Format::Rdb => {
                    let _ = write_db_header(&mut job.enc, plan.origin, plan.keys, plan.expires);
                }
                Format::Commands => super::aof::rewrite::select(job.enc.get_mut(), plan.origin),
            }
            job.db_started = true;
        }
        let walk_len = db.snapshot_walk_len();
        let mut chains = 0u32;
        let mut failed = None;
        loop {
            let Some(hold) = db.snapshot_hold() else { break };
            let pos = hold.visited;
            if pos == SnapshotHold::DONE || pos >= walk_len {
                break;
            }
            if job.keys_done >= allowance {
                drain_side(db, job);
                return Progress::Waiting;
            }
            let (enc, meta, done, format) = (&mut job.enc, &job.meta, &mut job.keys_done, job.format);
            db.snapshot_visit(pos, |e| {
                if failed.is_none() {
                    if let Err(err) = encode_entry(format, enc, e, meta) {
                        failed = Some(err.to_string());
                    }
                }
                *done += 1;
            });
            chains += 1;
            if failed.is_some() || job.enc.get_ref().len() >= CHUNK || (chains % 32 == 0 && Instant::now() >= deadline)
            {
                break;
            }
        }
        drain_side(db, job);
        if let Some(e) = failed {
            abandon(srv, job, false);
            *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(e));
            return Progress::Idle;
        }
        let complete = db.snapshot_hold().is_none_or(|h| h.visited == SnapshotHold::DONE || h.visited >= walk_len);
        if complete {
            db.release_snapshot();
            job.next += 1;
            job.db_started = false;
        }
        if Instant::now() >= deadline {
            return Progress::More;
        }
    }
}

fn drain_side(db: &mut crate::keyspace::Db, job: &mut Job) {
    if let Some(hold) = db.snapshot_hold() {
        hold.sink.drain_into(job.enc.get_mut());
    }
}

/// Hands the current chunk to the writer. Ok(false) when the channel is full.
fn send_chunk(job: &mut Job) -> Result<bool, ()> {
    let Some(tx) = &job.tx else { return Err(()) };
    let chunk = std::mem::replace(job.enc.get_mut(), Vec::with_capacity(CHUNK + 64 * 1024));
    match tx.try_send(Msg::Data(chunk)) {
        Ok(()) => Ok(true),
        Err(TrySendError::Full(Msg::Data(chunk))) => {
            *job.enc.get_mut() = chunk;
            Ok(false)
        }
        Err(_) => Err(()),
    }
}

/// Hands the last chunk and `Finish` to the writer. Never waits for it: under a write load
/// the disk can hold the writer for hundreds of milliseconds (dirty-page throttling), and
/// this runs with the engine locked, so a full channel means trying again next step.
fn finish_walk(job: &mut Job) -> Progress {
    if !job.encoded_all {
        if job.format == Format::Rdb {
            let _ = job.enc.byte(OPCODE_EOF);
        }
        job.encoded_all = true;
    }
    if !job.enc.get_ref().is_empty() {
        match send_chunk(job) {
            Ok(true) => {}
            Ok(false) => return Progress::Waiting,
            // The writer is gone; it reports its own outcome.
            Err(()) => return end_walk(job),
        }
    }
    let Some(tx) = &job.tx else { return Progress::Idle };
    if let Err(TrySendError::Full(_)) = tx.try_send(Msg::Finish) {
        return Progress::Waiting;
    }
    end_walk(job)
}

fn end_walk(job: &mut Job) -> Progress {
    job.tx = None;
    job.walked = true;
    Progress::Idle
}

/// Stops walking: releases every hold (clearing marks) and tells the writer to give up.
fn abandon(srv: &mut Server, job: &mut Job, killed: bool) {
    for db in srv.dbs.iter_mut() {
        db.release_snapshot();
    }
    job.tx = None;
    job.killed |= killed;
}

/// Abandons the running snapshot on purpose (FLUSHALL, SHUTDOWN, DEBUG RELOAD): holds are
/// released, the writer removes its temp file, and the job is collected by the caller or
/// the cron. Waits for the writer so no temp file is left behind.
pub fn kill(srv: &mut Server) {
    let Some(mut job) = srv.persistence.snapshot.take() else { return };
    abandon(srv, &mut job, true);
    if let Some(t) = job.thread.take() {
        let _ = t.join();
    }
    srv.persistence.snapshot = Some(job);
}

#[cfg(test)]
mod tests;
