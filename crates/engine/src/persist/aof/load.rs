//! Replaying the AOF at start-up (Redis's loadAppendOnlyFiles): the base (an RDB image, or
//! commands), then each incremental file, commands run through the dispatcher by an internal
//! client.
//!
//! A file that ends in the middle of a command — a crash during a write — is "truncated":
//! with `aof-load-truncated yes` the torn tail is cut off (the file is truncated to the last
//! complete command, logged) and loading succeeds, but only for the last file. A MULTI
//! without its EXEC at the end counts as torn too and is dropped whole. Anything malformed
//! before the end is a format error and the server refuses to start.

use super::manifest::{Manifest, INCR};
use super::Status;
use crate::client::flags;
use crate::persist::rdb::dataset::{parse, ServerSink};
use crate::persist::MappedFile;
use crate::server::Server;

/// How loading one file ended (Redis's AOF_* codes).
#[derive(Debug, PartialEq, Eq)]
pub enum FileResult {
    Ok,
    NotExist,
    Empty,
    /// The torn tail was cut at this offset.
    Truncated,
}

/// Reads the manifest from the AOF directory (aofLoadManifestFromDisk). A missing directory
/// or manifest leaves an empty one.
pub fn load_manifest(srv: &mut Server) -> Result<(), String> {
    let dir = super::dir(srv);
    if !dir.is_dir() {
        return Ok(());
    }
    let path = dir.join(format!("{}.manifest", super::file_name(srv)));
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read(&path)
        .map_err(|e| format!("Fatal error: can't open the AOF manifest file {} for reading: {e}", path.display()))?;
    srv.aof.manifest = Manifest::parse(&text).map_err(|e| format!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n{e}"))?;
    Ok(())
}

/// Total size of the base and incremental files (an error if one is missing).
pub fn files_size(srv: &Server) -> Result<u64, String> {
    let dir = super::dir(srv);
    let m = &srv.aof.manifest;
    let mut total = 0;
    for f in m.base.iter().chain(&m.incrs) {
        let meta = std::fs::metadata(dir.join(&f.name))
            .map_err(|e| format!("Unable to obtain the AOF file {} length. stat: {e}", f.name))?;
        total += meta.len();
    }
    Ok(total)
}

/// An old single-file AOF (`appendonly.aof` in `dir`) becomes the base of a new AOF
/// directory (aofUpgradePrepare).
fn upgrade_if_needed(srv: &mut Server) -> Result<(), String> {
    let name = super::file_name(srv);
    let old = std::path::PathBuf::from(&name);
    if !old.is_file() {
        return Ok(());
    }
    let dir = super::dir(srv);
    let m = &srv.aof.manifest;
    let upgrade = !dir.is_dir()
        || (m.base.is_none() && m.incrs.is_empty())
        || (m.incrs.is_empty() && m.base.as_ref().is_some_and(|b| b.name == name) && !dir.join(&name).exists());
    if !upgrade {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("Can't open or create append-only dir {}: {e}", dir.display()))?;
    let m = &mut srv.aof.manifest;
    m.base = Some(super::manifest::FileInfo { name: name.clone(), seq: 1, kind: super::manifest::BASE });
    m.base_seq = 1;
    m.dirty = true;
    m.persist(&dir, &name)?;
    std::fs::rename(&old, dir.join(&name))
        .map_err(|e| format!("Error trying to move the old AOF file {name} into dir {}: {e}", dir.display()))?;
    crate::log::notice(&format!(
        "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({}).",
        dir.display()
    ));
    Ok(())
}

/// Loads every file of the manifest. Ok(false) when there is no AOF at all.
pub fn load_all(srv: &mut Server) -> Result<bool, String> {
    upgrade_if_needed(srv)?;
    let m = srv.aof.manifest.clone();
    if m.base.is_none() && m.incrs.is_empty() {
        return Ok(false);
    }
    let total_size = files_size(srv)?;
    if total_size == 0 {
        return Ok(false);
    }
    let total = m.base.iter().count() + m.incrs.len();
    srv.loading = true;
    srv.fx.loading = true;
    srv.persistence.loading = crate::persist::LoadingProgress {
        start_time: crate::util::time::now_ms() / 1000,
        total_bytes: total_size,
        loaded_bytes: 0,
    };
    let propagating = srv.fx.propagating;
    srv.fx.propagating = false;
    let result = (|| -> Result<(), String> {
        for (i, f) in m.base.iter().chain(&m.incrs).enumerate() {
            let last = i + 1 == total;
            let start = std::time::Instant::now();
            let r = load_file(srv, &f.name, last)?;
            if r == FileResult::Ok || (r == FileResult::Truncated && last) {
                crate::log::notice(&format!(
                    "DB loaded from {} file {}: {:.3} seconds",
                    if f.kind == INCR { "incr" } else { "base" },
                    f.name,
                    start.elapsed().as_secs_f64()
                ));
            }
            if r == FileResult::Truncated && !last {
                return Err("Fatal error: the truncated file is not the last file".into());
            }
            if r == FileResult::NotExist {
                return Err(format!("The append log file {} doesn't exist", f.name));
            }
        }
        Ok(())
    })();
    srv.fx.propagating = propagating;
    srv.loading = false;
    srv.fx.loading = false;
    result?;
    srv.aof.current_size = files_size(srv).unwrap_or(total_size);
    srv.aof.rewrite_base_size =
        m.base.as_ref().and_then(|b| std::fs::metadata(super::dir(srv).join(&b.name)).ok()).map_or(0, |md| md.len());
    Ok(true)
}

/// Where parsing one command stopped.
enum Parsed {
    Command(Vec<Vec<u8>>, usize),
    /// An annotation line (`#TS:…`).
    Skip(usize),
    /// The data ends inside the command.
    Torn,
    Bad,
}

/// A line ending in "\n" starting at `at`, as fgets with a 1024-byte buffer reads it.
fn line(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = data.get(at..)?;
    if rest.is_empty() {
        return None;
    }
    let limit = rest.len().min(1023);
    match memchr::memchr(b'\n', &rest[..limit]) {
        Some(i) => Some((&rest[..=i], at + i + 1)),
        None => Some((&rest[..limit], at + limit)),
    }
}

fn atoi(b: &[u8]) -> i64 {
    let s = std::str::from_utf8(b).unwrap_or("");
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().unwrap_or(0)
}

/// Parses the command at `at` the way loadSingleAppendOnlyFile reads it.
fn next_command(data: &[u8], at: usize) -> Parsed {
    let Some((head, mut p)) = line(data, at) else { return Parsed::Torn };
    if head[0] == b'#' {
        return if head.last() == Some(&b'\n') { Parsed::Skip(p) } else { Parsed::Torn };
    }
    if head[0] != b'*' {
        return Parsed::Bad;
    }
    if head.len() < 2 {
        return Parsed::Torn;
    }
    let argc = atoi(&head[1..]);
    if argc < 1 {
        return Parsed::Bad;
    }
    if head.last() != Some(&b'\n') && p >= data.len() {
        return Parsed::Torn;
    }
    let mut args = Vec::with_capacity((argc as usize).min(1024));
    for _ in 0..argc {
        let Some((l, next)) = line(data, p) else { return Parsed::Torn };
        if l[0] != b'$' {
            return Parsed::Bad;
        }
        if l.last() != Some(&b'\n') && next >= data.len() {
            return Parsed::Torn;
        }
        let len = atoi(&l[1..]).max(0) as usize;
        p = next;
        let Some(arg) = data.get(p..p.saturating_add(len)) else { return Parsed::Torn };
        args.push(arg.to_vec());
        p += len;
        if data.len() < p + 2 {
            return Parsed::Torn;
        }
        p += 2;
    }
    Parsed::Command(args, p)
}

/// Loads one file (loadSingleAppendOnlyFile).
fn load_file(srv: &mut Server, name: &str, last: bool) -> Result<FileResult, String> {
    let path = super::dir(srv).join(name);
    let map = match MappedFile::open(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::log::warning(&format!("The append log file {name} doesn't exist: {e}"));
            return Ok(FileResult::NotExist);
        }
        Err(e) => return Err(format!("Fatal error: can't open the append log file {name} for reading: {e}")),
    };
    let data = map.bytes();
    if data.is_empty() {
        return Ok(FileResult::Empty);
    }
    let base_loaded = srv.persistence.loading.loaded_bytes;
    let mut at = 0;
    if data.starts_with(b"REDIS") {
        let old_style = name == super::file_name(srv);
        crate::log::notice(if old_style {
            "Reading RDB preamble from AOF file..."
        } else {
            "Reading RDB base file on AOF loading..."
        });
        let verify = srv.config.bool("rdbchecksum") && !srv.skip_checksum_validation;
        let mut sink = ServerSink::new(srv, false, true);
        let info = parse(data, &mut sink, verify, crate::util::time::now_ms()).map_err(|e| {
            crate::log::warning(&format!("{e}"));
            if old_style {
                format!("Error reading the RDB preamble of the AOF file {name}, AOF loading aborted")
            } else {
                format!("Error reading the RDB base file {name}, AOF loading aborted")
            }
        })?;
        let stats = sink.stats;
        srv.persistence.last_load_keys_loaded += stats.keys_loaded;
        at = info.length;
        if old_style {
            crate::log::notice("Reading the remaining AOF tail...");
        }
    }
    let slot = srv.clients.add(crate::util::time::now_ms());
    srv.clients[slot].set(flags::INTERNAL, true);
    let outcome = replay(srv, slot, data, at, name);
    srv.clients.remove(slot);
    srv.persistence.loading.loaded_bytes = base_loaded + data.len() as u64;
    match outcome {
        Replay::Done => Ok(FileResult::Ok),
        Replay::Failed(e) => Err(e),
        Replay::Torn(valid_up_to) => {
            if srv.config.bool("aof-load-truncated") {
                crate::log::warning(&format!("!!! Warning: short read while loading the AOF file {name}!!!"));
                crate::log::warning(&format!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!"));
                if !last {
                    return Err("Fatal error: the truncated file is not the last file".into());
                }
                drop(map);
                match std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(valid_up_to as u64)) {
                    Ok(()) => {
                        crate::log::warning(&format!("AOF {name} loaded anyway because aof-load-truncated is enabled"));
                        return Ok(FileResult::Truncated);
                    }
                    Err(e) => crate::log::warning(&format!("Error truncating the AOF file {name}: {e}")),
                }
            }
            Err(format!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."))
        }
    }
}

enum Replay {
    Done,
    /// Torn at the end: the offset of the last complete command (or transaction).
    Torn(usize),
    Failed(String),
}

/// Runs the commands of `data` from `at` on the internal client `slot`.
fn replay(srv: &mut Server, slot: usize, data: &[u8], mut at: usize, name: &str) -> Replay {
    let mut valid_up_to = at;
    let mut valid_before_multi = at;
    let mut multi: Option<Vec<Vec<Vec<u8>>>> = None;
    loop {
        if at >= data.len() {
            break;
        }
        match next_command(data, at) {
            Parsed::Skip(next) => {
                at = next;
                continue;
            }
            Parsed::Torn => return Replay::Torn(if multi.is_some() { valid_before_multi } else { valid_up_to }),
            Parsed::Bad => {
                return Replay::Failed(format!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"))
            }
            Parsed::Command(args, next) => {
                let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                if !matches!(srv.commands.lookup(&argv), crate::cmd::table::Found::Command(_)) {
                    return Replay::Failed(format!(
                        "Unknown command '{}' reading the append only file {name}",
                        String::from_utf8_lossy(&args[0])
                    ));
                }
                let cmd = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
                match (cmd.as_str(), &mut multi) {
                    ("multi", None) => {
                        valid_before_multi = valid_up_to;
                        multi = Some(Vec::new());
                    }
                    ("exec", Some(_)) => {
                        for queued in multi.take().unwrap_or_default() {
                            run(srv, slot, &queued);
                        }
                    }
                    (_, Some(q)) => q.push(args),
                    _ => run(srv, slot, &args),
                }
                at = next;
                valid_up_to = at;
            }
        }
    }
    if multi.is_some() {
        crate::log::warning(&format!("Revert incomplete MULTI/EXEC transaction in AOF file {name}"));
        return Replay::Torn(valid_before_multi);
    }
    Replay::Done
}

fn run(srv: &mut Server, slot: usize, args: &[Vec<u8>]) {
    let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    srv.fx.now_ms = crate::util::time::now_ms();
    let _ = crate::dispatch::call_internal(srv, slot, &argv);
    // Commands may leave keyspace events or ready keys; nobody listens while loading.
    srv.fx.events.clear();
    srv.fx.ready_keys.clear();
}

/// DEBUG LOADAOF: re-reads the manifest, drops history files and replays the AOF into the
/// (emptied) dataset.
pub fn reload(srv: &mut Server) -> Result<(), String> {
    srv.aof.manifest = Manifest::default();
    load_manifest(srv)?;
    super::rewrite::delete_history(srv);
    let current = srv.aof.current_size;
    load_all(srv)?;
    if srv.aof.is_on() {
        srv.aof.current_size = srv.aof.current_size.max(current);
    }
    Ok(())
}

/// Loads the data at start-up: from the AOF when `appendonly yes` (the RDB file is then not
/// read, as in Redis), else from the RDB file.
pub fn load_data_at_startup(srv: &mut Server) -> Result<(), String> {
    if !srv.config.bool("appendonly") {
        return crate::persist::load_at_startup(srv);
    }
    srv.aof.status = Status::On;
    super::apply_config(srv);
    load_manifest(srv)?;
    let start = std::time::Instant::now();
    if load_all(srv)? {
        crate::log::notice(&format!("DB loaded from append only file: {:.3} seconds", start.elapsed().as_secs_f64()));
    }
    super::open_on_start(srv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_annotations_and_torn_tails() {
        let data = b"#TS:1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let Parsed::Skip(p) = next_command(data, 0) else { panic!() };
        let Parsed::Command(a, p) = next_command(data, p) else { panic!() };
        assert_eq!(a, vec![b"SELECT".to_vec(), b"0".to_vec()]);
        let Parsed::Command(a, p) = next_command(data, p) else { panic!() };
        assert_eq!(a.len(), 3);
        assert_eq!(p, data.len());
        for cut in 1..data.len() - 8 {
            let r = next_command(&data[..data.len() - cut], 30);
            assert!(matches!(r, Parsed::Torn), "cut {cut}");
        }
        assert!(matches!(next_command(b"garbage\r\n", 0), Parsed::Bad));
        assert!(matches!(next_command(b"*1\r\nxx\r\n", 0), Parsed::Bad));
    }
}
