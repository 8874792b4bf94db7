//! BGREWRITEAOF with the multi-part layout (Redis 7.0's rewriteAppendOnlyFileBackground and
//! backgroundRewriteDoneHandler), on the fork-free snapshot:
//!
//! 1. The buffer is flushed and a new incremental file is opened (and listed in the
//!    manifest, persisted) — from now on writes go there.
//! 2. A snapshot of the dataset *as of that moment* is written to a temp file: an RDB image
//!    (`aof-use-rdb-preamble yes`) or commands.
//! 3. When it is on disk, the temp file becomes the new base, the older base and
//!    incremental files become history, and the new manifest is persisted; history files
//!    are then deleted.
//!
//! A crash at any point leaves a manifest that names complete files: the old base with all
//! incremental files (including the new one), or the new base with the new incremental
//! file — never a mix.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{dir, file_name, Status};
use crate::keyspace::{Entry, StrRef, ValueRef};
use crate::persist::autosync::SyncedFile;
use crate::persist::snapshot::{self, Format, Purpose};
use crate::persist::value::Loaded;
use crate::server::Server;
use crate::types::Object;

/// Items per command when a collection is rewritten as commands (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

fn temp_name() -> String {
    format!("temp-rewriteaof-bg-{}.aof", std::process::id())
}

fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", file_name(srv))
}

/// The base's format.
pub fn format(srv: &Server) -> Format {
    if srv.config.bool("aof-use-rdb-preamble") {
        Format::Rdb
    } else {
        Format::Commands
    }
}

/// Opens the file writes go to while the rewrite runs (openNewIncrAofForAppend): a new
/// incremental file listed in the manifest, or, while the AOF is being enabled, a temp file
/// that the rewrite's end renames.
fn open_new_incr(srv: &mut Server) -> Result<(), String> {
    let name = file_name(srv);
    let d = dir(srv);
    match srv.aof.status {
        Status::Off => Ok(()),
        Status::WaitRewrite => {
            let tmp = temp_incr_name(srv);
            super::open_incr(srv, &tmp, true)?;
            crate::log::notice(&format!("Creating AOF incr file {tmp} on background rewrite"));
            Ok(())
        }
        Status::On => {
            let mut m = srv.aof.manifest.clone();
            let incr = m.new_incr(&name);
            let path = d.join(&incr);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| format!("Can't open the append-only file {incr}: {e}"))?;
            drop(file);
            m.persist(&d, &name)?;
            srv.aof.manifest = m;
            super::open_incr(srv, &incr, false)?;
            crate::log::notice(&format!("Creating AOF incr file {incr} on background rewrite"));
            Ok(())
        }
    }
}

/// The rewrite's moment (see `snapshot::begin`): what is buffered goes to the current
/// incremental file, and new writes to a new one; the base will hold exactly what came before.
fn switch_incr(srv: &mut Server) -> Result<(), String> {
    srv.aof.reset_selected_db();
    super::flush(srv, true);
    open_new_incr(srv).map_err(|e| {
        crate::log::warning(&e);
        srv.aof.last_bgrewrite_ok = false;
        e
    })
}

/// Starts a background rewrite (rewriteAppendOnlyFileBackground).
pub fn start(srv: &mut Server) -> Result<(), String> {
    if srv.persistence.snapshot.is_some() {
        return Err("a background save is in progress".into());
    }
    let d = dir(srv);
    if let Err(e) = std::fs::create_dir_all(&d) {
        srv.aof.last_bgrewrite_ok = false;
        let msg = format!("Can't open or create append-only dir {}: {e}", d.display());
        crate::log::warning(&msg);
        return Err(msg);
    }
    srv.aof.rewrites += 1;
    let fmt = format(srv);
    if let Err(e) = snapshot::start(srv, Purpose::AofBase, fmt, PathBuf::from(temp_name()), None, Some(switch_incr)) {
        srv.aof.last_bgrewrite_ok = false;
        crate::log::warning(&format!("Can't rewrite append only file in background: {e}"));
        return Err(e);
    }
    crate::log::notice(&format!("Background append only file rewriting started by pid {}", std::process::id()));
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_started_sec = crate::util::time::now_ms() / 1000;
    Ok(())
}

