//! The set value type. Its encodings and operations arrive with the set command family.

/// A set value.
#[derive(Clone, Debug, Default)]
pub struct Set {}

impl Set {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "set"
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
