//! The whole dataset to and from RDB: header, aux fields, function libraries, databases with
//! their keys, EOF and checksum.
//!
//! Loading is split from applying: [`parse`] walks an image and hands each key (in neutral
//! form) to a [`LoadSink`]; [`ServerSink`] puts them into a server, tests and tools use their
//! own sinks. Saving writes records ([`write_record`]) either in one synchronous pass
//! ([`save`], SAVE and SHUTDOWN) or piecewise from the background snapshot
//! (`persist::snapshot`).

use std::io::{self, Write};

use super::read::{module_name, RdbReader};
use super::write::RdbWriter;
use super::*;
use crate::keyspace::{AccessPolicy, Entry, StrRef, Value, ValueRef};
use crate::persist::value::{self, Loaded, ReadContext};
use crate::server::Server;

/// Options for one save.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    pub compress: bool,
    pub checksum: bool,
    /// Include replication aux fields (repl-id, repl-offset) as a full sync does.
    pub replication: bool,
    /// The image is the base of a multi-part AOF (`aof-base` aux field 1).
    pub aof_base: bool,
}

impl SaveOptions {
    pub fn from_config(srv: &Server) -> SaveOptions {
        SaveOptions {
            compress: srv.config.bool("rdbcompression"),
            checksum: srv.config.bool("rdbchecksum"),
            replication: false,
            aof_base: false,
        }
    }
}

/// What each key record carries besides its value: the LRU idle time or LFU counter,
/// depending on the eviction policy (as Redis's rdbSaveKeyValuePair).
#[derive(Clone, Copy, Debug)]
pub struct RecordMeta {
    pub save_lru: bool,
    pub save_lfu: bool,
    pub access: AccessPolicy,
    pub now_ms: i64,
}

impl RecordMeta {
    pub fn from_server(srv: &Server) -> RecordMeta {
        let policy = srv.config.enum_name("maxmemory-policy");
        RecordMeta {
            save_lru: policy.contains("lru"),
            save_lfu: policy.contains("lfu"),
            access: srv.fx.access,
            now_ms: srv.fx.now_ms,
        }
    }
}

/// The RDB type byte of a key's value.
pub fn value_type(e: &Entry) -> u8 {
    match e.value() {
        ValueRef::Str(_) => TYPE_STRING,
        ValueRef::Object(o) => crate::persist::objects::rdb_type(o),
    }
}

/// Writes a value's payload (what follows the key, or the type byte in DUMP).
pub fn write_payload<W: Write>(w: &mut RdbWriter<W>, e: &Entry) -> io::Result<()> {
    match e.value() {
        ValueRef::Str(StrRef::Int(n)) => w.int_string(n),
        ValueRef::Str(StrRef::Bytes(b)) => w.string(b),
        ValueRef::Object(o) => crate::persist::objects::write_payload(w, o),
    }
}

/// Writes a value's type byte and payload (DEBUG OBJECT's serialized length, DUMP).
pub fn write_value<W: Write>(w: &mut RdbWriter<W>, e: &Entry) -> io::Result<()> {
    w.byte(value_type(e))?;
    write_payload(w, e)
}

/// Writes one key record: expire, LRU/LFU opcode, type, key, value.
pub fn write_record<W: Write>(w: &mut RdbWriter<W>, e: &Entry, meta: &RecordMeta) -> io::Result<()> {
    if let Some(when) = e.expire() {
        w.byte(OPCODE_EXPIRETIME_MS)?;
        w.millis(when)?;
    }
    if meta.save_lru {
        w.byte(OPCODE_IDLE)?;
        w.len(crate::keyspace::idle_ms_at(meta.now_ms, e.lru()) / 1000)?;
    } else if meta.save_lfu {
        w.byte(OPCODE_FREQ)?;
        w.byte(crate::keyspace::lfu_decayed_at(meta.now_ms, meta.access, e.lru()) as u8)?;
    }
    w.byte(value_type(e))?;
    w.string(e.key())?;
    write_payload(w, e)
}

