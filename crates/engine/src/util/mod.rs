//! Small pieces that must behave exactly like Redis's C helpers.

pub mod geohash;
pub mod glob;
pub mod lzf;
pub mod num;
pub mod pqsort;
pub mod rand;
pub mod time;
