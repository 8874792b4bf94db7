//! The list value type. Redis 7.0 stores every list as a quicklist (OBJECT ENCODING
//! reports `quicklist` even for one element), so [`List`] is the [`QuickList`], created
//! with the server's `list-max-listpack-size` and `list-compress-depth` at the time the key
//! is created (later config changes affect new lists only, as in Redis).

pub use super::quicklist::{Elem, QuickList, Where};

/// A list value.
pub type List = QuickList;
