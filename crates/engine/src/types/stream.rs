//! The stream value type. Its encodings and operations arrive with the stream command family.

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {}

impl Stream {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
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
