//! The whole dataset to and from RDB: header, aux fields, databases with their keys, EOF.

use std::io::{self, Write};

use super::read::RdbReader;
use super::write::RdbWriter;
use super::*;
use crate::config::Config;
use crate::keyspace::{AccessPolicy, Entry, StrRef, Value, ValueRef};
use crate::server::Server;

/// Options for one save.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    pub compress: bool,
    pub checksum: bool,
    /// Include replication aux fields (repl-id, repl-offset) as a full sync does.
    pub replication: bool,
}

impl SaveOptions {
    pub fn from_config(srv: &Server) -> SaveOptions {
        SaveOptions {
            compress: srv.config.bool("rdbcompression"),
            checksum: srv.config.bool("rdbchecksum"),
            replication: false,
        }
    }
}

/// Writes one value's type byte and payload (without the key).
pub fn write_value<W: Write>(w: &mut RdbWriter<W>, entry: &Entry) -> io::Result<()> {
    match entry.value() {
        ValueRef::Str(s) => {
            w.byte(TYPE_STRING)?;
            match s {
                StrRef::Int(n) => w.int_string(n),
                StrRef::Bytes(b) => w.string(b),
            }
        }
        ValueRef::Object(o) => super::super::objects::write_object(w, o),
    }
}

/// Serializes the whole dataset.
pub fn save<W: Write>(srv: &Server, out: W, opts: SaveOptions) -> io::Result<W> {
    let mut w = RdbWriter::new(out, opts.compress);
    w.raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    w.aux("ctime", (srv.fx.now_ms / 1000).to_string().as_bytes())?;
    w.aux("used-mem", crate::memory::used_memory(srv).to_string().as_bytes())?;
    if opts.replication {
        w.aux("repl-stream-db", b"0")?;
        w.aux("repl-id", srv.process.replid.as_bytes())?;
        w.aux("repl-offset", srv.repl.offset.to_string().as_bytes())?;
    }
    w.aux("aof-base", b"0")?;
    super::super::objects::write_functions(&mut w, srv)?;
    let lfu = matches!(srv.fx.access, AccessPolicy::Lfu { .. });
    let lru = srv.config.enum_name("maxmemory-policy").contains("lru");
    let now = srv.fx.now_ms;
    for db in &srv.dbs {
        if db.is_empty() {
            continue;
        }
        w.byte(OPCODE_SELECTDB)?;
        w.len(db.id as u64)?;
        w.byte(OPCODE_RESIZEDB)?;
        w.len(db.len() as u64)?;
        w.len(db.expires_count() as u64)?;
        let mut result = Ok(());
        db.for_each(|e| {
            if result.is_err() {
                return;
            }
            result = (|| {
                if let Some(when) = e.expire() {
                    w.byte(OPCODE_EXPIRETIME_MS)?;
                    w.millis(when)?;
                }
                if lru {
                    w.byte(OPCODE_IDLE)?;
                    w.len(srv.fx.idle_ms(e.lru()) / 1000)?;
                } else if lfu {
                    w.byte(OPCODE_FREQ)?;
                    w.byte(srv.fx.lfu_decayed(e.lru()) as u8)?;
                }
                let _ = now;
                write_value_with_key(&mut w, e)
            })();
        });
        result?;
    }
    w.finish(opts.checksum)
}

fn write_value_with_key<W: Write>(w: &mut RdbWriter<W>, e: &Entry) -> io::Result<()> {
    // The type byte comes first, then the key, then the payload.
    let mut payload = RdbWriter::new(Vec::new(), false);
    write_value(&mut payload, e)?;
    let payload = payload.into_inner();
    w.byte(payload[0])?;
    w.string(e.key())?;
    w.raw(&payload[1..])
}

