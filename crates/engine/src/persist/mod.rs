//! Persistence: RDB snapshots, DUMP/RESTORE payloads, the AOF.
//!
//! * `rdb/` — the file format: encodings of lengths and strings, the whole-image reader and
//!   writer ([`rdb::dataset`]).
//! * [`encoding`] — Redis's packed encodings (ziplist, listpack, intset, zipmap);
//!   [`value`] reads any value encoding into a neutral form; [`objects`] is the boundary with
//!   the value types (which encoding each is saved in, which encoding a loaded value gets);
//!   streams and sorted sets have their own modules (`types/stream/rdb.rs`,
//!   `objects_zset.rs`).
//! * [`snapshot`] — BGSAVE and AOF-rewrite bases without fork (key-level copy-on-write).
//! * [`dump`] — DUMP/RESTORE payloads.
//!
//! This module holds the state INFO persistence reports and the save/load entry points.

pub mod aof;
pub mod autosync;
pub mod dump;
pub mod encoding;
#[cfg(test)]
mod fixture_tests;
pub mod info;
pub mod objects;
mod objects_zset;
pub mod rdb;
pub mod snapshot;
pub mod value;

use std::path::{Path, PathBuf};

use self::autosync::SyncedFile;
use crate::server::Server;

/// What INFO persistence reports, and what save points and MISCONF decide on.
pub struct PersistenceState {
    /// `Effects::dirty` when the last successful save started (changes since = dirty - this).
    pub dirty_at_last_save: u64,
    /// Seconds since the epoch of the last successful save (LASTSAVE).
    pub last_save_time: i64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_time_sec: i64,
    /// Saves started (INFO rdb_saves).
    pub saves: u64,
    pub last_load_keys_expired: u64,
    pub last_load_keys_loaded: u64,
    /// When the last automatic save was tried (ms), to space retries after a failure.
    pub last_save_attempt_ms: i64,
    /// The running background snapshot (BGSAVE or the base of an AOF rewrite).
    pub snapshot: Option<Box<snapshot::Job>>,
    /// Peak side-buffer bytes of the last BGSAVE (INFO rdb_last_cow_size).
    pub last_cow_size: u64,
    /// A BGSAVE waits for the running AOF rewrite (BGSAVE SCHEDULE, or BGSAVE in MULTI).
    pub bgsave_scheduled: bool,
    /// `used-mem` of the RDB being loaded (INFO loading_rdb_used_mem).
    pub loading_rdb_used_mem: i64,
    /// Progress of the load in progress (INFO loading_*).
    pub loading: LoadingProgress,
}

/// INFO's loading_* figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadingProgress {
    pub start_time: i64,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
}

impl Default for PersistenceState {
    fn default() -> Self {
        PersistenceState {
            dirty_at_last_save: 0,
            last_save_time: crate::util::time::now_ms() / 1000,
            last_bgsave_ok: true,
            last_bgsave_time_sec: -1,
            saves: 0,
            last_load_keys_expired: 0,
            last_load_keys_loaded: 0,
            last_save_attempt_ms: 0,
            snapshot: None,
            last_cow_size: 0,
            bgsave_scheduled: false,
            loading_rdb_used_mem: 0,
            loading: LoadingProgress::default(),
        }
    }
}

impl PersistenceState {
    /// Whether a BGSAVE is running (INFO rdb_bgsave_in_progress).
    pub fn bgsave_in_progress(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|j| j.purpose == snapshot::Purpose::Rdb)
    }

    pub fn current_bgsave_time_sec(&self) -> i64 {
        match &self.snapshot {
            Some(j) if j.purpose == snapshot::Purpose::Rdb => (crate::util::time::now_ms() - j.started_ms) / 1000,
            _ => -1,
        }
    }
}

/// The RDB file path (`dbfilename`, relative to `dir`, which is the working directory).
pub fn rdb_path(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.string("dbfilename").unwrap_or("dump.rdb"))
}

/// The directory holding `path` ("." for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// fsyncs the directory holding `path`, so a rename in it survives a crash.
pub fn sync_dir(path: &Path) {
    if let Ok(d) = std::fs::File::open(parent_dir(path)) {
        let _ = d.sync_all();
    }
}

/// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename over
/// the target, fsync the directory. A crash leaves the old file or the new one, never half.
/// `incremental_fsync` syncs the file 4 MB at a time as it is written (see `autosync`).
pub fn write_atomically(
    path: &Path,
    incremental_fsync: bool,
    fill: impl FnOnce(&mut std::io::BufWriter<SyncedFile>) -> std::io::Result<()>,
) -> Result<(), String> {
    use std::io::Write;
    let tmp = parent_dir(path).join(format!("temp-{}.rdb", std::process::id()));
    let file = std::fs::File::create(&tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            tmp.display(),
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        )
    })?;
    let result = (|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, SyncedFile::new(file, incremental_fsync));
        fill(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.file().sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Write error saving DB on disk: {e}"));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
            tmp.display(),
            path.display(),
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        ));
    }
    sync_dir(path);
    Ok(())
}

