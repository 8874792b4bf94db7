//! Incremental parsing of client requests, byte-compatible with redis-server 7.0.
//!
//! A request is either a multibulk array (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline line
//! (`GET k\r\n`), chosen by its first byte as Redis does. The parser keeps its progress through
//! a partly received multibulk (how many bulks remain, the pending bulk length, the argument
//! ranges so far) so each byte is examined once however the input is split, and it never
//! reserves memory from a declared length: the caller's buffer grows only with bytes received.
//!
//! Errors carry Redis's exact texts; after one the connection replies and closes.

use memchr::memchr;

use crate::parse_i64;

/// Longest inline request, and longest multibulk/bulk header line, before Redis gives up.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// What the parser enforces for one client.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: the largest single argument.
    pub max_bulk_len: i64,
    /// Whether the client still has to authenticate: such clients may send at most 10
    /// arguments of at most 16 KiB each, so an anonymous peer cannot make us buffer much.
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 * 1024 * 1024, unauthenticated: false }
    }
}

/// A protocol violation. The server replies `-ERR <message>` and closes the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    TooBigInlineRequest,
    TooBigMultibulkCount,
    TooBigBulkCount,
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error text after `-ERR `, exactly as redis-server writes it.
    pub fn message(&self) -> Vec<u8> {
        let text: &[u8] = match self {
            ProtocolError::InvalidMultibulkLength => b"invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => b"unauthenticated multibulk length",
            ProtocolError::ExpectedDollar(got) => {
                let mut m = b"Protocol error: expected '$', got '".to_vec();
                m.push(*got);
                m.push(b'\'');
                return m;
            }
            ProtocolError::InvalidBulkLength => b"invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => b"unauthenticated bulk length",
            ProtocolError::TooBigInlineRequest => b"too big inline request",
            ProtocolError::TooBigMultibulkCount => b"too big mbulk count string",
            ProtocolError::TooBigBulkCount => b"too big bulk count string",
            ProtocolError::UnbalancedQuotes => b"unbalanced quotes in request",
        };
        let mut m = b"Protocol error: ".to_vec();
        m.extend_from_slice(text);
        m
    }
}

/// One complete request.
#[derive(Debug, PartialEq, Eq)]
pub enum Request<'p> {
    /// A multibulk request: each argument is `buf[start..end]` of the buffer that was parsed.
    Multibulk(&'p [(usize, usize)]),
    /// An inline request, its arguments unquoted and unescaped.
    Inline(Vec<Vec<u8>>),
    /// A request with no arguments (`*0`, `*-1`, an empty line): Redis ignores it silently.
    Empty,
}

/// Progress through the buffer. Offsets are absolute positions in the caller's buffer; the
/// caller reports with [`RequestParser::discard`] when it drops consumed bytes from the front.
#[derive(Default, Debug)]
pub struct RequestParser {
    /// Where the request being read began.
    start: usize,
    /// Where parsing resumes.
    pos: usize,
    /// Bulks still expected in the multibulk being read; 0 when between requests.
    bulks_left: i64,
    /// Length of the bulk whose header was read but whose data has not all arrived.
    pending_bulk: Option<usize>,
    /// Argument ranges of the multibulk being read (or just completed).
    args: Vec<(usize, usize)>,
}

