//! REST API (in progress).
