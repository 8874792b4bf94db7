//! Replies as the bytes a server sent, split into frames without losing a byte.
//!
//! The differential tests compare raw bytes, so a reply is never decoded into values and
//! re-encoded (that would hide a `$-1` sent where `_` was due, or a `+OK` sent as `$2`). A
//! [`Node`] keeps each frame's header line exactly as received; [`Node::bytes`] writes the
//! original bytes back. The looser comparisons work on the tree: [`Node::shape`] keeps only
//! types and aggregate lengths, [`Node::sorted`] orders the elements of every aggregate so
//! replies whose order Redis does not define (KEYS, SMEMBERS) compare equal.

/// One RESP2/RESP3 frame as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The type byte: `+ - : $ * % ~ > _ , # ( = ! |`.
    pub kind: u8,
    /// The rest of the header line, without CRLF (a length, or a simple value).
    pub head: Vec<u8>,
    /// The payload of a bulk-like frame (`$ = !`) with a non-negative length.
    pub body: Option<Vec<u8>>,
    /// Elements of an aggregate (for `%` and `|`: keys and values alternating; for `|` the
    /// described frame comes last).
    pub children: Vec<Node>,
}

/// Frames nested deeper than this are refused (a broken server must not crash the tool).
const MAX_DEPTH: usize = 256;

/// Why bytes are not a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

/// Parses one frame at the start of `buf`: `Ok(Some((node, used)))`, `Ok(None)` if more bytes
/// are needed.
pub fn parse(buf: &[u8]) -> Result<Option<(Node, usize)>, Invalid> {
    let mut pos = 0;
    Ok(parse_at(buf, &mut pos, 0)?.map(|n| (n, pos)))
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = buf.get(*pos..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    *pos += cr + 2;
    Some(&rest[..cr])
}

fn count(head: &[u8]) -> Result<i64, Invalid> {
    std::str::from_utf8(head)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|&n| n >= -1)
        .ok_or_else(|| Invalid(format!("bad length {:?}", String::from_utf8_lossy(head))))
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Node>, Invalid> {
    if depth > MAX_DEPTH {
        return Err(Invalid("frames nested too deeply".into()));
    }
    let start = *pos;
    let Some(&kind) = buf.get(*pos) else { return Ok(None) };
    *pos += 1;
    let Some(head) = line(buf, pos) else {
        *pos = start;
        return Ok(None);
    };
    let mut node = Node { kind, head: head.to_vec(), body: None, children: Vec::new() };
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => {}
        b'$' | b'=' | b'!' => {
            let n = count(head)?;
            if n >= 0 {
                let n = n as usize;
                if buf.len() < *pos + n + 2 {
                    *pos = start;
                    return Ok(None);
                }
                if &buf[*pos + n..*pos + n + 2] != b"\r\n" {
                    return Err(Invalid("bulk payload not followed by CRLF".into()));
                }
                node.body = Some(buf[*pos..*pos + n].to_vec());
                *pos += n + 2;
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = count(head)?;
            let per = if matches!(kind, b'%' | b'|') { 2 } else { 1 };
            let mut items = n.max(0) as usize * per;
            if kind == b'|' {
                items += 1;
            }
            for _ in 0..items {
                match parse_at(buf, pos, depth + 1)? {
                    Some(child) => node.children.push(child),
                    None => {
                        *pos = start;
                        return Ok(None);
                    }
                }
            }
        }
        other => return Err(Invalid(format!("unknown type byte {:?}", other as char))),
    }
    Ok(Some(node))
}

impl Node {
    /// The frame's bytes exactly as received.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"\r\n");
        if let Some(body) = &self.body {
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        for c in &self.children {
            c.write(out);
        }
    }

    /// Types and aggregate lengths, not values: `*2[$,$]` for TIME, `=` for RESP3 INFO.
    /// Nulls stay distinct from empty values (`$-1` is `$nil`, `*-1` is `*nil`).
    pub fn shape(&self) -> String {
        let mut out = String::new();
        self.write_shape(&mut out);
        out
    }

    fn write_shape(&self, out: &mut String) {
        out.push(self.kind as char);
        let is_aggregate = matches!(self.kind, b'*' | b'~' | b'>' | b'%' | b'|');
        if self.head == b"-1" && matches!(self.kind, b'$' | b'*') {
            out.push_str("nil");
        } else if is_aggregate {
            out.push_str(&String::from_utf8_lossy(&self.head));
            out.push('[');
            for (i, c) in self.children.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                c.write_shape(out);
            }
            out.push(']');
        }
    }

    /// The same frame with the elements of every aggregate in byte order (map entries as
    /// pairs), so two replies that differ only in element order become equal.
    pub fn sorted(&self) -> Node {
        let mut node = self.clone();
        node.children = self.children.iter().map(Node::sorted).collect();
        match node.kind {
            b'*' | b'~' | b'>' => node.children.sort_by_key(Node::bytes),
            b'%' => {
                let mut pairs: Vec<(Vec<u8>, Vec<Node>)> =
                    node.children.chunks(2).map(|p| (p.iter().flat_map(Node::bytes).collect(), p.to_vec())).collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                node.children = pairs.into_iter().flat_map(|(_, p)| p).collect();
            }
            _ => {}
        }
        node
    }
}