/// Records a successful save that started at dirty counter `dirty_at_start`.
fn record_success(srv: &mut Server, dirty_at_start: u64) {
    let p = &mut srv.persistence;
    p.dirty_at_last_save = dirty_at_start;
    p.last_save_time = crate::util::time::now_ms() / 1000;
    p.last_bgsave_ok = true;
}

/// SAVE: writes the dataset to the RDB file now (Redis's rdbSave). A failure is logged and
/// returned; it does not change `rdb_last_bgsave_status`, as in Redis.
pub fn save(srv: &mut Server) -> Result<(), String> {
    let path = rdb_path(srv);
    let opts = rdb::dataset::SaveOptions::from_config(srv);
    let dirty = srv.fx.dirty;
    srv.persistence.saves += 1;
    let incremental = srv.config.bool("rdb-save-incremental-fsync");
    let result = write_atomically(&path, incremental, |w| rdb::dataset::save(srv, w, opts).map(|_| ()));
    match result {
        Ok(()) => {
            crate::log::notice("DB saved on disk");
            record_success(srv, dirty);
            Ok(())
        }
        Err(e) => {
            crate::log::warning(&e);
            Err(e)
        }
    }
}

/// Starts a background save (Redis's rdbSaveBackground), without fork: see [`snapshot`].
pub fn bgsave(srv: &mut Server) -> Result<(), String> {
    if srv.persistence.snapshot.is_some() {
        return Err("Background save already in progress".into());
    }
    let path = rdb_path(srv);
    let tmp = parent_dir(&path).join(format!("temp-{}.rdb", crate::util::time::now_us()));
    srv.persistence.saves += 1;
    srv.persistence.last_save_attempt_ms = crate::util::time::now_ms();
    snapshot::start(srv, snapshot::Purpose::Rdb, snapshot::Format::Rdb, tmp, Some(path), None).map_err(|e| {
        srv.persistence.last_bgsave_ok = false;
        crate::log::warning(&format!("Can't save in background: {e}"));
        e
    })?;
    crate::log::notice(&format!("Background saving started by pid {}", std::process::id()));
    Ok(())
}

/// Collects a finished background snapshot (called from the cron, Redis's
/// checkChildrenDone): records the outcome, then starts a scheduled BGSAVE.
pub fn check_background_done(srv: &mut Server) {
    let finished = srv.persistence.snapshot.as_ref().is_some_and(|j| j.finished());
    if !finished {
        return;
    }
    let Some(mut job) = srv.persistence.snapshot.take() else { return };
    let outcome = job.take_outcome();
    match job.purpose {
        snapshot::Purpose::Rdb => {
            let p = &mut srv.persistence;
            p.last_bgsave_time_sec = (crate::util::time::now_ms() - job.started_ms) / 1000;
            p.last_cow_size = job.cow_peak();
            match outcome {
                Ok(_) => {
                    crate::log::notice("Background saving terminated with success");
                    record_success(srv, job.dirty_at_start);
                }
                Err(_) if job.killed => {
                    crate::log::warning("Background saving terminated by signal 10");
                }
                Err(e) => {
                    crate::log::warning(&e);
                    crate::log::warning("Background saving error");
                    srv.persistence.last_bgsave_ok = false;
                }
            }
        }
        snapshot::Purpose::AofBase => {
            let peak = job.cow_peak();
            aof::rewrite::done(srv, outcome, job.killed, peak);
        }
    }
    if srv.persistence.bgsave_scheduled && srv.persistence.snapshot.is_none() {
        srv.persistence.bgsave_scheduled = false;
        let _ = bgsave(srv);
    }
}

/// Save points (`save <seconds> <changes>`): starts a BGSAVE when one is reached, retrying
/// a failed save only after 5 seconds as Redis does (CONFIG_BGSAVE_RETRY_DELAY).
pub fn check_save_points(srv: &mut Server) {
    if srv.persistence.snapshot.is_some() {
        return;
    }
    let now_ms = crate::util::time::now_ms();
    let changes = srv.fx.dirty.saturating_sub(srv.persistence.dirty_at_last_save) as i64;
    let since = now_ms / 1000 - srv.persistence.last_save_time;
    let retry_ok = srv.persistence.last_bgsave_ok || now_ms - srv.persistence.last_save_attempt_ms > 5000;
    let hit =
        srv.config.save_points().iter().find(|(secs, min_changes)| changes >= *min_changes && since > *secs).copied();
    if let (Some((secs, _)), true) = (hit, retry_ok) {
        crate::log::notice(&format!("{changes} changes in {secs} seconds. Saving..."));
        let _ = bgsave(srv);
    }
}

/// Maps a file for reading without copying it into the heap.
pub struct MappedFile {
    ptr: *mut libc::c_void,
    len: usize,
}

// The mapping is read-only and owned.
unsafe impl Send for MappedFile {}

