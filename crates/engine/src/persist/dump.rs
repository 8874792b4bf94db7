//! DUMP/RESTORE payloads: the value's RDB type byte and encoding, then the RDB version (2
//! bytes, little endian) and a CRC-64 (8 bytes, little endian) of everything before it —
//! exactly what redis-server 7.0 produces and accepts, so payloads move both ways.

use super::rdb::read::RdbReader;
use super::rdb::write::RdbWriter;
use super::rdb::{RdbError, CRC64, RDB_MAX_VERSION, RDB_VERSION};
use super::value::{self, Loaded, ReadContext};
use crate::keyspace::Entry;

/// The payload of a key's value (createDumpPayload).
pub fn create(e: &Entry, compress: bool) -> std::io::Result<Vec<u8>> {
    let mut w = RdbWriter::without_checksum(Vec::new(), compress);
    super::rdb::dataset::write_value(&mut w, e)?;
    Ok(seal(w.into_inner()))
}

/// Appends a payload's footer to its body: the RDB version and the CRC-64 (key payloads
/// here, FUNCTION DUMP's in `script/functions.rs`).
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Why a payload was refused (RESTORE's two errors).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// "DUMP payload version or checksum are wrong"
    VersionOrChecksum,
    /// "Bad data format"
    BadFormat(String),
}

/// Checks the footer (verifyDumpPayload): a version we can read and, unless `skip_crc`, the
/// checksum. Returns the body (type byte and value).
pub fn verify(payload: &[u8], skip_crc: bool) -> Result<&[u8], Refused> {
    if payload.len() < 10 {
        return Err(Refused::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]) as u32;
    if version > RDB_MAX_VERSION {
        return Err(Refused::VersionOrChecksum);
    }
    if !skip_crc {
        let stored = u64::from_le_bytes(footer[2..10].try_into().map_err(|_| Refused::VersionOrChecksum)?);
        if CRC64.checksum(&payload[..payload.len() - 8]) != stored {
            return Err(Refused::VersionOrChecksum);
        }
    }
    Ok(body)
}

/// Reads the value of a verified payload body, with full validation.
pub fn parse(body: &[u8], now_ms: i64) -> Result<Loaded, Refused> {
    let mut r = RdbReader::new(body);
    let bad = |e: RdbError| Refused::BadFormat(e.message);
    let kind = r.u8().map_err(bad)?;
    value::read(&mut r, kind, ReadContext { now_ms }).map_err(bad)
}

/// What the RESTORE fuzz target runs on each input: checksum not checked (so mutations
/// reach the decoders), the value parsed and built with default settings, and a value that
/// is accepted must DUMP again into a payload that parses to the same thing.
pub fn fuzz_one(data: &[u8]) {
    let Ok(body) = verify(data, true) else { return };
    let Ok(loaded) = parse(body, 0) else { return };
    let Ok(value) = super::objects::build_value(loaded.clone(), &crate::config::Config::new()) else { return };
    let entry = Entry::new(b"fuzz", value, None, 0);
    let again = create(&entry, true).expect("an accepted value serializes");
    let back = parse(verify(&again, false).expect("own payload verifies"), 0).expect("own payload parses");
    assert!(same_contents(&loaded, &back), "round trip changed the value");
}

/// Equal as values (sets, hashes and zsets in any order).
fn same_contents(a: &Loaded, b: &Loaded) -> bool {
    fn sorted<T: Clone + PartialOrd>(v: &[T]) -> Vec<T> {
        let mut v = v.to_vec();
        v.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        v
    }
    match (a, b) {
        (Loaded::Set(x), Loaded::Set(y)) => sorted(x) == sorted(y),
        (Loaded::Hash(x, _), Loaded::Hash(y, _)) => sorted(x) == sorted(y),
        (Loaded::ZSet(x, _), Loaded::ZSet(y, _)) => sorted(x) == sorted(y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;

    /// `SET foo bar` then `DUMP foo` in redis-server 7.0.15.
    const REDIS_FOO_BAR: &[u8] = b"\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17";

    #[test]
    fn payloads_match_redis_and_verify() {
        let e = Entry::new(b"foo", Value::Str(b"bar"), None, 0);
        let p = create(&e, true).unwrap();
        assert_eq!(p, REDIS_FOO_BAR);
        let body = verify(&p, false).unwrap();
        assert_eq!(parse(body, 0).unwrap(), Loaded::Str(b"bar".to_vec()));
        let mut bad = p.clone();
        bad[2] ^= 1;
        assert_eq!(verify(&bad, false), Err(Refused::VersionOrChecksum));
        assert!(verify(&bad, true).is_ok());
        assert_eq!(verify(b"short", false), Err(Refused::VersionOrChecksum));
        let mut newer = p[..p.len() - 10].to_vec();
        newer.extend_from_slice(&13u16.to_le_bytes());
        let crc = CRC64.checksum(&newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(verify(&newer, false), Err(Refused::VersionOrChecksum));
    }
}

#[cfg(test)]
mod flip_tests {
    /// The fuzz corpus (DUMP payloads from redis-server) with byte flips and truncations:
    /// every variant is refused or restored, never a panic (a deterministic sample of what
    /// the cargo-fuzz target explores).
    #[test]
    fn flipped_payloads_never_panic() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/restore_payload");
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        let mut x = 0x9e3779b97f4a7c15u64;
        for e in entries.flatten() {
            let payload = std::fs::read(e.path()).unwrap();
            super::fuzz_one(&payload);
            let positions: Vec<usize> = if payload.len() <= 256 {
                (0..payload.len()).collect()
            } else {
                (0..200)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x % payload.len() as u64) as usize
                    })
                    .collect()
            };
            for &i in &positions {
                for bit in [0x01u8, 0x10, 0x80, 0xff] {
                    let mut bad = payload.clone();
                    bad[i] ^= bit;
                    super::fuzz_one(&bad);
                }
                super::fuzz_one(&payload[..i]);
            }
        }
    }
}
