//! Value types beyond strings, stored behind a pointer in a key's entry. Each type keeps a
//! compact encoding for small values and a big one past Redis's thresholds, and reports the
//! encoding names Redis reports.

pub mod hash;
pub mod hash_entry;
pub mod hash_pack;
pub mod intset;
pub mod list;
pub mod quicklist;
pub mod set;
pub mod set_member;
pub mod skiplist;
pub mod stream;
pub mod tagged;
pub mod zset;
pub mod zset_listpack;

/// A collection value.
#[derive(Clone, Debug)]
pub enum Object {
    List(list::List),
    Hash(hash::Hash),
    Set(set::Set),
    ZSet(zset::ZSet),
    Stream(stream::Stream),
}

impl Object {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::List(_) => "list",
            Object::Hash(_) => "hash",
            Object::Set(_) => "set",
            Object::ZSet(_) => "zset",
            Object::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Object::List(v) => v.encoding(),
            Object::Hash(v) => v.encoding(),
            Object::Set(v) => v.encoding(),
            Object::ZSet(v) => v.encoding(),
            Object::Stream(v) => v.encoding(),
        }
    }

    /// How many allocations freeing this value takes (Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        match self {
            Object::List(v) => v.free_effort(),
            Object::Hash(v) => v.free_effort(),
            Object::Set(v) => v.free_effort(),
            Object::ZSet(v) => v.free_effort(),
            Object::Stream(v) => v.free_effort(),
        }
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        match self {
            Object::List(v) => v.memory_usage(),
            Object::Hash(v) => v.memory_usage(),
            Object::Set(v) => v.memory_usage(),
            Object::ZSet(v) => v.memory_usage(),
            Object::Stream(v) => v.memory_usage(),
        }
    }
}