/// The rewrite's snapshot ended (backgroundRewriteDoneHandler).
pub fn done(srv: &mut Server, outcome: snapshot::Outcome, killed: bool, cow_peak: u64) {
    let name = file_name(srv);
    let d = dir(srv);
    srv.aof.last_cow_size = cow_peak;
    match outcome {
        Ok(written) => {
            crate::log::notice("Background AOF rewrite terminated with success");
            if let Err(e) = install(srv, &written.path, &d, &name) {
                crate::log::warning(&e);
                srv.aof.last_bgrewrite_ok = false;
                srv.aof.rewrites_consecutive_failures += 1;
            } else {
                srv.aof.last_bgrewrite_ok = true;
                srv.aof.rewrites_consecutive_failures = 0;
                crate::log::notice("Background AOF rewrite finished successfully");
                if srv.aof.status == Status::WaitRewrite {
                    srv.aof.status = Status::On;
                }
            }
        }
        Err(e) if killed => {
            crate::log::warning(&format!("Background AOF rewrite terminated by signal 10 ({e})"));
        }
        Err(e) => {
            crate::log::warning(&e);
            srv.aof.last_bgrewrite_ok = false;
            srv.aof.rewrites_consecutive_failures += 1;
            crate::log::warning("Background AOF rewrite terminated with error");
        }
    }
    let _ = std::fs::remove_file(temp_name());
    if srv.aof.status == Status::WaitRewrite {
        // The AOF is still waiting for its first base: drop what the temp file collected
        // and try again.
        srv.aof.file = None;
        srv.aof.buf.clear();
        let tmp = d.join(temp_incr_name(srv));
        crate::log::notice(&format!("Removing the temp incr aof file {} in the background", temp_incr_name(srv)));
        let _ = std::fs::remove_file(tmp);
        srv.aof.rewrite_scheduled = true;
    }
    srv.aof.last_rewrite_time_sec = crate::util::time::now_ms() / 1000 - srv.aof.rewrite_started_sec;
    crate::replication::refresh_propagating(srv);
}

/// Puts a finished base in place and persists the new manifest.
fn install(srv: &mut Server, temp: &Path, d: &Path, name: &str) -> Result<(), String> {
    let mut m = srv.aof.manifest.clone();
    let preamble = srv.config.bool("aof-use-rdb-preamble");
    let base = m.new_base(name, preamble);
    let base_path = d.join(&base);
    std::fs::rename(temp, &base_path).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF base file {} into {}: {e}",
            temp.display(),
            base_path.display()
        )
    })?;
    crate::log::notice(&format!("Successfully renamed the temporary AOF base file {} into {base}", temp.display()));
    let mut new_incr_path = None;
    if srv.aof.status == Status::WaitRewrite {
        let tmp = temp_incr_name(srv);
        let incr = m.new_incr(name);
        let path = d.join(&incr);
        if let Err(e) = std::fs::rename(d.join(&tmp), &path) {
            let _ = std::fs::remove_file(&base_path);
            return Err(format!("Error trying to rename the temporary AOF incr file {tmp} into {incr}: {e}"));
        }
        crate::log::notice(&format!("Successfully renamed the temporary AOF incr file {tmp} into {incr}"));
        new_incr_path = Some(path);
    }
    m.mark_rewritten_incrs_as_history(srv.aof.file.is_some());
    if let Err(e) = m.persist(d, name) {
        let _ = std::fs::remove_file(&base_path);
        if let Some(p) = new_incr_path {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    srv.aof.manifest = m;
    if srv.aof.status != Status::Off {
        let base_size = std::fs::metadata(&base_path).map(|md| md.len()).unwrap_or(0);
        srv.aof.current_size = base_size + srv.aof.last_incr_size;
        srv.aof.rewrite_base_size = srv.aof.current_size;
    }
    delete_history(srv);
    Ok(())
}

/// Deletes history files and drops them from the manifest (aofDelHistoryFiles).
pub fn delete_history(srv: &mut Server) {
    if srv.config.bool("aof-disable-auto-gc") || srv.aof.manifest.history.is_empty() {
        return;
    }
    let d = dir(srv);
    for f in std::mem::take(&mut srv.aof.manifest.history) {
        crate::log::notice(&format!("Removing the history file {} in the background", f.name));
        let _ = std::fs::remove_file(d.join(&f.name));
    }
    srv.aof.manifest.dirty = true;
    let name = file_name(srv);
    let _ = srv.aof.manifest.persist(&d, &name);
}

/// Writes a base file from the current dataset synchronously (rewriteAppendOnlyFile), for
/// start-up with an empty AOF.
pub fn write_base_now(srv: &mut Server, path: &Path) -> Result<(), String> {
    let tmp = PathBuf::from(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let incremental = srv.config.bool("aof-rewrite-incremental-fsync");
        let mut w = std::io::BufWriter::with_capacity(1 << 20, SyncedFile::new(file, incremental));
        match format(srv) {
            Format::Rdb => {
                let mut opts = crate::persist::rdb::dataset::SaveOptions::from_config(srv);
                opts.aof_base = true;
                crate::persist::rdb::dataset::save(srv, &mut w, opts)?;
            }
            Format::Commands => {
                let mut buf = Vec::new();
                write_preamble(srv, &mut buf);
                for db in &srv.dbs {
                    if db.is_empty() {
                        continue;
                    }
                    select(&mut buf, db.id);
                    let mut err = None;
                    db.for_each(|e| {
                        if let Err(x) = write_entry(&mut buf, e) {
                            err.get_or_insert(x);
                        }
                    });
                    if let Some(e) = err {
                        return Err(e);
                    }
                    w.write_all(&buf)?;
                    buf.clear();
                }
                w.write_all(&buf)?;
            }
        }
        w.flush()?;
        w.get_ref().file().sync_all()?;
        drop(w);
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Write error writing append only file on disk: {e}")
    })
}

