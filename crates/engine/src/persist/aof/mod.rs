//! The append-only file, Redis 7's multi-part layout: in `appenddirname`, a base file (an
//! RDB image with `aof-use-rdb-preamble yes`, else commands), incremental files of commands
//! written since, and the manifest naming them ([`manifest`]).
//!
//! Writes reach the AOF exactly as they reach replicas (`replication::flush_pending` feeds
//! both: SELECT when the database changes, MULTI/EXEC around commands a single command or a
//! script produced together, rewritten forms such as SET … PXAT). They collect in a buffer
//! that is written out before the engine lock is released after a batch — that is, before any
//! reply of the batch reaches a socket ([`before_unlock`], Redis's flushAppendOnlyFile in
//! beforeSleep). With `appendfsync always` the data is fsynced there too, and a write or
//! fsync failure exits the process (a reply must never acknowledge data that is not on
//! disk). With `everysec` a helper thread fsyncs once a second; with `no` the kernel decides.
//! Under those two a write error leaves the data in the buffer, makes write commands fail
//! with -MISCONF and is retried every second until it succeeds.
//!
//! [`load`] replays the files at start-up; [`rewrite`] is BGREWRITEAOF.

pub mod load;
pub mod manifest;
pub mod rewrite;

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use manifest::Manifest;

use crate::server::Server;

/// Redis's aof_state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Off,
    On,
    /// Enabled at runtime: waiting for the first rewrite to produce a base.
    WaitRewrite,
}

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

/// fsyncs done by a helper thread (Redis's bio AOF fsync jobs).
struct Fsyncer {
    tx: Sender<File>,
    pending: Arc<AtomicU64>,
    ok: Arc<AtomicBool>,
    errno: Arc<AtomicI32>,
}