/// The magic, aux fields and function libraries that open every image.
pub fn write_header<W: Write>(w: &mut RdbWriter<W>, srv: &Server, opts: SaveOptions) -> io::Result<()> {
    w.raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    w.aux("ctime", (crate::util::time::now_ms() / 1000).to_string().as_bytes())?;
    w.aux("used-mem", crate::memory::used_memory(srv).to_string().as_bytes())?;
    if opts.replication {
        // A replica's replicas continue with its master's stream, in the master's database.
        let stream_db = crate::replication::replica::master_db(srv).unwrap_or(0);
        w.aux("repl-stream-db", stream_db.to_string().as_bytes())?;
        w.aux("repl-id", srv.process.replid.as_bytes())?;
        w.aux("repl-offset", srv.repl.offset.to_string().as_bytes())?;
    }
    w.aux("aof-base", if opts.aof_base { b"1" } else { b"0" })?;
    crate::persist::objects::write_functions(w, srv)
}

/// SELECTDB and the RESIZEDB hint before a database's keys.
pub fn write_db_header<W: Write>(w: &mut RdbWriter<W>, id: usize, keys: usize, expires: usize) -> io::Result<()> {
    w.byte(OPCODE_SELECTDB)?;
    w.len(id as u64)?;
    w.byte(OPCODE_RESIZEDB)?;
    w.len(keys as u64)?;
    w.len(expires as u64)
}

/// Serializes the whole dataset in one pass (SAVE, SHUTDOWN, DEBUG RELOAD, full syncs).
pub fn save<W: Write>(srv: &Server, out: W, opts: SaveOptions) -> io::Result<W> {
    let mut w = RdbWriter::new(out, opts.compress);
    write_header(&mut w, srv, opts)?;
    let meta = RecordMeta::from_server(srv);
    for db in &srv.dbs {
        if db.is_empty() {
            continue;
        }
        write_db_header(&mut w, db.id, db.len(), db.expires_count())?;
        let mut result = Ok(());
        db.for_each(|e| {
            if result.is_ok() {
                result = write_record(&mut w, e, &meta);
            }
        });
        result?;
    }
    w.finish(opts.checksum)
}

/// Reads one value of `kind` (the type byte was already read).
pub fn read_value(r: &mut RdbReader<'_>, kind: u8, now_ms: i64) -> Result<Loaded, RdbError> {
    value::read(r, kind, ReadContext { now_ms })
}

/// What precedes a key in the image.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyMeta {
    pub db: usize,
    pub expire: Option<i64>,
    pub idle_secs: Option<u64>,
    pub freq: Option<u8>,
}

/// Where [`parse`] delivers an image's contents.
pub trait LoadSink {
    /// Rejects database numbers the receiver cannot hold.
    fn select_db(&mut self, id: u64) -> Result<(), RdbError>;
    fn resize_hint(&mut self, _db: usize, _keys: u64) {}
    fn aux(&mut self, _key: &[u8], _value: &[u8]) {}
    /// A function library's source (RDB_OPCODE_FUNCTION2).
    fn function(&mut self, code: Vec<u8>) -> Result<(), RdbError>;
    fn key(&mut self, key: Vec<u8>, value: Loaded, meta: KeyMeta) -> Result<(), RdbError>;
    /// A key whose value was an empty collection (skipped, as Redis does).
    fn empty_key(&mut self, key: &[u8]) {
        crate::log::notice(&format!("rdbLoadObject skipping empty key: {}", String::from_utf8_lossy(key)));
    }
}

/// What a parse found.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseInfo {
    pub version: u32,
    /// Bytes of the image, checksum included (where an AOF tail would start).
    pub length: usize,
}

