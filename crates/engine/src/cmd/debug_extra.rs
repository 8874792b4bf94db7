//! Type-specific pieces of DEBUG OBJECT and DEBUG DIGEST. Each collection type adds its
//! details here (quicklist node counts…) and feeds its elements to the digest in an order
//! that does not depend on its encoding.

use sha1::Sha1;

use crate::keyspace::Entry;
use crate::types::Object;

/// Extra fields DEBUG OBJECT prints for some encodings (Redis adds ql_* for quicklists).
pub fn object_details(_e: &Entry) -> String {
    String::new()
}

/// Feeds a collection's contents to a digest.
pub fn digest_object(_o: &Object, _h: &mut Sha1) {}
