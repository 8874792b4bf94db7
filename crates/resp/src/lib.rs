//! The Redis serialization protocol (RESP2 and RESP3), as Spinel speaks it.
//!
//! This crate is only a codec: it knows nothing of commands or the data store.
//!
//! * [`request`] parses what clients send — multibulk arrays and inline commands — with the
//!   exact protocol errors and limits of redis-server 7.0, incrementally, so a command split at
//!   any byte parses the same and a huge declared bulk never allocates up front.
//! * [`write`] appends reply elements to an output buffer (the server's hot path).
//! * [`frame`] is a generic RESP3 value with a decoder and encoder, for clients, tests and the
//!   proxy, which read what a server replies.

pub mod frame;
pub mod request;
pub mod write;

pub use frame::{Frame, FrameError};
pub use request::{Limits, ProtocolError, Request, RequestParser};

/// Parses a decimal `i64` exactly as Redis's `string2ll` does: an optional `-`, no `+`, no
/// leading zeros, no spaces, nothing after the digits, and no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn parse_i64_matches_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        for bad in [&b""[..], b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1a", b"00"] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
