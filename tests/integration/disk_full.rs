//! Disk full. The AOF on a full tmpfs: under `everysec` writes fail with -MISCONF while reads
//! go on, and everything recovers once space is back; under `always` the server exits (as
//! Redis does) rather than acknowledge a write it could not persist. A BGSAVE on a full disk
//! leaves no temp file and the old dump intact, and stops writes until a save works.
//! The tmpfs tests need root (a private mount namespace); they are skipped otherwise.

use std::time::{Duration, Instant};

use crate::proc::{can_mount_tmpfs, Frame, Launch, Proc, TempDir};

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn is_ok(f: &Frame) -> bool {
    *f == Frame::Simple(b"OK".to_vec())
}

fn error(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        _ => String::new(),
    }
}

/// Where an AOF stops being a sequence of complete commands, if it does.
fn aof_malformed_at(bytes: &[u8]) -> Option<String> {
    let mut at = 0;
    while at < bytes.len() {
        match Frame::decode(&bytes[at..]) {
            Ok(Some((Frame::Array(_), used))) => at += used,
            other => return Some(format!("AOF malformed at offset {at} of {}: {other:?}", bytes.len())),
        }
    }
    None
}

/// No torn or partial write is left behind in the AOF at `path`. The server keeps retrying
/// the failed write (each cron tick), and a retry on a full disk is a short write followed at
/// once by a truncation back to the last complete command; a read can fall between the two.
/// So the file must be well formed *soon* (a tail that stays torn still fails).
fn assert_aof_well_formed(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let bytes = std::fs::read(path).expect("AOF file");
        let Some(problem) = aof_malformed_at(&bytes) else { return };
        assert!(Instant::now() < deadline, "{problem}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn skip() -> bool {
    if can_mount_tmpfs() {
        return false;
    }
    eprintln!("cannot mount a tmpfs in a private namespace (not root?): disk-full test skipped");
    true
}

#[test]
fn aof_everysec_on_a_full_disk_refuses_writes_then_recovers() {
    if skip() {
        return;
    }
    let root = TempDir::new("full-aof");
    let conf = "appendonly yes\nappendfsync everysec\nsave \"\"\nenable-debug-command yes\n";
    let p = Proc::start(root.path(), conf, Launch::Tmpfs { kib: 1024, filler_kib: 640 }).expect("start");
    let mut c = p.client();
    let mut acked = 0;
    let misconf = loop {
        let v = noise(acked as u64, 8192);
        let reply = c.cmd_bytes(&[b"SET", format!("k{acked}").as_bytes(), &v]);
        if is_ok(&reply) {
            acked += 1;
            assert!(acked < 1000, "the disk never filled up");
            continue;
        }
        break error(&reply);
    };
    assert_eq!(misconf, "MISCONF Errors writing to the AOF file: No space left on device");
    assert!(p.info("aof_last_write_status") == "err");
    // Reads go on.
    assert_eq!(c.cmd(&["GET", "k0"]), Frame::Bulk(noise(0, 8192)));
    assert_aof_well_formed(&p.file("appendonlydir/appendonly.aof.1.incr.aof"));
    // Space comes back: the buffered data is written within a second or two, writes resume.
    std::fs::remove_file(p.file("filler")).expect("free space");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_ok(&c.cmd(&["SET", "after", "recovery"])) {
        assert!(Instant::now() < deadline, "writes never resumed; log:\n{}", p.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(p.info("aof_last_write_status"), "ok");
    assert!(p.log().contains("AOF write error looks solved, Redis can write again."));
    // The AOF replays into the same data.
    assert!(is_ok(&c.cmd(&["DEBUG", "LOADAOF"])), "{}", p.log());
    assert_eq!(c.cmd(&["GET", &format!("k{}", acked - 1)]), Frame::Bulk(noise(acked as u64 - 1, 8192)));
    assert_eq!(c.cmd(&["GET", "after"]), Frame::Bulk(b"recovery".to_vec()));
}

#[test]
fn aof_always_write_error_exits_and_keeps_acknowledged_writes() {
    let root = TempDir::new("full-always");
    let conf = "appendonly yes\nappendfsync always\nsave \"\"\nenable-debug-command yes\n";
    let p = Proc::start(root.path(), conf, Launch::Plain).expect("start");
    let mut c = p.client();
    for i in 0..50 {
        assert!(is_ok(&c.cmd(&["SET", &format!("k{i}"), "v"])));
    }
    drop(c);
    drop(p);
    // The next incremental file is /dev/full: every write fails with ENOSPC.
    let dir = root.path().join("data/appendonlydir");
    let manifest = dir.join("appendonly.aof.manifest");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("file appendonly.aof.2.incr.aof seq 2 type i\n");
    std::fs::write(&manifest, text).unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.join("appendonly.aof.2.incr.aof")).unwrap();
    let mut p = Proc::start(root.path(), conf, Launch::Plain).expect("restart");
    let mut c = p.client();
    assert_eq!(c.cmd(&["GET", "k49"]), Frame::Bulk(b"v".to_vec()));
    c.send(&["SET", "lost", "v"]);
    assert_eq!(c.read(), None, "a write that could not be persisted was acknowledged");
    assert_eq!(p.wait_exit(Duration::from_secs(10)), Some(1));
    assert!(p.log().contains("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."));
    // Back on a working file, every acknowledged write is there.
    std::fs::remove_file(dir.join("appendonly.aof.2.incr.aof")).unwrap();
    std::fs::write(dir.join("appendonly.aof.2.incr.aof"), b"").unwrap();
    let p = Proc::start(root.path(), conf, Launch::Plain).expect("restart");
    let mut c = p.client();
    for i in 0..50 {
        assert_eq!(c.cmd(&["GET", &format!("k{i}")]), Frame::Bulk(b"v".to_vec()));
    }
    assert_eq!(c.cmd(&["EXISTS", "lost"]), Frame::Integer(0));
}

fn temp_files(p: &Proc) -> Vec<String> {
    std::fs::read_dir(p.file(""))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("temp-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn bgsave_on_a_full_disk_stops_writes_and_leaves_no_temp_file() {
    if skip() {
        return;
    }
    let root = TempDir::new("full-rdb");
    let conf = "appendonly no\nsave \"3600 1\"\nstop-writes-on-bgsave-error yes\nrdbcompression no\n";
    let p = Proc::start(root.path(), conf, Launch::Tmpfs { kib: 1024, filler_kib: 600 }).expect("start");
    let mut c = p.client();
    assert!(is_ok(&c.cmd(&["SET", "small", "dataset"])));
    assert!(is_ok(&c.cmd(&["SAVE"])));
    let old = std::fs::read(p.file("dump.rdb")).expect("first dump");
    for i in 0..60 {
        assert!(is_ok(&c.cmd_bytes(&[b"SET", format!("big{i}").as_bytes(), &noise(i, 10_000)])));
    }
    assert_eq!(c.cmd(&["SAVE"]), Frame::Error(b"ERR".to_vec()));
    assert!(temp_files(&p).is_empty(), "SAVE left {:?}", temp_files(&p));
    assert_eq!(c.cmd(&["BGSAVE"]), Frame::Simple(b"Background saving started".to_vec()));
    p.wait_for("the BGSAVE to fail", |p| {
        p.info("rdb_bgsave_in_progress") == "0" && p.info("rdb_last_bgsave_status") == "err"
    });
    assert!(temp_files(&p).is_empty(), "BGSAVE left {:?}", temp_files(&p));
    assert_eq!(std::fs::read(p.file("dump.rdb")).unwrap(), old, "the previous dump was damaged");
    assert!(error(&c.cmd(&["SET", "x", "y"])).starts_with("MISCONF Redis is configured to save RDB snapshots"));
    assert_eq!(c.cmd(&["GET", "small"]), Frame::Bulk(b"dataset".to_vec()));
    std::fs::remove_file(p.file("filler")).expect("free space");
    assert_eq!(c.cmd(&["BGSAVE"]), Frame::Simple(b"Background saving started".to_vec()));
    p.wait_for("the BGSAVE to succeed", |p| {
        p.info("rdb_bgsave_in_progress") == "0" && p.info("rdb_last_bgsave_status") == "ok"
    });
    assert!(is_ok(&c.cmd(&["SET", "x", "y"])));
}
