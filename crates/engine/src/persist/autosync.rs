//! Incremental fsync for RDB images (`rdb-save-incremental-fsync`, and
//! `aof-rewrite-incremental-fsync` for AOF rewrite bases), as Redis 7.0's rio does it.
//!
//! At each 4 MB boundary of the file, the 4 MB just written are handed to writeback
//! (`SYNC_FILE_RANGE_WRITE`, which does not wait) and the 4 MB before them are waited for. The
//! kernel never holds more than ~8 MB of the image dirty, so the final fsync is short, the
//! writeback work comes in small pieces instead of one burst of milliseconds of CPU at the end
//! (which, on a CPU shared with the engine, clients feel), and other writers on the disk are
//! not starved by a flood of dirty pages.

use std::fs::File;
use std::io::{self, Write};

/// A file that syncs itself incrementally as it is written (or plainly writes, when off).
pub struct SyncedFile {
    file: File,
    written: u64,
    /// Bytes handed to writeback so far (a multiple of [`STEP`]); None when off.
    started: Option<u64>,
}

/// Redis's REDIS_AUTOSYNC_BYTES.
const STEP: u64 = 4 * 1024 * 1024;

impl SyncedFile {
    pub fn new(file: File, incremental: bool) -> Self {
        SyncedFile { file, written: 0, started: incremental.then_some(0) }
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Syncs the boundaries the file has crossed.
    fn sync_crossed(&mut self) -> io::Result<()> {
        let Some(started) = &mut self.started else { return Ok(()) };
        while self.written >= *started + STEP {
            sync_range(&self.file, *started, false)?;
            if *started >= STEP {
                sync_range(&self.file, *started - STEP, true)?;
            }
            *started += STEP;
        }
        Ok(())
    }
}

impl Write for SyncedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        self.sync_crossed()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Starts writeback of `STEP` bytes at `offset`, or (`wait`) waits until they are on disk.
#[cfg(target_os = "linux")]
fn sync_range(file: &File, offset: u64, wait: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let flags = if wait {
        libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER
    } else {
        libc::SYNC_FILE_RANGE_WRITE
    };
    // SAFETY: a plain syscall on a descriptor the borrowed File keeps open.
    let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), offset as i64, STEP as i64, flags) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Without sync_file_range, Redis fsyncs at each boundary.
#[cfg(not(target_os = "linux"))]
fn sync_range(file: &File, _offset: u64, wait: bool) -> io::Result<()> {
    if wait {
        return Ok(());
    }
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> (std::path::PathBuf, File) {
        let dir = std::env::temp_dir().join(format!("spinel-autosync-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = File::create(dir.join("image")).unwrap();
        (dir, file)
    }

    #[test]
    fn each_4mb_boundary_is_handed_to_writeback_once() {
        let (dir, file) = temp_file("on");
        let mut out = SyncedFile::new(file, true);
        let chunk = vec![7u8; 300 * 1024];
        while out.written < 9 * 1024 * 1024 {
            out.write_all(&chunk).unwrap();
            assert_eq!(out.started, Some(out.written / STEP * STEP));
        }
        assert_eq!(out.started, Some(8 * 1024 * 1024));
        assert_eq!(std::fs::metadata(dir.join("image")).unwrap().len(), out.written);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn off_it_only_writes() {
        let (dir, file) = temp_file("off");
        let mut out = SyncedFile::new(file, false);
        out.write_all(&vec![1u8; 5 * 1024 * 1024]).unwrap();
        assert_eq!(out.started, None);
        assert_eq!(std::fs::metadata(dir.join("image")).unwrap().len(), 5 * 1024 * 1024);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