/// Walks an RDB image (versions 1 to 12), verifying its checksum when `verify_checksum`.
/// The image may be followed by other data (an AOF preamble's tail): `length` says where it
/// ends.
pub fn parse(data: &[u8], sink: &mut dyn LoadSink, verify_checksum: bool, now_ms: i64) -> Result<ParseInfo, RdbError> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return corrupt("Wrong signature trying to load DB from file");
    }
    let version: u32 = std::str::from_utf8(&data[5..9]).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if version < 1 || version > RDB_MAX_VERSION {
        return corrupt(format!("Can't handle RDB format version {version}"));
    }
    let mut r = RdbReader::new(&data[9..]);
    let mut meta = KeyMeta::default();
    let mut empty_keys = 0u64;
    loop {
        let kind = r.u8()?;
        match kind {
            OPCODE_EXPIRETIME => meta.expire = Some(r.seconds()? as i64 * 1000),
            OPCODE_EXPIRETIME_MS => meta.expire = Some(r.millis()?),
            OPCODE_FREQ => meta.freq = Some(r.u8()?),
            OPCODE_IDLE => meta.idle_secs = Some(r.len()?),
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                let id = r.len()?;
                sink.select_db(id)?;
                meta.db = id as usize;
            }
            OPCODE_RESIZEDB => {
                let size = r.len()?;
                let _expires = r.len()?;
                sink.resize_hint(meta.db, size);
            }
            OPCODE_SLOT_INFO => {
                r.len()?;
                r.len()?;
                r.len()?;
            }
            OPCODE_AUX => {
                let key = r.string()?;
                let value = r.string()?;
                sink.aux(&key, &value);
            }
            OPCODE_MODULE_AUX => {
                let id = r.len()?;
                let when_opcode = r.len()?;
                let _when = r.len()?;
                if when_opcode != 2 {
                    return corrupt("bad when_opcode");
                }
                r.skip_module_value()?;
                crate::log::warning(&format!(
                    "The RDB file contains AUX module data for module '{}', which is not loaded: skipped",
                    module_name(id)
                ));
            }
            OPCODE_FUNCTION | OPCODE_FUNCTION2 => {
                sink.function(crate::script::functions::read_function_record(&mut r, kind)?)?
            }
            _ => {
                let key = r.string()?;
                match read_value(&mut r, kind, now_ms) {
                    Ok(value) => sink.key(key, value, meta)?,
                    Err(e) if e.empty_key => {
                        if empty_keys < 10 {
                            sink.empty_key(&key);
                        }
                        empty_keys += 1;
                    }
                    Err(e) => return Err(e),
                }
                meta = KeyMeta { db: meta.db, ..KeyMeta::default() };
            }
        }
    }
    let mut length = 9 + r.position();
    if version >= 5 {
        let body_end = length;
        let stored = r.bytes(8).map_err(|_| RdbError::new("Short read loading the RDB checksum"))?;
        length += 8;
        let expected = u64::from_le_bytes(stored.try_into().unwrap_or([0; 8]));
        if expected == 0 {
            crate::log::warning("RDB file was saved with checksum disabled: no check performed.");
        } else if verify_checksum {
            let actual = CRC64.checksum(&data[..body_end]);
            if actual != expected {
                crate::log::warning(&format!(
                    "Wrong RDB checksum expected: ({actual:x}) but got ({expected:x}). Aborting now."
                ));
                return corrupt("RDB CRC error");
            }
        }
    }
    Ok(ParseInfo { version, length })
}

/// What a load found (INFO persistence rdb_last_load_keys_*).
#[derive(Default, Debug, Clone, Copy)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// The `repl-stream-db` aux field: the database the replication stream continues in.
    pub repl_stream_db: usize,
}

/// Puts parsed keys into a server.
pub struct ServerSink<'a> {
    pub srv: &'a mut Server,
    /// DEBUG RELOAD MERGE: keys in the image replace existing ones.
    pub merge: bool,
    /// Keep keys whose TTL passed (an AOF base: the AOF tail was written against them).
    pub keep_expired: bool,
    pub stats: LoadStats,
    now_ms: i64,
}

