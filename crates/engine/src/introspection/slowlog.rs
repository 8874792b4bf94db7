//! The slow log (Redis's slowlog.c): commands that ran longer than `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them.
//!
//! An entry keeps a trimmed copy of the arguments (at most 32, strings cut at 128 bytes with
//! a note of what was left out) so the log never pins large values in memory.

use std::collections::VecDeque;

use crate::reply::Reply;

/// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

pub struct Entry {
    pub id: u64,
    /// Unix time (seconds) when it was logged.
    pub time: i64,
    /// Execution time in microseconds.
    pub duration: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

/// Copies the arguments as the log keeps them: the 32nd slot says how many more there were,
/// long strings end with how many bytes were cut.
pub fn trimmed_args(args: &[&[u8]], redacted: &[usize]) -> Vec<Vec<u8>> {
    let kept = args.len().min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (j, arg) in args.iter().take(kept).enumerate() {
        if kept != args.len() && j == kept - 1 {
            out.push(format!("... ({} more arguments)", args.len() - kept + 1).into_bytes());
        } else if redacted.contains(&j) {
            out.push(b"(redacted)".to_vec());
        } else if arg.len() > MAX_STRING {
            let mut s = arg[..MAX_STRING].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_STRING).as_bytes());
            out.push(s);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

impl SlowLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Adds an entry (its id is assigned here) as the newest.
    pub fn push(&mut self, mut entry: Entry) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
    }

    /// Drops the oldest entries beyond `max_len`.
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    /// SLOWLOG GET: the newest `count` entries.
    pub fn get_reply(&self, count: usize) -> Reply {
        Reply::Array(
            self.entries
                .iter()
                .take(count)
                .map(|e| {
                    Reply::Array(vec![
                        Reply::Int(e.id as i64),
                        Reply::Int(e.time),
                        Reply::Int(e.duration as i64),
                        Reply::bulks(&e.args),
                        Reply::bulk_str(&e.peer),
                        Reply::bulk(&e.name),
                    ])
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_redis() {
        let many: Vec<Vec<u8>> = (0..40).map(|i| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = many.iter().map(|a| a.as_slice()).collect();
        let t = trimmed_args(&refs, &[]);
        assert_eq!(t.len(), 32);
        assert_eq!(t[31], b"... (9 more arguments)");
        let long = vec![b'A'; 129];
        let t = trimmed_args(&[b"set", b"k", &long], &[2]);
        assert_eq!(t[2], b"(redacted)");
        let t = trimmed_args(&[b"set", b"k", &long], &[]);
        assert!(t[2].ends_with(b"... (1 more bytes)"));
        assert_eq!(t[2].len(), 128 + b"... (1 more bytes)".len());
    }

    #[test]
    fn keeps_newest_within_max_len() {
        let mut log = SlowLog::default();
        for _ in 0..5 {
            let e = Entry {
                id: 0,
                time: 0,
                duration: 1,
                args: vec![b"ping".to_vec()],
                peer: String::new(),
                name: Vec::new(),
            };
            log.push(e);
            log.trim(3);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.entries.front().map(|e| e.id), Some(4));
        log.trim(1);
        assert_eq!(log.len(), 1);
    }
}