impl Fsyncer {
    fn start() -> Option<Fsyncer> {
        let (tx, rx) = channel::<File>();
        let pending = Arc::new(AtomicU64::new(0));
        let ok = Arc::new(AtomicBool::new(true));
        let errno = Arc::new(AtomicI32::new(0));
        let (p, o, e) = (pending.clone(), ok.clone(), errno.clone());
        std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                for file in rx {
                    match file.sync_data() {
                        Ok(()) => o.store(true, Ordering::Relaxed),
                        Err(err) => {
                            crate::log::warning(&format!("Fail to fsync the AOF file: {err}"));
                            e.store(err.raw_os_error().unwrap_or(libc::EIO), Ordering::Relaxed);
                            o.store(false, Ordering::Relaxed);
                        }
                    }
                    drop(file);
                    p.fetch_sub(1, Ordering::Relaxed);
                }
            })
            .ok()?;
        Some(Fsyncer { tx, pending, ok, errno })
    }

    /// Queues an fsync of (a duplicate of) `file`, closed once synced.
    fn submit(&self, file: &File) {
        if let Ok(dup) = file.try_clone() {
            self.pending.fetch_add(1, Ordering::Relaxed);
            if self.tx.send(dup).is_err() {
                self.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// The AOF's state (Redis's aof_* server fields).
pub struct Aof {
    pub status: Status,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before writing a non-empty buffer (tests
    /// use it to widen the window between a write and its reply).
    pub flush_sleep_us: u64,
    /// `aof-timestamp-enabled`, and the second of the last `#TS:` annotation written.
    pub timestamps: bool,
    cur_timestamp: i64,
    pub fsync: FsyncPolicy,
    /// Commands waiting to be written (aof_buf).
    buf: Vec<u8>,
    /// The database the AOF stream last SELECTed.
    selected_db: Option<usize>,
    /// The incremental file being appended to.
    file: Option<File>,
    pub manifest: Manifest,
    /// Bytes of base and incremental files (aof_current_size).
    pub current_size: u64,
    /// Bytes of the incremental file being written (aof_last_incr_size).
    pub last_incr_size: u64,
    /// Size after the last rewrite (aof_rewrite_base_size), for auto-aof-rewrite-percentage.
    pub rewrite_base_size: u64,
    pub rewrite_scheduled: bool,
    pub last_rewrite_time_sec: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub rewrites_consecutive_failures: u64,
    last_write_ok: bool,
    pub last_write_errno: i32,
    pub delayed_fsync: u64,
    last_fsync_sec: i64,
    /// current_size when the last fsync was requested.
    fsync_offset: u64,
    /// When an everysec write was first postponed behind a slow fsync (seconds, 0 = not).
    flush_postponed_start: i64,
    fsyncer: Option<Fsyncer>,
    pub last_cow_size: u64,
    last_error_log_sec: i64,
    /// Rewrite back-off after repeated failures (aofRewriteLimited).
    next_delay_minutes: i64,
    next_rewrite_time: i64,
    /// When the running rewrite started (seconds).
    pub rewrite_started_sec: i64,
    /// Failed writes are retried once a second (run_with_period(1000) in Redis's cron).
    last_retry_sec: i64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            status: Status::Off,
            flush_sleep_us: 0,
            timestamps: false,
            cur_timestamp: 0,
            fsync: FsyncPolicy::EverySec,
            buf: Vec::new(),
            selected_db: None,
            file: None,
            manifest: Manifest::default(),
            current_size: 0,
            last_incr_size: 0,
            rewrite_base_size: 0,
            rewrite_scheduled: false,
            last_rewrite_time_sec: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            rewrites_consecutive_failures: 0,
            last_write_ok: true,
            last_write_errno: 0,
            delayed_fsync: 0,
            last_fsync_sec: 0,
            fsync_offset: 0,
            flush_postponed_start: 0,
            fsyncer: None,
            last_cow_size: 0,
            last_error_log_sec: 0,
            next_delay_minutes: 0,
            next_rewrite_time: 0,
            rewrite_started_sec: 0,
            last_retry_sec: 0,
        }
    }
}

impl Aof {
    /// INFO aof_enabled: on, or waiting for the rewrite that turns it on.
    pub fn is_on(&self) -> bool {
        self.status != Status::Off
    }

    /// INFO aof_last_write_status: the last write and the last background fsync succeeded.
    pub fn write_ok(&self) -> bool {
        self.last_write_ok && self.fsyncer.as_ref().is_none_or(|f| f.ok.load(Ordering::Relaxed))
    }

    pub fn buffer_len(&self) -> usize {
        self.buf.len()
    }

    pub fn pending_fsyncs(&self) -> u64 {
        self.fsyncer.as_ref().map_or(0, |f| f.pending.load(Ordering::Relaxed))
    }

    /// The errno behind a failing state (for the MISCONF message).
    pub fn error_errno(&self) -> i32 {
        if !self.last_write_ok {
            return self.last_write_errno;
        }
        self.fsyncer.as_ref().map_or(0, |f| f.errno.load(Ordering::Relaxed))
    }

    /// Whether commands fed now go to the AOF.
    pub fn accepts(&self) -> bool {
        self.status != Status::Off && self.file.is_some()
    }

    /// Appends one command for database `db` (SELECT first when the database changes).
    pub fn feed(&mut self, db: usize, args: &[Vec<u8>]) {
        if self.timestamps {
            // genAofTimestampAnnotationIfNeeded: one `#TS:` line each second that has writes.
            let now = now_sec();
            if self.cur_timestamp < now {
                self.cur_timestamp = now;
                self.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        if self.selected_db != Some(db) {
            let n = itoa::Buffer::new().format(db).to_string();
            crate::replication::encode_command(&mut self.buf, &[b"SELECT".to_vec(), n.into_bytes()]);
            self.selected_db = Some(db);
        }
        crate::replication::encode_command(&mut self.buf, args);
    }

    /// Forces a SELECT before the next command (after switching files).
    pub fn reset_selected_db(&mut self) {
        self.selected_db = None;
    }
}

/// The AOF directory (`appenddirname`, relative to `dir`).
pub fn dir(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.string("appenddirname").unwrap_or("appendonlydir"))
}

/// The AOF base name (`appendfilename`).
pub fn file_name(srv: &Server) -> String {
    srv.config.string("appendfilename").unwrap_or("appendonly.aof").to_string()
}

/// Reads `appendfsync` into the state (called on start and CONFIG SET).
pub fn apply_config(srv: &mut Server) {
    srv.aof.timestamps = srv.config.bool("aof-timestamp-enabled");
    srv.aof.fsync = match srv.config.enum_name("appendfsync") {
        "always" => FsyncPolicy::Always,
        "no" => FsyncPolicy::No,
        _ => FsyncPolicy::EverySec,
    };
}

/// Redis's writeCommandsDeniedByDiskError for the AOF: the MISCONF error text when the last
/// write (or background fsync) failed.
pub fn write_denied(srv: &Server) -> Option<String> {
    if srv.aof.status == Status::Off || srv.aof.write_ok() {
        return None;
    }
    Some(format!("MISCONF Errors writing to the AOF file: {}", crate::config::parse::strerror(srv.aof.error_errno())))
}

fn now_sec() -> i64 {
    crate::util::time::now_ms() / 1000
}

/// Called before the engine lock is released: writes what the batch appended (and fsyncs it
/// under `always`) so that no reply leaves before its data is in the AOF.
pub fn before_unlock(srv: &mut Server) {
    if !srv.aof.buf.is_empty()
        || (srv.aof.fsync == FsyncPolicy::EverySec && srv.aof.fsync_offset != srv.aof.current_size)
    {
        flush(srv, false);
    }
}

/// Redis's flushAppendOnlyFile: writes the buffer, then fsyncs per `appendfsync`.
pub fn flush(srv: &mut Server, force: bool) {
    let no_fsync_on_rewrite = srv.config.bool("no-appendfsync-on-rewrite") && srv.persistence.snapshot.is_some();
    let aof = &mut srv.aof;
    let Some(file) = aof.file.as_mut() else { return };
    let now = now_sec();
    let mut sync_in_progress = false;
    if aof.buf.is_empty() {
        // An everysec fsync is still owed for data written earlier.
        if aof.fsync == FsyncPolicy::EverySec && aof.fsync_offset != aof.current_size && now > aof.last_fsync_sec {
            if busy(&aof.fsyncer) {
                return;
            }
        } else {
            return;
        }
    } else {
        if aof.fsync == FsyncPolicy::EverySec {
            sync_in_progress = busy(&aof.fsyncer);
        }
        if aof.fsync == FsyncPolicy::EverySec && !force && sync_in_progress {
            // A write would block behind the background fsync: wait up to two seconds.
            if aof.flush_postponed_start == 0 {
                aof.flush_postponed_start = now;
                return;
            } else if now - aof.flush_postponed_start < 2 {
                return;
            }
            aof.delayed_fsync += 1;
            crate::log::notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        aof.flush_postponed_start = 0;
        if aof.flush_sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(aof.flush_sleep_us));
        }
        let (written, err) = write_all(file, &aof.buf);
        if written != aof.buf.len() {
            let can_log = now - aof.last_error_log_sec > 30;
            if can_log {
                aof.last_error_log_sec = now;
            }
            let mut kept = written;
            match err {
                Some(e) if written == 0 => {
                    if can_log {
                        crate::log::warning(&format!("Error writing to the AOF file: {e}"));
                    }
                    aof.last_write_errno = e.raw_os_error().unwrap_or(libc::EIO);
                }
                _ => {
                    if can_log {
                        crate::log::warning(&format!(
                            "Short write while writing to the AOF file: (nwritten={written}, expected={})",
                            aof.buf.len()
                        ));
                    }
                    // Remove the partial command so the file stays loadable.
                    match file.set_len(aof.last_incr_size) {
                        Ok(()) => kept = 0,
                        Err(e) => {
                            if can_log {
                                crate::log::warning(&format!("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: {e}"));
                            }
                        }
                    }
                    aof.last_write_errno = libc::ENOSPC;
                }
            }
            if aof.fsync == FsyncPolicy::Always {
                crate::log::warning(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
                );
                std::process::exit(1);
            }
            aof.last_write_ok = false;
            if kept > 0 {
                aof.current_size += kept as u64;
                aof.last_incr_size += kept as u64;
                aof.buf.drain(..kept);
            }
            return;
        }
        if !aof.last_write_ok {
            crate::log::warning("AOF write error looks solved, Redis can write again.");
            aof.last_write_ok = true;
        }
        aof.current_size += written as u64;
        aof.last_incr_size += written as u64;
        if aof.buf.capacity() < 4096 {
            aof.buf.clear();
        } else {
            aof.buf = Vec::new();
        }
    }
    if no_fsync_on_rewrite {
        return;
    }
    match aof.fsync {
        FsyncPolicy::Always => {
            if let Err(e) = file.sync_data() {
                crate::log::warning(&format!(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting..."
                ));
                std::process::exit(1);
            }
            aof.fsync_offset = aof.current_size;
            aof.last_fsync_sec = now;
        }
        FsyncPolicy::EverySec if now > aof.last_fsync_sec => {
            if !sync_in_progress {
                if let Some(f) = &aof.fsyncer {
                    f.submit(file);
                }
                aof.fsync_offset = aof.current_size;
            }
            aof.last_fsync_sec = now;
        }
        _ => {}
    }
}

/// Whether a background fsync is pending (aofFsyncInProgress).
fn busy(f: &Option<Fsyncer>) -> bool {
    f.as_ref().is_some_and(|f| f.pending.load(Ordering::Relaxed) > 0)
}

/// write(2) until done or an error: (bytes written, the error if any).
fn write_all(file: &mut File, mut data: &[u8]) -> (usize, Option<std::io::Error>) {
    let mut total = 0;
    while !data.is_empty() {
        match file.write(data) {
            Ok(0) => return (total, Some(std::io::Error::from_raw_os_error(libc::ENOSPC))),
            Ok(n) => {
                total += n;
                data = &data[n..];
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (total, Some(e)),
        }
    }
    (total, None)
}

/// The AOF part of the cron: retry a failed write every second, finish a postponed write,
/// start scheduled or automatic rewrites.
pub fn cron(srv: &mut Server) {
    if srv.aof.status != Status::Off {
        if srv.aof.flush_postponed_start != 0 {
            flush(srv, false);
        }
        let now = now_sec();
        if !srv.aof.last_write_ok && now > srv.aof.last_retry_sec {
            srv.aof.last_retry_sec = now;
            flush(srv, false);
        }
    }
    if srv.persistence.snapshot.is_none() && srv.aof.rewrite_scheduled && !rewrite_limited(srv) {
        let _ = rewrite::start(srv);
    }
    let pct = srv.config.int("auto-aof-rewrite-percentage");
    let min_size = srv.config.int("auto-aof-rewrite-min-size").max(0) as u64;
    if srv.aof.status == Status::On && srv.persistence.snapshot.is_none() && pct > 0 && srv.aof.current_size > min_size
    {
        let base = srv.aof.rewrite_base_size.max(1);
        let growth = (srv.aof.current_size * 100 / base) as i64 - 100;
        if growth >= pct && !rewrite_limited(srv) {
            crate::log::notice(&format!("Starting automatic rewriting of AOF on {growth}% growth"));
            let _ = rewrite::start(srv);
        }
    }
}

/// After repeated rewrite failures, rewrites back off: 1, 2, 4… up to 60 minutes
/// (aofRewriteLimited). BGREWRITEAOF resets the failure count and is never limited.
fn rewrite_limited(srv: &mut Server) -> bool {
    let a = &mut srv.aof;
    if a.rewrites_consecutive_failures < 3 {
        a.next_delay_minutes = 0;
        a.next_rewrite_time = 0;
        return false;
    }
    let now = now_sec();
    if a.next_rewrite_time != 0 {
        if now < a.next_rewrite_time {
            return true;
        }
        a.next_rewrite_time = 0;
        return false;
    }
    a.next_delay_minutes = if a.next_delay_minutes == 0 { 1 } else { (a.next_delay_minutes * 2).min(60) };
    a.next_rewrite_time = now + a.next_delay_minutes * 60;
    crate::log::warning(&format!(
        "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
        a.next_delay_minutes
    ));
    true
}

/// Opens `name` in the AOF directory for appending, as the file new writes go to.
fn open_incr(srv: &mut Server, name: &str, truncate: bool) -> Result<(), String> {
    let path = dir(srv).join(name);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true);
    if truncate {
        opts.truncate(true);
    } else {
        opts.append(true);
    }
    let file = opts.open(&path).map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if srv.aof.fsyncer.is_none() {
        srv.aof.fsyncer = Fsyncer::start();
    }
    if let Some(old) = srv.aof.file.replace(file) {
        // Everything written to the old file must still reach the disk.
        match &srv.aof.fsyncer {
            Some(f) => f.submit(&old),
            None => {
                let _ = old.sync_data();
            }
        }
        srv.aof.last_fsync_sec = now_sec();
    }
    srv.aof.last_incr_size = size;
    srv.aof.fsync_offset = srv.aof.current_size;
    srv.aof.selected_db = None;
    Ok(())
}

/// Start-up with `appendonly yes` (aofOpenIfNeededOnServerStart): makes sure a base exists
/// (written from the loaded dataset if there is none), opens the last incremental file (a
/// new one if needed) and persists the manifest. Errors are fatal to the caller.
pub fn open_on_start(srv: &mut Server) -> Result<(), String> {
    if srv.aof.status != Status::On {
        return Ok(());
    }
    let dir = dir(srv);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("Can't open or create append-only dir {}: {e}", dir.display()))?;
    let name = file_name(srv);
    if srv.aof.manifest.base.is_none() && srv.aof.manifest.incrs.is_empty() {
        let preamble = srv.config.bool("aof-use-rdb-preamble");
        let base = srv.aof.manifest.new_base(&name, preamble);
        rewrite::write_base_now(srv, &dir.join(&base))?;
        crate::log::notice(&format!("Creating AOF base file {base} on server start"));
    }
    let existed = !srv.aof.manifest.incrs.is_empty();
    let incr = srv.aof.manifest.last_incr(&name);
    open_incr(srv, &incr, false)?;
    srv.aof.manifest.persist(&dir, &name)?;
    srv.aof.current_size = load::files_size(srv).unwrap_or(srv.aof.current_size);
    srv.aof.fsync_offset = srv.aof.current_size;
    crate::log::notice(&format!(
        "{} AOF incr file {incr} on server start",
        if existed { "Opening" } else { "Creating" }
    ));
    rewrite::delete_history(srv);
    crate::replication::refresh_propagating(srv);
    Ok(())
}

/// CONFIG SET appendonly yes (startAppendOnly): the AOF waits for a rewrite, which produces
/// its base; writes meanwhile go to a temporary incremental file.
pub fn start(srv: &mut Server) -> Result<(), String> {
    if srv.aof.status != Status::Off {
        return Ok(());
    }
    srv.aof.status = Status::WaitRewrite;
    if srv.persistence.snapshot.as_ref().is_some_and(|j| j.purpose == crate::persist::snapshot::Purpose::Rdb) {
        srv.aof.rewrite_scheduled = true;
        crate::log::warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else {
        if srv.persistence.snapshot.is_some() {
            crate::log::warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            crate::persist::kill_background(srv);
        }
        if let Err(e) = rewrite::start(srv) {
            srv.aof.status = Status::Off;
            crate::log::warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err(e);
        }
    }
    srv.aof.last_fsync_sec = now_sec();
    if let Some(f) = &srv.aof.fsyncer {
        if !f.ok.load(Ordering::Relaxed) {
            crate::log::warning("AOF reopen, just ignore the AOF fsync error in bio job");
            f.ok.store(true, Ordering::Relaxed);
        }
    }
    if !srv.aof.last_write_ok {
        crate::log::warning("AOF reopen, just ignore the last error.");
        srv.aof.last_write_ok = true;
    }
    crate::replication::refresh_propagating(srv);
    Ok(())
}

/// CONFIG SET appendonly no (stopAppendOnly): flush, fsync, close; a running rewrite is
/// abandoned.
pub fn stop(srv: &mut Server) {
    if srv.aof.status == Status::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = srv.aof.file.take() {
        match f.sync_data() {
            Ok(()) => srv.aof.last_fsync_sec = now_sec(),
            Err(e) => crate::log::warning(&format!("Fail to fsync the AOF file: {e}")),
        }
    }
    srv.aof.selected_db = None;
    srv.aof.status = Status::Off;
    srv.aof.rewrite_scheduled = false;
    srv.aof.last_incr_size = 0;
    srv.aof.buf = Vec::new();
    if srv.persistence.snapshot.as_ref().is_some_and(|j| j.purpose == crate::persist::snapshot::Purpose::AofBase) {
        crate::log::notice("Killing running AOF rewrite child");
        crate::persist::kill_background(srv);
    }
    crate::replication::refresh_propagating(srv);
}

/// After CONFIG SET: turns the AOF on or off to match `appendonly` (updateAppendonly).
pub fn config_changed(srv: &mut Server) -> Result<(), String> {
    let wanted = srv.config.bool("appendonly");
    if !wanted && srv.aof.status != Status::Off {
        stop(srv);
    } else if wanted && srv.aof.status == Status::Off && start(srv).is_err() {
        return Err("Unable to turn on AOF. Check server logs.".into());
    }
    Ok(())
}

/// Before exiting: write and fsync what is buffered (Redis's prepareForShutdown).
pub fn shutdown(srv: &mut Server) {
    if srv.aof.status == Status::Off {
        return;
    }
    if srv.persistence.snapshot.as_ref().is_some_and(|j| j.purpose == crate::persist::snapshot::Purpose::AofBase) {
        crate::log::warning("There is a child rewriting the AOF. Killing it!");
        crate::persist::kill_background(srv);
    }
    crate::log::notice("Calling fsync() on the AOF file.");
    flush(srv, true);
    if let Some(f) = &srv.aof.file {
        let _ = f.sync_data();
    }
}

/// The locked engine, as every lock path hands it out (connections, the cron, script
/// threads, the REST gateway). Releasing it first writes what the AOF buffered while it was
/// held (Redis's flushAppendOnlyFile in beforeSleep), so no reply produced under the lock can
/// reach a socket before its write is in the AOF (and fsynced, under `appendfsync always`).
pub struct EngineGuard<'a>(std::sync::MutexGuard<'a, Server>);

impl<'a> EngineGuard<'a> {
    pub fn new(guard: std::sync::MutexGuard<'a, Server>) -> EngineGuard<'a> {
        EngineGuard(guard)
    }
}

impl std::ops::Deref for EngineGuard<'_> {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl std::ops::DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.0
    }
}

impl Drop for EngineGuard<'_> {
    fn drop(&mut self) {
        before_unlock(&mut self.0);
    }
}
