//! Persistence: RDB snapshots, DUMP/RESTORE payloads, the AOF. This module holds the state
//! INFO persistence reports; the formats live in its submodules.

/// What INFO persistence reports, and what save points and MISCONF decide on.
#[derive(Debug, Clone)]
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

/// Saves the dataset before a shutdown. RDB writing arrives with the persistence work; until
/// then a shutdown that asks for a save reports it cannot.
pub fn save_on_shutdown(_srv: &mut crate::server::Server) -> Result<(), String> {
    Err("RDB saving is not available in this build".to_string())
}
