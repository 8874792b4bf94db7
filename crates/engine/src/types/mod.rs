//! Value types beyond strings, stored behind a pointer in a key's entry. Each type keeps a
//! compact encoding for small values and a big one past Redis's thresholds, and reports the
//! encoding names Redis reports.

pub mod hash;
pub mod hash_entry;
pub mod hash_pack;
pub mod hll;
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

/// A collection value: two words (see [`Object::SIZE`]), so it fits inside a key's entry
/// block. Hashes, sets and sorted sets are one word each (a thin block or a tagged box), the
/// list and stream structs sit behind a box of their own.
#[derive(Clone, Debug)]
pub enum Object {
    List(Box<list::List>),
    Hash(hash::Hash),
    Set(set::Set),
    ZSet(zset::ZSet),
    Stream(Box<stream::Stream>),
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
            // The boxed list struct is an allocation of its own (a stream counts its own).
            Object::List(v) => std::mem::size_of::<list::List>() + v.memory_usage(),
            Object::Hash(v) => v.memory_usage(),
            Object::Set(v) => v.memory_usage(),
            Object::ZSet(v) => v.memory_usage(),
            Object::Stream(v) => v.memory_usage(),
        }
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn object_is_two_words() {
        // A key's entry block holds the object inline: keep it small.
        assert_eq!(std::mem::size_of::<super::Object>(), 2 * std::mem::size_of::<usize>());
    }
}
