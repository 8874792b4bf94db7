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
    let mut out = w.into_inner();
    out.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
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
