//! Value types beyond strings, stored behind a pointer in a key's entry. Each type keeps a
//! compact encoding for small values and a big one past Redis's thresholds, and reports the
//! encoding names Redis reports.

/// A collection value.
#[derive(Clone, Debug)]
pub enum Object {}

impl Object {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match *self {}
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match *self {}
    }

    /// How many allocations freeing this value takes (Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        match *self {}
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        match *self {}
    }
}
