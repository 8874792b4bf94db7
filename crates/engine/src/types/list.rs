//! The list value type. Its encodings and operations arrive with the list command family.

/// A list value.
#[derive(Clone, Debug, Default)]
pub struct List {}

impl List {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "list"
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
