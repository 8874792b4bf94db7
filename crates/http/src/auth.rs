//! Tokens: where a request carries one (`Authorization: Bearer …` or `?_token=…`), comparing
//! it with the configured ones in constant time, and the token generated when none is set.
//!
//! Tokens are never logged: not the configured ones, not what a client sent, not `_token` in a
//! URL (the gateway logs no request lines at all).

use base64::Engine as _;

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Commands the table marks as writes (or admin / may-replicate) get NOPERM.
    ReadOnly,
}

/// Compares two byte strings without an early exit on the first difference, so the time
/// taken says nothing about how much of a secret a guess got right (only its length).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimizer from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

/// Finds `token` among `candidates`, looking at every candidate whatever matches, and
/// returns the index of the match.
pub fn find<'a, I: IntoIterator<Item = &'a [u8]>>(candidates: I, token: &[u8]) -> Option<usize> {
    let mut found = None;
    for (i, c) in candidates.into_iter().enumerate() {
        if ct_eq(c, token) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

/// An `Authorization` header that is not `Bearer <token>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// The token of a request: the `Authorization` header (`Bearer`, any case, then the token) or
/// else the `_token` query parameter. `Err` for a present but malformed header.
pub fn request_token(authorization: Option<&[u8]>, query_token: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, Malformed> {
    if let Some(h) = authorization {
        let h = h.trim_ascii();
        let (scheme, rest) = match h.iter().position(|&c| c == b' ') {
            Some(p) => (&h[..p], h[p + 1..].trim_ascii()),
            None => return Err(Malformed),
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") || rest.is_empty() {
            return Err(Malformed);
        }
        return Ok(Some(rest.to_vec()));
    }
    Ok(query_token)
}

/// A fresh random token (32 bytes from the OS, URL-safe base64): the REST API is never open,
/// even when the configuration names no token.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if filled.is_err() {
        // No /dev/urandom: fall back to clock and address-space entropy, still unguessable
        // enough for a loopback default and never a fixed value.
        let mut rng = spinel_engine::util::rand::Rng::seeded();
        for chunk in bytes.chunks_mut(8) {
            let v = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Parsed token lists (`http-token`, `http-readonly-token`).
#[derive(Default, Clone)]
pub struct Tokens {
    pub read_write: Vec<Vec<u8>>,
    pub read_only: Vec<Vec<u8>>,
}

impl Tokens {
    pub fn parse(read_write: &[u8], read_only: &[u8]) -> Tokens {
        let split = |v: &[u8]| spinel_engine::config::parse::split_list(v).map(|t| t.to_vec()).collect();
        Tokens { read_write: split(read_write), read_only: split(read_only) }
    }

    /// The access a token grants, comparing with every configured token.
    pub fn check(&self, token: &[u8]) -> Option<Access> {
        let rw = find(self.read_write.iter().map(|t| t.as_slice()), token);
        let ro = find(self.read_only.iter().map(|t| t.as_slice()), token);
        match (rw, ro) {
            (Some(_), _) => Some(Access::ReadWrite),
            (None, Some(_)) => Some(Access::ReadOnly),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_and_extracts() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert_eq!(find([&b"x"[..], b"y", b"y"], b"y"), Some(1));
        assert_eq!(request_token(Some(b"Bearer tok"), None), Ok(Some(b"tok".to_vec())));
        assert_eq!(request_token(Some(b"bEaReR   tok "), None), Ok(Some(b"tok".to_vec())));
        assert_eq!(request_token(Some(b"Basic tok"), None), Err(Malformed));
        assert_eq!(request_token(Some(b"Bearer"), None), Err(Malformed));
        assert_eq!(request_token(None, Some(b"q".to_vec())), Ok(Some(b"q".to_vec())));
        assert_eq!(request_token(None, None), Ok(None));
        let t = Tokens::parse(b"a, b", b"r");
        assert_eq!(t.check(b"b"), Some(Access::ReadWrite));
        assert_eq!(t.check(b"r"), Some(Access::ReadOnly));
        assert_eq!(t.check(b"undefined"), None);
        let g = generate_token();
        assert_eq!(g.len(), 43);
        assert_ne!(g, generate_token());
    }
}