/// `strchr` semantics: the first `needle`, unless a NUL byte comes before it. (The NUL check
/// only looks before the needle, so a big buffer is not scanned for every line.)
fn find_before_nul(haystack: &[u8], needle: u8) -> Option<usize> {
    // Protocol lines are short: a plain scan beats memchr's setup for the first bytes.
    for (i, &c) in haystack.iter().take(24).enumerate() {
        if c == needle {
            return Some(i);
        }
        if c == 0 {
            return None;
        }
    }
    let at = memchr(needle, haystack)?;
    match memchr(0, &haystack[..at]) {
        Some(_) => None,
        None => Some(at),
    }
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes at the front of the buffer that belong to requests already returned: the caller
    /// may drop them (then call [`discard`](Self::discard)) once it is done with those requests.
    pub fn consumed(&self) -> usize {
        if self.bulks_left > 0 {
            self.start
        } else {
            self.pos
        }
    }

    /// Tells the parser that the first `n` bytes (at most [`consumed`](Self::consumed)) were
    /// dropped from the buffer.
    pub fn discard(&mut self, n: usize) {
        debug_assert!(n <= self.consumed());
        self.start -= n.min(self.start);
        self.pos -= n;
        if self.bulks_left == 0 {
            // The last request was returned and is gone with the discarded bytes.
            self.args.clear();
        }
        for range in &mut self.args {
            range.0 -= n;
            range.1 -= n;
        }
    }

    /// True while a request has been partly received.
    pub fn in_progress(&self) -> bool {
        self.bulks_left > 0
    }

    /// How many more bytes the request being read needs at least, when that is known (its
    /// pending bulk's length is known): lets a reader size one read for a big argument.
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        match self.pending_bulk {
            Some(len) if self.bulks_left > 0 => (self.pos + len + 2).saturating_sub(buffered),
            _ => 0,
        }
    }

    /// Parses the next complete request of `buf`, or returns `Ok(None)` when more bytes are
    /// needed. `buf` must hold the same bytes as at the previous call, plus any appended (minus
    /// those discarded).
    pub fn next<'p>(&'p mut self, buf: &[u8], limits: &Limits) -> Result<Option<Request<'p>>, ProtocolError> {
        if self.bulks_left == 0 {
            self.args.clear();
            self.start = self.pos;
            let Some(&first) = buf.get(self.pos) else {
                return Ok(None);
            };
            if first != b'*' {
                return self.next_inline(buf);
            }
            let rest = &buf[self.pos..];
            let Some(cr) = find_before_nul(rest, b'\r') else {
                if rest.len() > INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigMultibulkCount);
                }
                return Ok(None);
            };
            if cr + 2 > rest.len() {
                return Ok(None);
            }
            let count = parse_i64(&rest[1..cr])
                .filter(|&n| n <= i32::MAX as i64)
                .ok_or(ProtocolError::InvalidMultibulkLength)?;
            if count > 10 && limits.unauthenticated {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos += cr + 2;
            if count <= 0 {
                self.start = self.pos;
                return Ok(Some(Request::Empty));
            }
            self.bulks_left = count;
            self.pending_bulk = None;
            self.args.reserve(count.min(1024) as usize);
        }
        while self.bulks_left > 0 {
            let len = match self.pending_bulk {
                Some(len) => len,
                None => {
                    let rest = &buf[self.pos..];
                    let Some(cr) = find_before_nul(rest, b'\r') else {
                        if rest.len() > INLINE_MAX_SIZE {
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        return Ok(None);
                    };
                    if cr + 2 > rest.len() {
                        return Ok(None);
                    }
                    if rest[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(rest[0]));
                    }
                    let len = parse_i64(&rest[1..cr])
                        .filter(|&n| n >= 0 && n <= limits.max_bulk_len)
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    if len > 16384 && limits.unauthenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos += cr + 2;
                    self.pending_bulk = Some(len as usize);
                    len as usize
                }
            };
            if buf.len() - self.pos < len + 2 {
                return Ok(None);
            }
            self.args.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.pending_bulk = None;
            self.bulks_left -= 1;
        }
        Ok(Some(Request::Multibulk(&self.args)))
    }

    fn next_inline<'p>(&'p mut self, buf: &[u8]) -> Result<Option<Request<'p>>, ProtocolError> {
        let rest = &buf[self.pos..];
        let Some(newline) = find_before_nul(rest, b'\n') else {
            if rest.len() > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(None);
        };
        let mut line_end = newline;
        if newline > 0 && rest[newline - 1] == b'\r' {
            line_end -= 1;
        }
        let args = split_args(&rest[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.pos += newline + 1;
        self.start = self.pos;
        if args.is_empty() {
            Ok(Some(Request::Empty))
        } else {
            Ok(Some(Request::Inline(args)))
        }
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments as Redis's `sdssplitargs` does (inline requests, redis.conf
/// lines): blanks separate arguments; `"..."` understands `\n \r \t \b \a \xHH` and `\<c>`;
/// `'...'` understands only `\'`; a closing quote must be followed by a blank or the end.
/// Returns `None` for unbalanced quotes. Input ends at the first NUL byte, as in C.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..memchr(0, line).unwrap_or(line.len())];
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            p += 1;
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(req: Request<'_>, buf: &[u8]) -> Vec<Vec<u8>> {
        match req {
            Request::Multibulk(ranges) => ranges.iter().map(|&(s, e)| buf[s..e].to_vec()).collect(),
            Request::Inline(args) => args,
            Request::Empty => vec![],
        }
    }

    /// Feeds `input` in pieces split at every position and checks the same requests come out.
    fn parse_all_splits(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let whole = parse_chunks(&[input]);
        for cut in 0..input.len() {
            assert_eq!(parse_chunks(&[&input[..cut], &input[cut..]]), whole, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes), whole, "byte by byte");
        whole
    }

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<Vec<Vec<u8>>> {
        let mut parser = RequestParser::new();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(req) = parser.next(&buf, &Limits::default()).unwrap() {
                out.push(owned(req, &buf));
            }
            let n = parser.consumed();
            buf.drain(..n);
            parser.discard(n);
        }
        out
    }

    fn first_error(input: &[u8], limits: Limits) -> ProtocolError {
        let mut parser = RequestParser::new();
        loop {
            match parser.next(input, &limits) {
                Err(e) => return e,
                Ok(None) => panic!("no error"),
                Ok(Some(_)) => {}
            }
        }
    }

    #[test]
    fn multibulk_and_inline_at_every_split() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*0\r\nset a \"b c\"\n*1\r\n$0\r\n\r\n";
        let got = parse_all_splits(input);
        let want: Vec<Vec<Vec<u8>>> = vec![
            vec![b"GET".to_vec(), b"k".to_vec()],
            vec![b"PING".to_vec()],
            vec![],
            vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()],
            vec![b"".to_vec()],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn protocol_errors_match_redis() {
        let l = Limits::default();
        assert_eq!(first_error(b"*x\r\n", l), ProtocolError::InvalidMultibulkLength);
        assert_eq!(first_error(b"*3000000000\r\n", l), ProtocolError::InvalidMultibulkLength);
        assert_eq!(first_error(b"*1\r\nfoo\r\n", l), ProtocolError::ExpectedDollar(b'f'));
        assert_eq!(first_error(b"*1\r\n$-1\r\n", l), ProtocolError::InvalidBulkLength);
        assert_eq!(first_error(b"*1\r\n$x\r\n", l), ProtocolError::InvalidBulkLength);
        assert_eq!(first_error(b"set \"a\r\n", l), ProtocolError::UnbalancedQuotes);
        assert_eq!(first_error(&vec![b'a'; 70000], l), ProtocolError::TooBigInlineRequest);
        let unauth = Limits { unauthenticated: true, ..l };
        assert_eq!(first_error(b"*11\r\n", unauth), ProtocolError::UnauthenticatedMultibulkLength);
        assert_eq!(first_error(b"*1\r\n$16385\r\n", unauth), ProtocolError::UnauthenticatedBulkLength);
        let small = Limits { max_bulk_len: 10, ..l };
        assert_eq!(first_error(b"*1\r\n$11\r\n", small), ProtocolError::InvalidBulkLength);
        assert_eq!(
            String::from_utf8(ProtocolError::ExpectedDollar(b'x').message()).unwrap(),
            "Protocol error: expected '$', got 'x'"
        );
    }

    #[test]
    fn huge_declared_bulk_waits_without_error() {
        let mut parser = RequestParser::new();
        let buf = b"*1\r\n$536870912\r\nabc";
        assert!(parser.next(buf, &Limits::default()).unwrap().is_none());
        assert!(parser.in_progress());
        assert_eq!(parser.consumed(), 0);
        assert_eq!(parser.bytes_wanted(buf.len()), 536870912 + 2 - 3);
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        let s = |x: &[u8]| {
            split_args(x).map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect::<Vec<_>>())
        };
        assert_eq!(s(b"  a  b\tc "), Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(s(b"\"a\\x41\\n\" 'it\\'s'"), Some(vec!["aA\n".into(), "it's".into()]));
        assert_eq!(s(b"\"a\"b"), None);
        assert_eq!(s(b"'a"), None);
        assert_eq!(s(b"x\"y z\""), Some(vec!["xy z".into()]));
        assert_eq!(s(b""), Some(vec![]));
    }
}