impl MappedFile {
    pub fn open(path: &Path) -> std::io::Result<MappedFile> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len() as usize;
        if len == 0 {
            return Ok(MappedFile { ptr: std::ptr::null_mut(), len: 0 });
        }
        // SAFETY: a private read-only mapping of a file we opened; checked for failure.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: advice on the mapping we just made.
        unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
        Ok(MappedFile { ptr, len })
    }

    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the mapping is `len` bytes long and lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmapping our own mapping.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

/// Loads an RDB image from a file into the server, reporting progress in INFO; `merge` as
/// DEBUG RELOAD MERGE.
fn load_file(srv: &mut Server, path: &Path, merge: bool) -> Result<rdb::dataset::LoadStats, String> {
    let map = MappedFile::open(path).map_err(|e| e.to_string())?;
    let data = map.bytes();
    srv.loading = true;
    srv.persistence.loading = LoadingProgress {
        start_time: crate::util::time::now_ms() / 1000,
        total_bytes: data.len() as u64,
        loaded_bytes: 0,
    };
    let result = rdb::dataset::load_into(srv, data, merge);
    srv.persistence.loading.loaded_bytes = data.len() as u64;
    srv.loading = false;
    let stats = result.map_err(|e| e.to_string())?;
    srv.persistence.last_load_keys_loaded = stats.keys_loaded;
    srv.persistence.last_load_keys_expired = stats.keys_expired;
    Ok(stats)
}

/// Loads the RDB file at start-up, if there is one (Redis's loadDataFromDisk without AOF).
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let path = rdb_path(srv);
    if !path.exists() {
        return Ok(());
    }
    let start = std::time::Instant::now();
    let stats = load_file(srv, &path, false)
        .map_err(|e| format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})"))?;
    crate::log::notice(&format!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded, stats.keys_expired
    ));
    crate::log::notice(&format!("DB loaded from disk: {:.3} seconds", start.elapsed().as_secs_f64()));
    Ok(())
}

/// Loads the RDB file into the running server (DEBUG RELOAD). With `merge`, keys in the file
/// replace existing ones.
pub fn reload(srv: &mut Server, merge: bool) -> Result<(), String> {
    let path = rdb_path(srv);
    load_file(srv, &path, merge).map(|_| ())
}

/// Loads the RDB image a master sent for a full resync into the (emptied) dataset. Keys past
/// their TTL are kept, as Redis's rdbLoad does on a replica: the master expires them.
/// Returns the database the stream continues in (`repl-stream-db`).
pub fn load_replica_image(srv: &mut Server, image: &[u8]) -> Result<usize, String> {
    srv.loading = true;
    srv.persistence.loading = LoadingProgress {
        start_time: crate::util::time::now_ms() / 1000,
        total_bytes: image.len() as u64,
        loaded_bytes: 0,
    };
    let verify = srv.config.bool("rdbchecksum") && !srv.skip_checksum_validation;
    let now = crate::util::time::now_ms();
    let mut sink = rdb::dataset::ServerSink::new(srv, false, true);
    let result = rdb::dataset::parse(image, &mut sink, verify, now).map(|_| sink.stats);
    srv.persistence.loading.loaded_bytes = image.len() as u64;
    srv.loading = false;
    let stats = result.map_err(|e| e.to_string())?;
    srv.persistence.last_load_keys_loaded = stats.keys_loaded;
    srv.persistence.last_load_keys_expired = stats.keys_expired;
    Ok(stats.repl_stream_db)
}

/// What persistence does before the server exits (Redis's prepareForShutdown): a running
/// BGSAVE or AOF rewrite is abandoned (temp files removed), the AOF buffer is written and
/// fsynced, and with `save` the dataset is saved. A failed save is returned (the caller
/// decides whether to exit anyway).
pub fn prepare_shutdown(srv: &mut Server, save_rdb: bool) -> Result<(), String> {
    if srv.persistence.bgsave_in_progress() {
        crate::log::warning("There is a child saving an .rdb. Killing it!");
        kill_background(srv);
    }
    aof::shutdown(srv);
    if save_rdb {
        kill_background(srv);
        crate::log::notice("Saving the final RDB snapshot before exiting.");
        save(srv)?;
    }
    Ok(())
}

/// Abandons a running background snapshot (FLUSHALL, SHUTDOWN) and collects it.
pub fn kill_background(srv: &mut Server) {
    if srv.persistence.snapshot.is_none() {
        return;
    }
    snapshot::kill(srv);
    check_background_done(srv);
}

/// FLUSHALL's persistence side (flushAllDataAndResetRDB): a running BGSAVE is abandoned
/// and, with save points configured, the now empty dataset is saved.
pub fn after_flushall(srv: &mut Server) {
    if srv.persistence.bgsave_in_progress() {
        kill_background(srv);
    }
    if !srv.config.save_points().is_empty() {
        let _ = save(srv);
    }
}

/// The dataset as an RDB image in memory (full syncs, DEBUG).
pub fn serialize(srv: &Server, replication: bool) -> std::io::Result<Vec<u8>> {
    let mut opts = rdb::dataset::SaveOptions::from_config(srv);
    opts.replication = replication;
    rdb::dataset::save(srv, Vec::new(), opts)
}
