//! Persistence: RDB snapshots, DUMP/RESTORE payloads, the AOF. This module holds the state
//! INFO persistence reports and the save/load entry points; the formats live in submodules.

pub mod objects;
mod objects_zset;
pub mod rdb;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::server::Server;

/// What INFO persistence reports, and what save points and MISCONF decide on.
#[derive(Clone)]
pub struct PersistenceState {
    /// `Effects::dirty` when the last save started (changes since = dirty - this).
    pub dirty_at_last_save: u64,
    pub bgsave_in_progress: bool,
    /// When the running background save started (ms).
    pub bgsave_started_ms: i64,
    /// Seconds since the epoch of the last successful save (LASTSAVE).
    pub last_save_time: i64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_time_sec: i64,
    pub saves: u64,
    pub last_load_keys_expired: u64,
    pub last_load_keys_loaded: u64,
    /// When the last save attempt was made (ms), to space retries after a failure.
    pub last_save_attempt_ms: i64,
    /// The dirty counter when the running background save started.
    pub bgsave_dirty_at_start: u64,
    /// Where the running background save reports its outcome.
    pub bgsave_result: Option<BgsaveSlot>,
}

impl Default for PersistenceState {
    fn default() -> Self {
        PersistenceState {
            dirty_at_last_save: 0,
            bgsave_in_progress: false,
            bgsave_started_ms: 0,
            last_save_time: crate::util::time::now_ms() / 1000,
            last_bgsave_ok: true,
            last_bgsave_time_sec: -1,
            saves: 0,
            last_load_keys_expired: 0,
            last_load_keys_loaded: 0,
            last_save_attempt_ms: 0,
            bgsave_dirty_at_start: 0,
            bgsave_result: None,
        }
    }
}

impl PersistenceState {
    pub fn current_bgsave_time_sec(&self) -> i64 {
        if self.bgsave_in_progress {
            (crate::util::time::now_ms() - self.bgsave_started_ms) / 1000
        } else {
            -1
        }
    }
}

/// The RDB file path (`dbfilename`, relative to `dir`, which is the working directory).
pub fn rdb_path(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.string("dbfilename").unwrap_or("dump.rdb"))
}

/// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename over
/// the target, fsync the directory. A crash leaves the old file or the new one, never half.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!("temp-{}-{}.rdb", std::process::id(), crate::util::time::now_us()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Records a completed save in the persistence state.
fn record_save(srv: &mut Server, dirty_at_start: u64, ok: bool) {
    let p = &mut srv.persistence;
    if ok {
        p.dirty_at_last_save = dirty_at_start;
        p.last_save_time = crate::util::time::now_ms() / 1000;
        p.saves += 1;
    }
    p.last_bgsave_ok = ok;
}

/// SAVE: writes the dataset to the RDB file now (Redis's rdbSave).
pub fn save(srv: &mut Server) -> Result<(), String> {
    let path = rdb_path(srv);
    let opts = rdb::dataset::SaveOptions::from_config(srv);
    let dirty = srv.fx.dirty;
    let result = write_atomically(&path, |w| rdb::dataset::save(srv, w, opts).map(|_| ()));
    match result {
        Ok(()) => {
            crate::log::notice("DB saved on disk");
            record_save(srv, dirty, true);
            Ok(())
        }
        Err(e) => {
            crate::log::warning(&format!("Failed saving the DB: {e}"));
            record_save(srv, dirty, false);
            Err(e.to_string())
        }
    }
}

/// A background save's outcome, filled in by its thread and collected by the cron.
pub type BgsaveSlot = Arc<Mutex<Option<Result<(), String>>>>;

/// Starts a background save: the dataset is serialized now and written to disk by a thread.
pub fn bgsave(srv: &mut Server) -> Result<(), String> {
    if srv.persistence.bgsave_in_progress {
        return Err("Background save already in progress".into());
    }
    let opts = rdb::dataset::SaveOptions::from_config(srv);
    let image = rdb::dataset::save(srv, Vec::new(), opts).map_err(|e| e.to_string())?;
    let path = rdb_path(srv);
    let slot: BgsaveSlot = Arc::new(Mutex::new(None));
    let done = slot.clone();
    srv.persistence.bgsave_in_progress = true;
    srv.persistence.bgsave_started_ms = crate::util::time::now_ms();
    srv.persistence.bgsave_dirty_at_start = srv.fx.dirty;
    srv.persistence.bgsave_result = Some(slot);
    crate::log::notice(&format!("Background saving started by pid {}", std::process::id()));
    std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let result = write_atomically(&path, |w| w.write_all(&image)).map_err(|e| e.to_string());
            *done.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        })
        .map_err(|e| {
            srv.persistence.bgsave_in_progress = false;
            srv.persistence.bgsave_result = None;
            e.to_string()
        })?;
    Ok(())
}

/// Collects a finished background save (called from the cron).
pub fn check_bgsave_done(srv: &mut Server) {
    let Some(slot) = srv.persistence.bgsave_result.clone() else { return };
    let Some(result) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    srv.persistence.bgsave_result = None;
    srv.persistence.bgsave_in_progress = false;
    srv.persistence.last_bgsave_time_sec = (crate::util::time::now_ms() - srv.persistence.bgsave_started_ms) / 1000;
    let dirty = srv.persistence.bgsave_dirty_at_start;
    match result {
        Ok(()) => {
            crate::log::notice("Background saving terminated with success");
            record_save(srv, dirty, true);
        }
        Err(e) => {
            crate::log::warning(&format!("Background saving error: {e}"));
            record_save(srv, dirty, false);
        }
    }
}

/// Save points (`save <seconds> <changes>`): starts a BGSAVE when one is reached, retrying
/// a failed save only after 5 seconds as Redis does.
pub fn check_save_points(srv: &mut Server) {
    if srv.persistence.bgsave_in_progress {
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
        srv.persistence.last_save_attempt_ms = now_ms;
        if let Err(e) = bgsave(srv) {
            crate::log::warning(&format!("Can't save in background: {e}"));
        }
    }
}

/// Loads the RDB file at start-up, if there is one.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let path = rdb_path(srv);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let start = std::time::Instant::now();
    srv.loading = true;
    let stats = rdb::dataset::load(srv, &data);
    srv.loading = false;
    let stats = stats.map_err(|e| format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})"))?;
    srv.persistence.last_load_keys_loaded = stats.keys_loaded;
    srv.persistence.last_load_keys_expired = stats.keys_expired;
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
    let data = std::fs::read(rdb_path(srv)).map_err(|e| e.to_string())?;
    srv.loading = true;
    let result = rdb::dataset::load_into(srv, &data, merge);
    srv.loading = false;
    let stats = result.map_err(|e| e.to_string())?;
    srv.persistence.last_load_keys_loaded = stats.keys_loaded;
    srv.persistence.last_load_keys_expired = stats.keys_expired;
    Ok(())
}

/// Saves the dataset before a shutdown.
pub fn save_on_shutdown(srv: &mut Server) -> Result<(), String> {
    crate::log::notice("Saving the final RDB snapshot before exiting.");
    save(srv)
}
