//! The ACL log (ACL LOG): recent denials, newest first, with similar ones grouped (Redis's
//! addACLLogEntry): an entry with the same reason, context, object and user within a minute
//! of the new one is moved to the front and counted instead of adding another.

use std::collections::VecDeque;

use super::selector::Denied;
use crate::reply::Reply;

/// Entries closer than this are grouped.
const GROUPING_MAX_MS: i64 = 60_000;
/// How many recent entries are looked at for grouping.
const GROUPING_SCAN: usize = 10;

/// Where the denied command ran (Redis's ACL_LOG_CTX_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Lua,
    Multi,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Lua => "lua",
            Context::Multi => "multi",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub count: u64,
    pub reason: Denied,
    pub context: Context,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub ctime_ms: i64,
    pub client_info: String,
}

#[derive(Default, Debug)]
pub struct AclLog {
    entries: VecDeque<Entry>,
}

impl AclLog {
    /// Records a denial; `max_len` is `acllog-max-len`.
    pub fn add(&mut self, entry: Entry, max_len: usize) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == entry.reason
                && e.context == entry.context
                && (e.ctime_ms - entry.ctime_ms).abs() <= GROUPING_MAX_MS
                && e.object == entry.object
                && e.username == entry.username
        });
        if let Some(pos) = similar.and_then(|p| self.entries.remove(p)) {
            let mut e = pos;
            e.count += 1;
            e.client_info = entry.client_info;
            e.ctime_ms = entry.ctime_ms;
            self.entries.push_front(e);
            return;
        }
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// ACL LOG's reply: the newest `count` entries as maps.
    pub fn reply(&self, count: usize, now_ms: i64) -> Reply {
        let field = |name: &str| Reply::bulk_str(name);
        Reply::Array(
            self.entries
                .iter()
                .take(count)
                .map(|e| {
                    let reason = match e.reason {
                        Denied::Command => "command",
                        Denied::Key => "key",
                        Denied::Channel => "channel",
                        Denied::Auth => "auth",
                    };
                    Reply::Map(vec![
                        (field("count"), Reply::Int(e.count as i64)),
                        (field("reason"), Reply::bulk_str(reason)),
                        (field("context"), Reply::bulk_str(e.context.name())),
                        (field("object"), Reply::bulk(&e.object)),
                        (field("username"), Reply::bulk(&e.username)),
                        (field("age-seconds"), Reply::Double((now_ms - e.ctime_ms) as f64 / 1000.0)),
                        (field("client-info"), Reply::bulk(e.client_info.as_bytes())),
                    ])
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, t: i64) -> Entry {
        Entry {
            count: 1,
            reason: Denied::Command,
            context: Context::Toplevel,
            object: object.as_bytes().to_vec(),
            username: b"u".to_vec(),
            ctime_ms: t,
            client_info: format!("at {t}"),
        }
    }

    #[test]
    fn groups_similar_entries_and_trims() {
        let mut log = AclLog::default();
        log.add(entry("get", 0), 3);
        log.add(entry("set", 10), 3);
        log.add(entry("get", 20), 3);
        assert_eq!(log.len(), 2);
        assert_eq!(log.entries[0].count, 2);
        assert_eq!(log.entries[0].client_info, "at 20");
        log.add(entry("get", 100_000), 3);
        assert_eq!(log.len(), 3, "a minute later it is a new entry");
        log.add(entry("del", 100_001), 3);
        assert_eq!(log.len(), 3);
        assert_eq!(log.entries[0].object, b"del");
    }
}