impl<'a> ServerSink<'a> {
    pub fn new(srv: &'a mut Server, merge: bool, keep_expired: bool) -> ServerSink<'a> {
        let now_ms = crate::util::time::now_ms();
        ServerSink { srv, merge, keep_expired, stats: LoadStats::default(), now_ms }
    }

    /// The access field for a loaded key: its LFU counter or LRU idle time when the image
    /// carries them and the policy uses them.
    fn access(&self, meta: &KeyMeta) -> u32 {
        let fx = &self.srv.fx;
        match (fx.access, meta.freq, meta.idle_secs) {
            (AccessPolicy::Lfu { .. }, Some(f), _) => (((fx.now_ms / 60000) as u32 & 0xffff) << 8) | f as u32,
            (AccessPolicy::Lru, _, Some(i)) => fx.lru_clock().wrapping_sub(i.min(0xff_ffff) as u32) & 0xff_ffff,
            _ => fx.initial_access(),
        }
    }
}

impl LoadSink for ServerSink<'_> {
    fn select_db(&mut self, id: u64) -> Result<(), RdbError> {
        if id >= self.srv.dbs.len() as u64 {
            return corrupt(format!(
                "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting\n",
                self.srv.dbs.len()
            ));
        }
        Ok(())
    }

    fn resize_hint(&mut self, db: usize, keys: u64) {
        if let Some(d) = self.srv.dbs.get_mut(db) {
            d.reserve(keys.min(1 << 28) as usize);
        }
    }

    fn aux(&mut self, key: &[u8], value: &[u8]) {
        let v = String::from_utf8_lossy(value);
        match key {
            b"redis-ver" => crate::log::notice(&format!("Loading RDB produced by version {v}")),
            b"ctime" => {
                let age = (self.now_ms / 1000 - v.parse::<i64>().unwrap_or(0)).max(0);
                crate::log::notice(&format!("RDB age {age} seconds"));
            }
            b"used-mem" => {
                let used = v.parse::<i64>().unwrap_or(0);
                self.srv.persistence.loading_rdb_used_mem = used;
                crate::log::notice(&format!("RDB memory usage when created {:.2} Mb", used as f64 / (1024.0 * 1024.0)));
            }
            b"repl-stream-db" => self.stats.repl_stream_db = v.parse().unwrap_or(0),
            b"aof-base" if v == "1" => crate::log::notice("RDB is base AOF"),
            b"aof-preamble" if v != "0" => crate::log::notice("RDB has an AOF tail"),
            k if k.first() == Some(&b'%') => crate::log::notice(&format!("RDB '{}': {v}", String::from_utf8_lossy(k))),
            _ => {}
        }
    }

    fn function(&mut self, code: Vec<u8>) -> Result<(), RdbError> {
        crate::persist::objects::load_function(self.srv, code, self.merge)
            .map_err(|e| RdbError::new(format!("Failed loading library, {e}")))
    }

    fn key(&mut self, key: Vec<u8>, value: Loaded, meta: KeyMeta) -> Result<(), RdbError> {
        if !self.keep_expired && meta.expire.is_some_and(|w| w < self.now_ms) {
            self.stats.keys_expired += 1;
            return Ok(());
        }
        let value: Value<'static> = crate::persist::objects::build_value(value, &self.srv.config)?;
        let access = self.access(&meta);
        let db = &mut self.srv.dbs[meta.db];
        if db.peek(&key).is_some() {
            if !self.merge {
                return corrupt(format!("Duplicate key '{}' found in RDB file", String::from_utf8_lossy(&key)));
            }
            db.remove_entry(&key);
        }
        db.insert_entry(Entry::new(&key, value, meta.expire, access));
        self.stats.keys_loaded += 1;
        Ok(())
    }
}

/// Collects an image's keys by (database, key): for comparing images in tests and tools.
#[derive(Default, Debug)]
pub struct CollectSink {
    pub keys: std::collections::BTreeMap<(usize, Vec<u8>), (Loaded, Option<i64>)>,
    pub functions: Vec<Vec<u8>>,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
}

