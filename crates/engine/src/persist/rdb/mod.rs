//! Redis's RDB format (version 10, as 7.0 writes; versions 1-12 read): the file format and
//! the payload of DUMP and of a replica's full sync.
//!
//! [`write::RdbWriter`] and [`read::RdbReader`] know the encodings (lengths, strings with their
//! integer and LZF forms, CRC-64). [`dataset`] walks the keyspace.

pub mod dataset;
pub mod read;
pub mod write;

/// The version we write (redis-server 7.0.15 loads it).
pub const RDB_VERSION: u32 = 10;
/// The highest version we read (Redis 7.4 writes 12).
pub const RDB_MAX_VERSION: u32 = 12;

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE_PRE_GA: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Redis 7.4 hashes with field TTLs (the PRE_GA forms come from 7.4 release candidates).
pub const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
pub const TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
pub const TYPE_HASH_METADATA: u8 = 24;
pub const TYPE_HASH_LISTPACK_EX: u8 = 25;

/// Cluster slot sizes (7.4, cluster mode only; skipped elsewhere).
pub const OPCODE_SLOT_INFO: u8 = 244;

pub const OPCODE_FUNCTION2: u8 = 245;
/// 7.0 RC1/RC2's function record (name, engine, description, code), still read by 7.0.
pub const OPCODE_FUNCTION: u8 = 246;
pub const OPCODE_MODULE_AUX: u8 = 247;
pub const OPCODE_IDLE: u8 = 248;
pub const OPCODE_FREQ: u8 = 249;
pub const OPCODE_AUX: u8 = 250;
pub const OPCODE_RESIZEDB: u8 = 251;
pub const OPCODE_EXPIRETIME_MS: u8 = 252;
pub const OPCODE_EXPIRETIME: u8 = 253;
pub const OPCODE_SELECTDB: u8 = 254;
pub const OPCODE_EOF: u8 = 255;

/// Redis's CRC-64 (Jones polynomial, reflected), as RDB files and DUMP payloads use.
/// Slice-by-16 tables: a background save checksums tens of MB on the writer thread, and
/// byte-at-a-time tables made that thread the largest cost of a save after the walk itself
/// (~4.5 % of a core under a saturating load, against ~0.5 % now). Loading checks the same sum.
pub const CRC64: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// A running [`CRC64`].
pub type Crc64Digest = crc::Digest<'static, u64, crc::Table<16>>;

/// A malformed or truncated RDB, with a description for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    pub message: String,
    /// The value was a collection with no elements: Redis skips such keys when loading a
    /// file (an old bug could write them) but refuses them in RESTORE.
    pub empty_key: bool,
}

impl RdbError {
    pub fn new(message: impl Into<String>) -> RdbError {
        RdbError { message: message.into(), empty_key: false }
    }

    pub fn empty_key() -> RdbError {
        RdbError { message: "empty key".into(), empty_key: true }
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RdbError {}

pub fn corrupt<T>(what: impl Into<String>) -> Result<T, RdbError> {
    Err(RdbError::new(what))
}