/// Bytes as one readable line: printable ASCII as is, `\r \n \t \\`, the rest `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(bytes: &[u8]) -> Node {
        let (n, used) = parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        n
    }

    #[test]
    fn round_trips_every_type_byte_for_byte() {
        let all: &[u8] = b"*12\r\n+OK\r\n-ERR x\r\n:-5\r\n$4\r\na\r\nb\r\n$-1\r\n_\r\n,1.5\r\n#t\r\n(123\r\n\
=7\r\ntxt:abc\r\n%1\r\n$1\r\nk\r\n~1\r\n:1\r\n>2\r\n$1\r\na\r\n*-1\r\n";
        let n = node(all);
        assert_eq!(n.bytes(), all);
        for cut in 0..all.len() {
            assert_eq!(parse(&all[..cut]).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn parses_attributes_with_their_frame() {
        let bytes = b"|1\r\n+a\r\n+b\r\n:1\r\n";
        assert_eq!(node(bytes).children.len(), 3);
        assert_eq!(node(bytes).bytes(), bytes);
    }

    #[test]
    fn rejects_what_is_not_resp() {
        assert!(parse(b"?\r\n").is_err());
        assert!(parse(b"$x\r\n").is_err());
        assert!(parse(b"$1\r\nab\r\n").is_err());
        assert!(parse(b"*-2\r\n").is_err());
    }

    #[test]
    fn shape_keeps_types_and_lengths_only() {
        assert_eq!(node(b"*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n").shape(), "*2[$,$]");
        assert_eq!(node(b"*2\r\n$1\r\n1\r\n$2\r\n12\r\n").shape(), "*2[$,$]");
        assert_ne!(node(b"$-1\r\n").shape(), node(b"$0\r\n\r\n").shape());
        assert_ne!(node(b"*-1\r\n").shape(), node(b"*0\r\n").shape());
        assert_ne!(node(b"_\r\n").shape(), node(b"$-1\r\n").shape());
        assert_eq!(node(b"%1\r\n+a\r\n:1\r\n").shape(), "%1[+,:]");
    }

    #[test]
    fn sorted_ignores_order_of_elements_and_map_entries() {
        let a = node(b"*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n").sorted();
        let b = node(b"*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n").sorted();
        assert_eq!(a, b);
        let m1 = node(b"%2\r\n+x\r\n:1\r\n+a\r\n:2\r\n").sorted();
        let m2 = node(b"%2\r\n+a\r\n:2\r\n+x\r\n:1\r\n").sorted();
        assert_eq!(m1, m2);
        // Keys stay paired with their values.
        let m3 = node(b"%2\r\n+a\r\n:1\r\n+x\r\n:2\r\n").sorted();
        assert_ne!(m1, m3);
        // Different elements still differ.
        assert_ne!(a, node(b"*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nc\r\n").sorted());
    }

    #[test]
    fn escape_is_one_readable_line() {
        assert_eq!(escape(b"+OK\r\n"), "+OK\\r\\n");
        assert_eq!(escape(b"a\\\x00\xff\t"), "a\\\\\\x00\\xff\\t");
    }
}
