//! The hash value type. Its encodings and operations arrive with the hash command family.

/// A hash value.
#[derive(Clone, Debug, Default)]
pub struct Hash {}

impl Hash {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "hash"
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        0
    }

    /// Allocations freeing this value takes (Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        1
    }
}