/// What opens a command-form base: a timestamp annotation (if enabled) and FUNCTION LOADs.
pub fn write_preamble(srv: &Server, out: &mut Vec<u8>) {
    if srv.config.bool("aof-timestamp-enabled") {
        out.extend_from_slice(format!("#TS:{}\r\n", crate::util::time::now_ms() / 1000).as_bytes());
    }
    for code in crate::persist::objects::function_sources(srv) {
        cmd(out, &[b"FUNCTION", b"LOAD", &code]);
    }
}

/// `SELECT <db>` before a database's commands.
pub fn select(out: &mut Vec<u8>, db: usize) {
    cmd(out, &[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
}

fn cmd(out: &mut Vec<u8>, args: &[&[u8]]) {
    spinel_resp::write::array_header(out, args.len());
    for a in args {
        spinel_resp::write::bulk(out, a);
    }
}

/// Commands of `name key` followed by `items`, at most [`ITEMS_PER_CMD`] items (each of
/// `width` arguments) per command, as rewriteListObject and friends batch them.
fn batched(out: &mut Vec<u8>, name: &[u8], key: &[u8], items: &[Vec<Vec<u8>>]) {
    for chunk in items.chunks(ITEMS_PER_CMD) {
        let width: usize = chunk.iter().map(Vec::len).sum();
        spinel_resp::write::array_header(out, 2 + width);
        spinel_resp::write::bulk(out, name);
        spinel_resp::write::bulk(out, key);
        for item in chunk {
            for a in item {
                spinel_resp::write::bulk(out, a);
            }
        }
    }
}

/// The commands that rebuild one key (rewriteAppendOnlyFileRio): SET / RPUSH / SADD / ZADD /
/// HMSET / XADD… then PEXPIREAT if it has a TTL.
pub fn write_entry(out: &mut Vec<u8>, e: &Entry) -> std::io::Result<()> {
    let key = e.key();
    match e.value() {
        ValueRef::Str(s) => {
            let mut buf = itoa::Buffer::new();
            let v = match s {
                StrRef::Int(n) => buf.format(n).as_bytes(),
                StrRef::Bytes(b) => b,
            };
            cmd(out, &[b"SET", key, v]);
        }
        ValueRef::Object(Object::Stream(s)) => {
            crate::types::stream::rewrite::commands(key, s, |args| cmd(out, args));
        }
        ValueRef::Object(o) => match crate::persist::objects::to_loaded(o) {
            Loaded::Str(v) => cmd(out, &[b"SET", key, &v]),
            Loaded::List(items) => {
                let items: Vec<Vec<Vec<u8>>> = items.into_iter().map(|i| vec![i]).collect();
                batched(out, b"RPUSH", key, &items);
            }
            Loaded::Set(items) => {
                let items: Vec<Vec<Vec<u8>>> = items.into_iter().map(|i| vec![i]).collect();
                batched(out, b"SADD", key, &items);
            }
            Loaded::ZSet(items, _) => {
                let items: Vec<Vec<Vec<u8>>> =
                    items.into_iter().map(|(m, s)| vec![crate::util::num::format_f64(s), m]).collect();
                batched(out, b"ZADD", key, &items);
            }
            Loaded::Hash(pairs, _) => {
                let items: Vec<Vec<Vec<u8>>> = pairs.into_iter().map(|(f, v)| vec![f, v]).collect();
                batched(out, b"HMSET", key, &items);
            }
            // Handled above from the typed value.
            Loaded::Stream(_) => {}
        },
    }
    if let Some(when) = e.expire() {
        cmd(out, &[b"PEXPIREAT", key, itoa::Buffer::new().format(when).as_bytes()]);
    }
    Ok(())
}
