//! One key of the keyspace in one allocation: header, key bytes and (for strings) the value.
//!
//! The table stores a thin pointer to this block, so a 16-byte key with a 16-byte value costs
//! a single 38-byte block plus its table slot. Blocks of 33–40 bytes come from a 40-byte slab
//! class (slab.rs) rather than jemalloc's 48-byte one. Layout:
//!
//! ```text
//! [0]      kind (bits 0-1: embedded string, integer, raw string, object) | HAS_EXPIRE (bit 2)
//! [1..4]   24-bit LRU clock or LFU data, as in Redis's robj
//! [4..]    key length as LEB128
//! [..+8]   expire time in ms since the epoch, only if HAS_EXPIRE
//! [..]     key bytes
//! payload  embedded: LEB128 length + bytes | integer: i64 | raw: an aligned Vec<u8> |
//!          object: an aligned Object (two words, inline: no allocation of its own)
//! ```
//!
//! Redis encodes strings as `int`, `embstr` (≤ 44 bytes) or `raw`; the kinds here are those
//! encodings, so `OBJECT ENCODING` reports what Redis reports for the same history.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use super::slab;
use super::table::ThinEntry;
use crate::types::Object;

const KIND_EMB: u8 = 0;
const KIND_INT: u8 = 1;
const KIND_RAW: u8 = 2;
const KIND_OBJ: u8 = 3;
const KIND_MASK: u8 = 3;
const HAS_EXPIRE: u8 = 4;

/// Longest string Redis keeps as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A value to store.
pub enum Value<'a> {
    /// String bytes, encoded as Redis would (`int`, `embstr` or `raw`).
    Str(&'a [u8]),
    /// Owned string bytes, encoded as Redis would; a long one is kept without copying.
    StrOwned(Vec<u8>),
    /// A string that must stay `raw` (the result of APPEND, SETRANGE, SETBIT…).
    Raw(Vec<u8>),
    Int(i64),
    Object(Object),
}

/// A borrowed view of a string value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrRef<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> StrRef<'a> {
    /// The bytes, formatting an integer into `buf` if needed.
    pub fn bytes<'b>(&'b self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            StrRef::Int(n) => buf.format(*n).as_bytes(),
            StrRef::Bytes(b) => b,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    pub fn len(&self) -> usize {
        match self {
            StrRef::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrRef::Bytes(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub enum ValueRef<'a> {
    Str(StrRef<'a>),
    Object(&'a Object),
}

/// An owned key entry (see the module docs).
#[repr(transparent)]
pub struct Entry(NonNull<u8>);

// An Entry owns its block like a Box would.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Writes `n` as LEB128 at `p`, returning the bytes written.
unsafe fn write_varint(p: *mut u8, mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            *p.add(i) = byte;
            return i + 1;
        }
        *p.add(i) = byte | 0x80;
        i += 1;
    }
}

unsafe fn read_varint(p: *const u8) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let byte = *p.add(i);
        n |= ((byte & 0x7f) as usize) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            return (n, i);
        }
        shift += 7;
    }
}

