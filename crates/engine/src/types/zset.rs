//! The zset value type. Its encodings and operations arrive with the zset command family.

/// A zset value.
#[derive(Clone, Debug, Default)]
pub struct ZSet {}

impl ZSet {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "zset"
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