/// Reads one value of `kind` (the type byte was already read).
pub fn read_value(r: &mut RdbReader<'_>, kind: u8, config: &Config) -> Result<Value<'static>, RdbError> {
    match kind {
        TYPE_STRING => Ok(Value::StrOwned(r.string()?)),
        _ => super::super::objects::read_object(r, kind, config),
    }
}

/// What a load found (INFO persistence rdb_last_load_keys_*).
#[derive(Default, Debug, Clone, Copy)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

/// Loads an RDB image into an empty server.
pub fn load(srv: &mut Server, data: &[u8]) -> Result<LoadStats, RdbError> {
    load_into(srv, data, false)
}

/// Loads an RDB image; with `merge`, keys already present are replaced instead of being an
/// error (DEBUG RELOAD MERGE).
pub fn load_into(srv: &mut Server, data: &[u8], merge: bool) -> Result<LoadStats, RdbError> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return corrupt("Wrong signature trying to load DB from file");
    }
    let version: u32 = std::str::from_utf8(&data[5..9]).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if version < 1 || version > RDB_MAX_VERSION {
        return corrupt(format!("Can't handle RDB format version {version}"));
    }
    let mut r = RdbReader::new(&data[9..]);
    let mut stats = LoadStats::default();
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    let now = crate::util::time::now_ms();
    loop {
        let kind = r.u8()?;
        match kind {
            OPCODE_EXPIRETIME => expire = Some(r.seconds()? as i64 * 1000),
            OPCODE_EXPIRETIME_MS => expire = Some(r.millis()?),
            OPCODE_FREQ => freq = Some(r.u8()?),
            OPCODE_IDLE => idle = Some(r.len()?),
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                let id = r.len()?;
                if id >= srv.dbs.len() as u64 {
                    return corrupt(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        srv.dbs.len()
                    ));
                }
                db = id as usize;
            }
            OPCODE_RESIZEDB => {
                let size = r.len()?;
                let _expires = r.len()?;
                srv.dbs[db].reserve(size.min(1 << 28) as usize);
            }
            OPCODE_AUX => {
                let key = r.string()?;
                let value = r.string()?;
                if key == b"redis-ver" {
                    crate::log::notice(&format!("Loading RDB produced by version {}", String::from_utf8_lossy(&value)));
                }
            }
            OPCODE_MODULE_AUX => {
                return corrupt("The RDB file contains AUX module data I can't load: no matching module")
            }
            OPCODE_FUNCTION | OPCODE_FUNCTION2 => super::super::objects::read_function(srv, &mut r, kind, merge)?,
            _ => {
                let key = r.string()?;
                let value = read_value(&mut r, kind, &srv.config)?;
                let expired = expire.is_some_and(|w| w < now);
                if expired {
                    stats.keys_expired += 1;
                } else {
                    if merge {
                        srv.dbs[db].remove_entry(&key);
                    }
                    if srv.dbs[db].peek(&key).is_some() {
                        return corrupt(format!("Duplicate key '{}' found in RDB file", String::from_utf8_lossy(&key)));
                    }
                    let access = match (srv.fx.access, freq, idle) {
                        (AccessPolicy::Lfu { .. }, Some(f), _) => {
                            ((srv.fx.now_ms / 60000) as u32 & 0xffff) << 8 | f as u32
                        }
                        (AccessPolicy::Lru, _, Some(i)) => {
                            srv.fx.lru_clock().wrapping_sub(i.min(0xff_ffff) as u32) & 0xff_ffff
                        }
                        _ => srv.fx.initial_access(),
                    };
                    let entry = Entry::new(&key, value, expire, access);
                    srv.dbs[db].insert_entry(entry);
                    stats.keys_loaded += 1;
                }
                expire = None;
                idle = None;
                freq = None;
            }
        }
    }
    if version >= 5 && r.remaining() >= 8 {
        let body_end = 9 + r.position();
        let expected = u64::from_le_bytes(data[body_end..body_end + 8].try_into().unwrap_or([0; 8]));
        if expected != 0 && srv.config.bool("rdbchecksum") {
            let actual = CRC64.checksum(&data[..body_end]);
            if actual != expected {
                return corrupt("Wrong RDB checksum");
            }
        }
    }
    Ok(stats)
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
