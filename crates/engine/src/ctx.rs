//! What a command handler works with: the engine, its client, its database.

use crate::client::{BlockState, Client};
use crate::cmd::table::Command;
use crate::keyspace::{Db, Effects, Entry, Lookup, Value};
use crate::server::Server;

pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    /// The client's slot in `srv.clients`.
    pub slot: usize,
    /// The selected database (kept in sync with the client's by SELECT).
    pub db: usize,
    /// The command being run.
    pub cmd: &'static Command,
    /// True inside EXEC or a script, where commands never block.
    pub nested: bool,
}

impl<'a> Ctx<'a> {
    pub fn client(&mut self) -> &mut Client {
        &mut self.srv.clients[self.slot]
    }

    pub fn client_ref(&self) -> &Client {
        &self.srv.clients[self.slot]
    }

    pub fn resp3(&self) -> bool {
        self.srv.clients[self.slot].resp3
    }

    pub fn now_ms(&self) -> i64 {
        self.srv.fx.now_ms
    }

    /// The selected database and the effects sink, borrowed together.
    pub fn db_fx(&mut self) -> (&mut Db, &mut Effects) {
        (&mut self.srv.dbs[self.db], &mut self.srv.fx)
    }

    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.dbs[self.db]
    }

    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.lookup(fx, key, Lookup::READ)
    }

    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.lookup(fx, key, Lookup::WRITE)
    }

    pub fn lookup(&mut self, key: &[u8], how: Lookup) -> Option<&mut Entry> {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.lookup(fx, key, how)
    }

    /// Redis's setKey (overwrite or create; TTL dropped unless `keep_ttl`).
    pub fn set_key(&mut self, key: &[u8], value: Value<'_>, keep_ttl: bool) {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.set(fx, key, value, keep_ttl);
    }

    /// Adds a new key (the caller checked it is absent).
    pub fn add_key(&mut self, key: &[u8], value: Value<'_>) -> &mut Entry {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.add(fx, key, value)
    }

    /// Deletes a key (signalling WATCH); true if it existed.
    pub fn delete_key(&mut self, key: &[u8]) -> bool {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.delete(fx, key)
    }

    /// Redis's signalModifiedKey for the selected database.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let (db, fx) = (&mut self.srv.dbs[self.db], &mut self.srv.fx);
        db.signal_modified(fx, key);
    }

    /// The tail of Redis's HDEL/SREM after `removed` elements left the collection at `key`:
    /// the key goes if the removal `emptied` it, then the key is signalled, `event` (and
    /// `del`) fired and the removals counted — nothing of it when none was removed.
    pub fn elements_removed(&mut self, key: &[u8], class: u32, event: &'static str, removed: usize, emptied: bool) {
        if emptied {
            self.delete_key(key);
        }
        if removed > 0 {
            self.signal_modified(key);
            self.notify(class, event, key);
            if emptied {
                self.notify(crate::keyspace::notify::GENERIC, "del", key);
            }
            self.dirty(removed as u64);
        }
    }

    /// Queues a keyspace event for the selected database.
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        let db = self.db;
        self.srv.fx.notify(class, event, db, key);
    }

    /// Propagates `argv` (to replicas and the AOF) instead of the command as received, as
    /// Redis's rewriteClientCommandVector. Only collected when something consumes it.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        if self.srv.fx.propagating {
            self.srv.fx.rewrite = Some(argv.iter().map(|a| a.to_vec()).collect());
        }
    }

    /// Propagates an extra command for the selected database (Redis's alsoPropagate).
    pub fn also_propagate(&mut self, argv: &[&[u8]]) {
        if self.srv.fx.propagating {
            let db = self.db;
            self.srv.fx.propagate.push((db, argv.iter().map(|a| a.to_vec()).collect()));
        }
    }

    /// Counts changes for the dirty counter (save points, propagation).
    pub fn dirty(&mut self, n: u64) {
        self.srv.fx.dirty += n;
    }

    /// Whether a blocking command may block now (not inside EXEC or a script).
    pub fn can_block(&self) -> bool {
        !self.nested
    }

    /// Blocks the client; the handler then returns `Reply::NoReply`.
    pub fn block(&mut self, state: BlockState) {
        let slot = self.slot;
        crate::blocking::block_client(self.srv, slot, state);
    }
}
