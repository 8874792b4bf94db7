//! INFO persistence.

use std::fmt::Write;

use super::snapshot::Purpose;
use crate::server::Server;

/// Appends the fields of INFO's Persistence section (after its header).
pub fn section(srv: &Server, out: &mut String) {
    let p = &srv.persistence;
    let job = p.snapshot.as_deref();
    let (cow_now, cow_peak) = job.map_or((0, 0), |j| (j.cow_bytes(), j.cow_peak()));
    let (processed, total) = job.map_or((0, 0), |j| (j.keys_done, j.keys_total));
    let perc = if total > 0 { processed as f64 * 100.0 / total as f64 } else { 0.0 };
    let aof = &srv.aof;
    let _ = write!(
        out,
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{cow_peak}\r\ncurrent_cow_size:{cow_now}\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:{perc:.2}\r\ncurrent_save_keys_processed:{processed}\r\ncurrent_save_keys_total:{total}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        u8::from(srv.loading),
        srv.fx.dirty.saturating_sub(p.dirty_at_last_save),
        u8::from(p.bgsave_in_progress()),
        p.last_save_time,
        if p.last_bgsave_ok { "ok" } else { "err" },
        p.last_bgsave_time_sec,
        p.current_bgsave_time_sec(),
        p.saves,
        p.last_cow_size,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
        u8::from(aof.is_on()),
        u8::from(job.is_some_and(|j| j.purpose == Purpose::AofBase)),
        u8::from(aof.rewrite_scheduled),
        aof.last_rewrite_time_sec,
        match job {
            Some(j) if j.purpose == Purpose::AofBase => (crate::util::time::now_ms() - j.started_ms) / 1000,
            _ => -1,
        },
        if aof.last_bgrewrite_ok { "ok" } else { "err" },
        aof.rewrites,
        aof.rewrites_consecutive_failures,
        if aof.write_ok() { "ok" } else { "err" },
        aof.last_cow_size,
    );
    if aof.is_on() {
        let _ = write!(
            out,
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
            aof.current_size,
            aof.rewrite_base_size,
            u8::from(aof.rewrite_scheduled),
            aof.buffer_len(),
            aof.pending_fsyncs(),
            aof.delayed_fsync,
        );
    }
    if srv.loading {
        let l = &p.loading;
        let now = crate::util::time::now_ms() / 1000;
        let (perc, remaining) = if l.total_bytes > 0 {
            (l.loaded_bytes as f64 * 100.0 / l.total_bytes as f64, l.total_bytes.saturating_sub(l.loaded_bytes))
        } else {
            (0.0, 1)
        };
        let elapsed = (now - l.start_time).max(0) as u64;
        let eta = if elapsed == 0 { 1 } else { elapsed * remaining / (l.loaded_bytes + 1) };
        let _ = write!(
            out,
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:{}\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            l.start_time, l.total_bytes, p.loading_rdb_used_mem, l.loaded_bytes,
        );
    }
}
