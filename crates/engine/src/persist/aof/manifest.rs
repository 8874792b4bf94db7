//! The multi-part AOF manifest (Redis 7): one line per file, `file <name> seq <n> type <t>`,
//! the base first (`b`), then history files (`h`, waiting to be deleted), then incremental
//! files (`i`) in order. It is replaced atomically (temp file, fsync, rename, directory
//! fsync) whenever the set of files changes.

use std::io::Write;
use std::path::Path;

/// One file of the AOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub seq: i64,
    /// `b`, `h` or `i`.
    pub kind: u8,
}

pub const BASE: u8 = b'b';
pub const HISTORY: u8 = b'h';
pub const INCR: u8 = b'i';

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileInfo>,
    pub incrs: Vec<FileInfo>,
    pub history: Vec<FileInfo>,
    pub base_seq: i64,
    pub incr_seq: i64,
    /// Changed since last persisted.
    pub dirty: bool,
}

/// The name as written in the manifest: quoted like sdscatrepr when sdsneedsrepr says so
/// (spaces, quotes, backslashes, control or non-printable bytes).
fn repr(name: &str) -> String {
    let needs = name.bytes().any(|b| !(0x21..=0x7e).contains(&b) || b == b'"' || b == b'\\');
    if needs {
        String::from_utf8_lossy(&crate::config::parse::repr(name.as_bytes())).into_owned()
    } else {
        name.to_string()
    }
}

impl Manifest {
    /// The manifest's text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str(&format!("file {} seq {} type {}\n", repr(&f.name), f.seq, f.kind as char));
        }
        out
    }

    /// Parses a manifest (aofLoadManifestFromFile's rules and messages).
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut max_seq = 0;
        if text.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        for (i, raw) in text.split_inclusive(|&b| b == b'\n').enumerate() {
            if raw.first() == Some(&b'#') {
                continue;
            }
            let err = |e: &str| format!("Reading the manifest file, at line {}: {e}", i + 1);
            if raw.len() > 1024 + 1 || raw.last() != Some(&b'\n') {
                return Err(err("The AOF manifest file contains too long line"));
            }
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            if line.is_empty() {
                return Err(err("Invalid AOF manifest file format"));
            }
            let argv = spinel_resp::request::split_args(line.as_bytes())
                .ok_or_else(|| err("Invalid AOF manifest file format"))?;
            if argv.len() < 6 || argv.len() % 2 != 0 {
                return Err(err("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for kv in argv.chunks_exact(2) {
                let key = String::from_utf8_lossy(&kv[0]).to_ascii_lowercase();
                match key.as_str() {
                    "file" => {
                        let n = String::from_utf8_lossy(&kv[1]).into_owned();
                        if n.contains('/') {
                            return Err(err("File can't be a path, just a filename"));
                        }
                        name = Some(n);
                    }
                    "seq" => seq = atoll(&kv[1]),
                    "type" => kind = kv[1].first().copied().unwrap_or(0),
                    _ => {}
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            let info = FileInfo { name, seq, kind };
            match kind {
                BASE => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information"));
                    }
                    m.base_seq = seq;
                    m.base = Some(info);
                }
                HISTORY => m.history.push(info),
                INCR => {
                    if seq <= max_seq {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    max_seq = seq;
                    m.incr_seq = seq;
                    m.incrs.push(info);
                }
                _ => return Err(err("Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    /// A new base file name (`<name>.<seq>.base.rdb` or `.aof`); the old base becomes history.
    pub fn new_base(&mut self, aof_name: &str, rdb_preamble: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = HISTORY;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = format!("{aof_name}.{}.base.{}", self.base_seq, if rdb_preamble { "rdb" } else { "aof" });
        self.base = Some(FileInfo { name: name.clone(), seq: self.base_seq, kind: BASE });
        self.dirty = true;
        name
    }

    /// A new incremental file name, appended to the list.
    pub fn new_incr(&mut self, aof_name: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{aof_name}.{}.incr.aof", self.incr_seq);
        self.incrs.push(FileInfo { name: name.clone(), seq: self.incr_seq, kind: INCR });
        self.dirty = true;
        name
    }

    /// The last incremental file, creating one if there is none.
    pub fn last_incr(&mut self, aof_name: &str) -> String {
        match self.incrs.last() {
            Some(f) => f.name.clone(),
            None => self.new_incr(aof_name),
        }
    }

    /// After a rewrite: every incremental file but the one being written (if `keep_last`)
    /// becomes history.
    pub fn mark_rewritten_incrs_as_history(&mut self, keep_last: bool) {
        let keep = if keep_last { self.incrs.pop() } else { None };
        for mut f in self.incrs.drain(..).rev() {
            f.kind = HISTORY;
            self.history.insert(0, f);
        }
        self.incrs.extend(keep);
        self.dirty = true;
    }

    /// Writes the manifest into `dir` atomically if it changed.
    pub fn persist(&mut self, dir: &Path, aof_name: &str) -> Result<(), String> {
        if !self.dirty {
            return Ok(());
        }
        let name = format!("{aof_name}.manifest");
        let tmp_name = format!("temp-{aof_name}.manifest");
        let tmp = dir.join(&tmp_name);
        let result = (|| -> Result<(), String> {
            let mut f =
                std::fs::File::create(&tmp).map_err(|e| format!("Can't open the AOF manifest file {tmp_name}: {e}"))?;
            f.write_all(self.to_text().as_bytes())
                .map_err(|e| format!("Error trying to write the temporary AOF manifest file {tmp_name}: {e}"))?;
            f.sync_all().map_err(|e| format!("Fail to fsync the temp AOF file {tmp_name}: {e}."))?;
            std::fs::rename(&tmp, dir.join(&name)).map_err(|e| {
                format!("Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {e}")
            })?;
            crate::persist::sync_dir(&dir.join(&name));
            Ok(())
        })();
        if let Err(e) = &result {
            crate::log::warning(e);
            let _ = std::fs::remove_file(&tmp);
        } else {
            self.dirty = false;
        }
        result
    }
}

fn atoll(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |a, d| a.saturating_mul(10).saturating_add((d - b'0') as i64));
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks() {
        let mut m = Manifest::default();
        assert_eq!(m.new_base("appendonly.aof", true), "appendonly.aof.1.base.rdb");
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        m.new_incr("appendonly.aof");
        m.mark_rewritten_incrs_as_history(true);
        m.new_base("appendonly.aof", true);
        let text = m.to_text();
        assert_eq!(
            text,
            "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        let back = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(back.base, m.base);
        assert_eq!(back.incrs, m.incrs);
        assert_eq!(back.history, m.history);
        assert_eq!((back.base_seq, back.incr_seq), (2, 2));
        assert!(Manifest::parse(b"").is_err());
        assert!(Manifest::parse(b"file a seq 1 type x\n").is_err());
        assert!(Manifest::parse(b"file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        assert!(Manifest::parse(b"file a/b seq 1 type b\n").is_err());
        assert!(Manifest::parse(b"file a seq 1 type b").is_err());
        assert!(Manifest::parse(b"# comment\nfile \"a b\" seq 1 type b\n").unwrap().base.unwrap().name == "a b");
    }
}