/// An entry block: from the 40-byte slab class for 33–40 bytes (jemalloc would round those
/// up to 48), from the allocator otherwise.
fn alloc_block(layout: Layout) -> NonNull<u8> {
    if slab::serves(layout.size()) {
        return slab::alloc_slot();
    }
    // SAFETY: entry layouts have a non-zero size.
    let p = unsafe { alloc(layout) };
    NonNull::new(p).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

/// Frees a block from [`alloc_block`].
///
/// # Safety
/// `p` must come from `alloc_block(layout)` and not have been freed.
unsafe fn free_block(p: NonNull<u8>, layout: Layout) {
    if slab::serves(layout.size()) {
        slab::free_slot(p);
    } else {
        dealloc(p.as_ptr(), layout);
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Whether `s` is stored as an integer: the canonical decimal form of an i64, as Redis's
/// `string2l` accepts it.
pub fn as_int_encoding(s: &[u8]) -> Option<i64> {
    if s.len() <= 20 {
        spinel_resp::parse_i64(s)
    } else {
        None
    }
}

/// The payload to write, after choosing the encoding.
enum Payload<'a> {
    Emb(&'a [u8]),
    Int(i64),
    Raw(Vec<u8>),
    Obj(Object),
}

impl Payload<'_> {
    fn kind(&self) -> u8 {
        match self {
            Payload::Emb(_) => KIND_EMB,
            Payload::Int(_) => KIND_INT,
            Payload::Raw(_) => KIND_RAW,
            Payload::Obj(_) => KIND_OBJ,
        }
    }
}

/// Where the parts of an entry are, derived from its header.
struct Shape {
    kind: u8,
    has_expire: bool,
    key_at: usize,
    key_len: usize,
    payload_at: usize,
}

impl Entry {
    /// Builds an entry; `lru` is the initial 24-bit LRU/LFU field.
    pub fn new(key: &[u8], value: Value<'_>, expire: Option<i64>, lru: u32) -> Entry {
        let mut owned_vec;
        let payload = match value {
            Value::Str(s) => match as_int_encoding(s) {
                Some(n) => Payload::Int(n),
                None if s.len() <= EMBSTR_MAX => Payload::Emb(s),
                None => Payload::Raw(s.to_vec()),
            },
            Value::StrOwned(v) => match as_int_encoding(&v) {
                Some(n) => Payload::Int(n),
                None if v.len() <= EMBSTR_MAX => {
                    owned_vec = v;
                    Payload::Emb(&owned_vec)
                }
                None => {
                    owned_vec = v;
                    // Like Redis's trimStringObjectIfNeeded: don't keep >10% slack.
                    if owned_vec.capacity() - owned_vec.len() > owned_vec.len() / 10 {
                        owned_vec.shrink_to_fit();
                    }
                    Payload::Raw(owned_vec)
                }
            },
            Value::Raw(v) => Payload::Raw(v),
            Value::Int(n) => Payload::Int(n),
            Value::Object(o) => Payload::Obj(o),
        };
        Self::build(key, payload, expire, lru)
    }

    fn build(key: &[u8], payload: Payload<'_>, expire: Option<i64>, lru: u32) -> Entry {
        let head = 4 + varint_len(key.len()) + if expire.is_some() { 8 } else { 0 };
        let key_end = head + key.len();
        let (payload_at, size) = match &payload {
            Payload::Emb(s) => (key_end, key_end + varint_len(s.len()) + s.len()),
            Payload::Int(_) => (key_end, key_end + 8),
            Payload::Raw(_) => (align8(key_end), align8(key_end) + std::mem::size_of::<Vec<u8>>()),
            Payload::Obj(_) => (align8(key_end), align8(key_end) + std::mem::size_of::<Object>()),
        };
        let layout = Layout::from_size_align(size, 8).expect("entry size overflow");
        // SAFETY: size > 0; every byte we later read is written below.
        unsafe {
            let p = alloc_block(layout);
            let base = p.as_ptr();
            *base = payload.kind() | if expire.is_some() { HAS_EXPIRE } else { 0 };
            let lru = lru.to_le_bytes();
            std::ptr::copy_nonoverlapping(lru.as_ptr(), base.add(1), 3);
            let mut at = 4 + write_varint(base.add(4), key.len());
            if let Some(when) = expire {
                std::ptr::write_unaligned(base.add(at) as *mut i64, when);
                at += 8;
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), base.add(at), key.len());
            match payload {
                Payload::Emb(s) => {
                    let n = write_varint(base.add(payload_at), s.len());
                    std::ptr::copy_nonoverlapping(s.as_ptr(), base.add(payload_at + n), s.len());
                }
                Payload::Int(v) => std::ptr::write_unaligned(base.add(payload_at) as *mut i64, v),
                Payload::Raw(v) => std::ptr::write(base.add(payload_at) as *mut Vec<u8>, v),
                Payload::Obj(o) => std::ptr::write(base.add(payload_at) as *mut Object, o),
            }
            Entry(p)
        }
    }

    fn shape(&self) -> Shape {
        // SAFETY: the header was written by `build`.
        unsafe {
            let base = self.0.as_ptr();
            let flags = *base;
            let (key_len, n) = read_varint(base.add(4));
            let has_expire = flags & HAS_EXPIRE != 0;
            let key_at = 4 + n + if has_expire { 8 } else { 0 };
            let kind = flags & KIND_MASK;
            let key_end = key_at + key_len;
            let payload_at = if kind == KIND_RAW || kind == KIND_OBJ { align8(key_end) } else { key_end };
            Shape { kind, has_expire, key_at, key_len, payload_at }
        }
    }

    fn layout(&self) -> Layout {
        let s = self.shape();
        let size = match s.kind {
            KIND_EMB => {
                // SAFETY: an embedded payload starts with its varint length.
                let (len, n) = unsafe { read_varint(self.0.as_ptr().add(s.payload_at)) };
                s.payload_at + n + len
            }
            KIND_INT => s.payload_at + 8,
            KIND_RAW => s.payload_at + std::mem::size_of::<Vec<u8>>(),
            _ => s.payload_at + std::mem::size_of::<Object>(),
        };
        Layout::from_size_align(size, 8).expect("valid layout")
    }

    pub fn key(&self) -> &[u8] {
        let s = self.shape();
        // SAFETY: key bytes live inside the block for as long as self.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(s.key_at), s.key_len) }
    }

    pub fn expire(&self) -> Option<i64> {
        // SAFETY: header layout as written by `build`.
        unsafe {
            let base = self.0.as_ptr();
            if *base & HAS_EXPIRE == 0 {
                return None;
            }
            let (_, n) = read_varint(base.add(4));
            Some(std::ptr::read_unaligned(base.add(4 + n) as *const i64))
        }
    }

    pub fn lru(&self) -> u32 {
        let mut b = [0u8; 4];
        // SAFETY: bytes 1..4 are the LRU field.
        unsafe { std::ptr::copy_nonoverlapping(self.0.as_ptr().add(1), b.as_mut_ptr(), 3) };
        u32::from_le_bytes(b)
    }

    pub fn set_lru(&mut self, lru: u32) {
        let b = lru.to_le_bytes();
        // SAFETY: as in `lru`.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.0.as_ptr().add(1), 3) };
    }

    pub fn value(&self) -> ValueRef<'_> {
        let s = self.shape();
        // SAFETY: the payload matches the kind, as written by `build`.
        unsafe {
            let p = self.0.as_ptr().add(s.payload_at);
            match s.kind {
                KIND_EMB => {
                    let (len, n) = read_varint(p);
                    ValueRef::Str(StrRef::Bytes(std::slice::from_raw_parts(p.add(n), len)))
                }
                KIND_INT => ValueRef::Str(StrRef::Int(std::ptr::read_unaligned(p as *const i64))),
                KIND_RAW => ValueRef::Str(StrRef::Bytes(&*(p as *const Vec<u8>))),
                _ => ValueRef::Object(&*(p as *const Object)),
            }
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<StrRef<'_>> {
        match self.value() {
            ValueRef::Str(s) => Some(s),
            ValueRef::Object(_) => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self.value() {
            ValueRef::Object(o) => Some(o),
            ValueRef::Str(_) => None,
        }
    }

    pub fn object_mut(&mut self) -> Option<&mut Object> {
        let s = self.shape();
        if s.kind != KIND_OBJ {
            return None;
        }
        // SAFETY: an object payload is an aligned Object; &mut self is exclusive.
        Some(unsafe { &mut *(self.0.as_ptr().add(s.payload_at) as *mut Object) })
    }

    /// Redis's name for the string encoding (`int`, `embstr`, `raw`), or None for objects.
    pub fn string_encoding(&self) -> Option<&'static str> {
        match self.shape().kind {
            KIND_EMB => Some("embstr"),
            KIND_INT => Some("int"),
            KIND_RAW => Some("raw"),
            _ => None,
        }
    }

    /// The string as a growable raw buffer, converting it to the `raw` encoding first (as
    /// Redis does before modifying a string in place). None if the value is not a string.
    pub fn raw_string_mut(&mut self) -> Option<&mut Vec<u8>> {
        let s = self.shape();
        match s.kind {
            KIND_OBJ => return None,
            KIND_RAW => {}
            _ => {
                let bytes = self.as_str()?.to_vec();
                self.replace_payload(Payload::Raw(bytes));
            }
        }
        let s = self.shape();
        // SAFETY: a raw payload is an aligned Vec<u8>; &mut self is exclusive.
        Some(unsafe { &mut *(self.0.as_ptr().add(s.payload_at) as *mut Vec<u8>) })
    }

    /// Replaces the value, keeping key, TTL and LRU.
    pub fn set_value(&mut self, value: Value<'_>) {
        let expire = self.expire();
        let lru = self.lru();
        let new = Entry::new(self.key(), value, expire, lru);
        drop(std::mem::replace(self, new));
    }

    fn replace_payload(&mut self, payload: Payload<'_>) {
        let new = Entry::build(self.key(), payload, self.expire(), self.lru());
        drop(std::mem::replace(self, new));
    }

    /// Sets or clears the TTL (ms since the epoch). Rebuilds the block only when a TTL is
    /// added to or removed from a key.
    pub fn set_expire(&mut self, when: Option<i64>) {
        let s = self.shape();
        match (s.has_expire, when) {
            (true, Some(w)) => {
                let (_, n) = unsafe { read_varint(self.0.as_ptr().add(4)) };
                // SAFETY: the expire field exists when HAS_EXPIRE is set.
                unsafe { std::ptr::write_unaligned(self.0.as_ptr().add(4 + n) as *mut i64, w) };
            }
            (false, None) => {}
            _ => {
                let value = self.take_value_inner();
                let key = self.key().to_vec();
                let lru = self.lru();
                let new = Self::rebuild_with(&key, value, when, lru);
                // The old block's value was moved out: free only its memory.
                let old = std::mem::replace(self, new);
                old.free_block_only();
            }
        }
    }

    /// Moves the value out as an owned payload, leaving the block's value field logically
    /// moved (the caller must then free the block with `free_block_only`).
    fn take_value_inner(&self) -> OwnedPayload {
        let s = self.shape();
        // SAFETY: reads the payload matching its kind; ownership of Vec/Box moves to the caller.
        unsafe {
            let p = self.0.as_ptr().add(s.payload_at);
            match s.kind {
                KIND_EMB => {
                    let (len, n) = read_varint(p);
                    OwnedPayload::Emb(std::slice::from_raw_parts(p.add(n), len).to_vec())
                }
                KIND_INT => OwnedPayload::Int(std::ptr::read_unaligned(p as *const i64)),
                KIND_RAW => OwnedPayload::Raw(std::ptr::read(p as *const Vec<u8>)),
                _ => OwnedPayload::Obj(std::ptr::read(p as *const Object)),
            }
        }
    }

    fn rebuild_with(key: &[u8], value: OwnedPayload, expire: Option<i64>, lru: u32) -> Entry {
        match value {
            OwnedPayload::Emb(v) => Entry::build(key, Payload::Emb(&v), expire, lru),
            OwnedPayload::Int(n) => Entry::build(key, Payload::Int(n), expire, lru),
            OwnedPayload::Raw(v) => Entry::build(key, Payload::Raw(v), expire, lru),
            OwnedPayload::Obj(o) => Entry::build(key, Payload::Obj(o), expire, lru),
        }
    }

    fn free_block_only(self) {
        let layout = self.layout();
        // SAFETY: the block came from `alloc_block` with this layout; its owned payload was
        // moved out.
        unsafe { free_block(self.0, layout) };
        std::mem::forget(self);
    }

    /// A copy of this entry under another key (COPY, RENAME keeps the original instead).
    pub fn clone_as(&self, key: &[u8], expire: Option<i64>) -> Entry {
        let value = match self.value() {
            ValueRef::Str(StrRef::Int(n)) => Value::Int(n),
            ValueRef::Str(StrRef::Bytes(b)) => {
                if self.shape().kind == KIND_RAW {
                    Value::Raw(b.to_vec())
                } else {
                    Value::Str(b)
                }
            }
            ValueRef::Object(o) => Value::Object(o.clone()),
        };
        Entry::new(key, value, expire, self.lru())
    }

    /// The same entry under a new key (RENAME, MOVE): the value moves without a copy.
    pub fn rekey(self, key: &[u8]) -> Entry {
        let value = self.take_value_inner();
        let (expire, lru) = (self.expire(), self.lru());
        let new = Self::rebuild_with(key, value, expire, lru);
        self.free_block_only();
        new
    }

    /// Takes the object out (for freeing it elsewhere, e.g. lazily).
    pub fn into_object(self) -> Option<Object> {
        if self.shape().kind != KIND_OBJ {
            return None;
        }
        match self.take_value_inner() {
            OwnedPayload::Obj(o) => {
                self.free_block_only();
                Some(o)
            }
            _ => unreachable!("kind checked above"),
        }
    }

    /// Bytes allocated for this key: its block, a raw string's buffer, an object's contents.
    pub fn memory_usage(&self) -> usize {
        // What the block really takes: its slab slot or jemalloc size class.
        let size = self.layout().size();
        let block = if slab::serves(size) { slab::SLOT } else { crate::memory::jemalloc_class(size) };
        block
            + match self.value() {
                ValueRef::Str(StrRef::Bytes(b)) if self.shape().kind == KIND_RAW => {
                    // SAFETY: raw payload is a Vec<u8>.
                    let _ = b;
                    let s = self.shape();
                    unsafe { (*(self.0.as_ptr().add(s.payload_at) as *const Vec<u8>)).capacity() }
                }
                ValueRef::Object(o) => o.memory_usage(),
                _ => 0,
            }
    }
}

enum OwnedPayload {
    Emb(Vec<u8>),
    Int(i64),
    Raw(Vec<u8>),
    Obj(Object),
}

impl Drop for Entry {
    fn drop(&mut self) {
        let s = self.shape();
        let layout = self.layout();
        // SAFETY: drop the owned payload, then free the block allocated with `layout`.
        unsafe {
            let p = self.0.as_ptr().add(s.payload_at);
            match s.kind {
                KIND_RAW => std::ptr::drop_in_place(p as *mut Vec<u8>),
                KIND_OBJ => std::ptr::drop_in_place(p as *mut Object),
                _ => {}
            }
            free_block(self.0, layout);
        }
    }
}

unsafe impl ThinEntry for Entry {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Entry(raw)
    }
    fn key(&self) -> &[u8] {
        Entry::key(self)
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Entry({:?})", String::from_utf8_lossy(self.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        let e = Entry::new(b"k", Value::Str(b"12345"), None, 7);
        assert_eq!(e.string_encoding(), Some("int"));
        assert_eq!(e.as_str(), Some(StrRef::Int(12345)));
        let e = Entry::new(b"k", Value::Str(b"012"), None, 7);
        assert_eq!(e.string_encoding(), Some("embstr"));
        let long = vec![b'x'; 45];
        let e = Entry::new(b"k", Value::Str(&long), None, 7);
        assert_eq!(e.string_encoding(), Some("raw"));
        assert_eq!(e.as_str(), Some(StrRef::Bytes(&long)));
        assert_eq!(e.lru(), 7);
    }

    #[test]
    fn small_key_and_value_fit_one_48_byte_block() {
        let e = Entry::new(b"key:000000000001", Value::Str(b"value:0000000001"), None, 0);
        assert!(e.layout().size() <= 48, "{}", e.layout().size());
        let e = Entry::new(b"key:000000000001", Value::Str(b"value:0000000001"), Some(1), 0);
        assert!(e.layout().size() <= 48, "{}", e.layout().size());
    }

    #[test]
    fn expire_changes_keep_value_key_and_lru() {
        let mut e = Entry::new(b"key", Value::Str(b"hello"), None, 0x123456);
        assert_eq!(e.expire(), None);
        e.set_expire(Some(1_700_000_000_000));
        assert_eq!(e.expire(), Some(1_700_000_000_000));
        assert_eq!(e.key(), b"key");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello")));
        e.set_expire(Some(5));
        assert_eq!(e.expire(), Some(5));
        e.set_expire(None);
        assert_eq!(e.expire(), None);
        assert_eq!(e.lru(), 0x123456);
        let raw = e.raw_string_mut().unwrap();
        raw.extend_from_slice(b" world");
        assert_eq!(e.string_encoding(), Some("raw"));
        e.set_expire(Some(9));
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello world")));
        let moved = e.rekey(b"other");
        assert_eq!(moved.key(), b"other");
        assert_eq!(moved.expire(), Some(9));
        assert_eq!(moved.as_str(), Some(StrRef::Bytes(b"hello world")));
    }

    #[test]
    fn long_keys_use_multibyte_lengths() {
        let key = vec![b'k'; 300];
        let val = vec![b'v'; 1000];
        let mut e = Entry::new(&key, Value::Str(&val), Some(42), 1);
        assert_eq!(e.key(), &key[..]);
        assert_eq!(e.as_str(), Some(StrRef::Bytes(&val)));
        e.set_value(Value::Int(-5));
        assert_eq!(e.as_str(), Some(StrRef::Int(-5)));
        assert_eq!(e.expire(), Some(42));
    }
}