impl LoadSink for CollectSink {
    fn select_db(&mut self, _id: u64) -> Result<(), RdbError> {
        Ok(())
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) {
        self.aux.push((key.to_vec(), value.to_vec()));
    }
    fn function(&mut self, code: Vec<u8>) -> Result<(), RdbError> {
        self.functions.push(code);
        Ok(())
    }
    fn key(&mut self, key: Vec<u8>, value: Loaded, meta: KeyMeta) -> Result<(), RdbError> {
        if self.keys.insert((meta.db, key.clone()), (value, meta.expire)).is_some() {
            return corrupt(format!("Duplicate key '{}'", String::from_utf8_lossy(&key)));
        }
        Ok(())
    }
}

/// Loads an RDB image into a server.
pub fn load(srv: &mut Server, data: &[u8]) -> Result<LoadStats, RdbError> {
    load_into(srv, data, false)
}

/// Loads an RDB image; with `merge`, keys already present are replaced instead of being an
/// error (DEBUG RELOAD MERGE).
pub fn load_into(srv: &mut Server, data: &[u8], merge: bool) -> Result<LoadStats, RdbError> {
    let verify = srv.config.bool("rdbchecksum") && !srv.skip_checksum_validation;
    let mut sink = ServerSink::new(srv, merge, false);
    parse(data, &mut sink, verify, crate::util::time::now_ms())?;
    Ok(sink.stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn strings_round_trip_with_ttls() {
        let mut srv = Server::new(Config::new());
        let (db, fx) = (&mut srv.dbs[0], &mut srv.fx);
        db.set(fx, b"int", Value::Str(b"12345"), false);
        db.set(fx, b"big", Value::Str(b"-9223372036854775808"), false);
        db.set(fx, b"text", Value::Str(&b"abc".repeat(30)), false);
        db.set(fx, b"empty", Value::Str(b""), false);
        db.set_expire(b"text", fx.now_ms + 100_000);
        let (db3, fx) = (&mut srv.dbs[3], &mut srv.fx);
        db3.set(fx, b"other", Value::Str(b"db3"), false);
        let image = save(&srv, Vec::new(), SaveOptions::from_config(&srv)).unwrap();
        let mut fresh = Server::new(Config::new());
        let stats = load(&mut fresh, &image).unwrap();
        assert_eq!(stats.keys_loaded, 5);
        assert_eq!(fresh.dbs[0].peek(b"int").unwrap().as_str(), Some(StrRef::Int(12345)));
        assert_eq!(fresh.dbs[0].peek(b"text").unwrap().as_str(), Some(StrRef::Bytes(&b"abc".repeat(30))));
        assert!(fresh.dbs[0].peek(b"text").unwrap().expire().is_some());
        assert_eq!(fresh.dbs[3].peek(b"other").unwrap().as_str(), Some(StrRef::Bytes(b"db3")));
        let mut bad = image.clone();
        let n = bad.len();
        bad[n - 12] ^= 0xff;
        assert!(load(&mut Server::new(Config::new()), &bad).is_err());
    }

    /// An RDB written by redis-server 7.0.15 (`SET foo bar`, `SET n 42` in db 0).
    #[test]
    fn loads_a_redis_7_file() {
        let image: &[u8] = b"REDIS0010\xfa\tredis-ver\x067.0.15\xfa\nredis-bits\xc0@\xfe\x00\xfb\x02\x00\x00\x03foo\x03bar\x00\x01n\xc0*\xff";
        let mut image = image.to_vec();
        let crc = CRC64.checksum(&image);
        image.extend_from_slice(&crc.to_le_bytes());
        let mut srv = Server::new(Config::new());
        load(&mut srv, &image).unwrap();
        assert_eq!(srv.dbs[0].peek(b"foo").unwrap().as_str(), Some(StrRef::Bytes(b"bar")));
        assert_eq!(srv.dbs[0].peek(b"n").unwrap().as_str(), Some(StrRef::Int(42)));
    }
}
