//! The replication backlog (Redis's repl_backlog): the last `repl-backlog-size` bytes of the
//! replication stream, so a replica that lost its link can continue where it stopped
//! (PSYNC <replid> <offset> → +CONTINUE) instead of loading a new snapshot.
//!
//! A ring of bytes: `feed` appends and drops the oldest bytes beyond the size. Offsets are
//! those of the stream (master_repl_offset counts every byte ever fed); the backlog holds the
//! bytes numbered `first_offset() ..= end_offset`.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct Backlog {
    bytes: VecDeque<u8>,
    /// `repl-backlog-size`.
    size: usize,
    /// Offset of the last byte fed (the server's master_repl_offset).
    end_offset: u64,
}

impl Backlog {
    /// An empty backlog whose next byte is `offset + 1`.
    pub fn new(size: usize, offset: u64) -> Backlog {
        Backlog { bytes: VecDeque::new(), size: size.max(1), end_offset: offset }
    }

    /// Appends stream bytes, forgetting the oldest beyond the size.
    pub fn feed(&mut self, data: &[u8]) {
        self.end_offset += data.len() as u64;
        let keep = data.len().min(self.size);
        let excess = (self.bytes.len() + keep).saturating_sub(self.size);
        self.bytes.drain(..excess);
        self.bytes.extend(&data[data.len() - keep..]);
    }

    /// `repl-backlog-size` changed (CONFIG SET): keep the newest bytes that fit.
    pub fn resize(&mut self, size: usize) {
        self.size = size.max(1);
        let excess = self.bytes.len().saturating_sub(self.size);
        self.bytes.drain(..excess);
    }

    /// repl_backlog_histlen.
    pub fn histlen(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// repl_backlog_first_byte_offset.
    pub fn first_offset(&self) -> u64 {
        self.end_offset + 1 - self.histlen()
    }

    /// The bytes from stream offset `from` to the end, if the backlog still holds them
    /// (`from` may be one past the end: nothing is missing).
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        if from < self.first_offset() || from > self.end_offset + 1 {
            return None;
        }
        let skip = (from - self.first_offset()) as usize;
        Some(self.bytes.iter().skip(skip).copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;

    #[test]
    fn keeps_the_newest_bytes_with_their_offsets() {
        let mut b = Backlog::new(5, 10);
        assert_eq!(b.first_offset(), 11);
        assert_eq!(b.since(11), Some(Vec::new()));
        b.feed(b"abc");
        assert_eq!((b.first_offset(), b.histlen()), (11, 3));
        assert_eq!(b.since(12), Some(b"bc".to_vec()));
        b.feed(b"defg");
        // Offsets 11..=17 were fed; 13..=17 remain.
        assert_eq!((b.first_offset(), b.histlen()), (13, 5));
        assert_eq!(b.since(12), None);
        assert_eq!(b.since(13), Some(b"cdefg".to_vec()));
        assert_eq!(b.since(18), Some(Vec::new()));
        assert_eq!(b.since(19), None);
        b.feed(b"0123456789");
        assert_eq!(b.since(23), Some(b"56789".to_vec()));
        b.resize(2);
        assert_eq!(b.since(26), Some(b"89".to_vec()));
    }
}
