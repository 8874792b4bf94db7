//! COMMAND DOCS argument trees, from the compact syntax each spec writes in `args`.
//!
//! The notation follows the usage lines of Redis's documentation:
//!
//! * `name` is a string argument; `name:type` gives the type (`key`, `string`, `integer`,
//!   `double`, `pattern`, `unix-time`); a key may name its key spec with `@N`.
//! * An upper-case word (`NX`, `WITHSCORES`) or a quoted word (`"*"`) is a token. Followed by
//!   an argument or a group it becomes that argument's token (`EX seconds:integer`,
//!   `LIMIT (offset:integer count:integer)`); alone it is a pure token.
//! * `[ … ]` is optional, `( … )` required; `a|b` inside a group makes a one-of, several items
//!   make a block. `name=` before an item names it; `...` after it makes it repeatable;
//!   `{6.2.0}` after it records the version that added it.

use crate::reply::Reply;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DocArg {
    pub name: String,
    pub kind: ArgType,
    pub key_spec_index: Option<usize>,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub args: Vec<DocArg>,
    /// The version that added this argument, when later than the command.
    pub since: Option<String>,
    /// Named with `name=` (a token's block otherwise takes the token's name).
    named: bool,
}

impl DocArg {
    fn new(name: String, kind: ArgType) -> DocArg {
        DocArg {
            name,
            kind,
            key_spec_index: None,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
            since: None,
            named: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open(char),
    Close(char),
    Pipe,
    Ellipsis,
    Word(String),
    Quoted(String),
    Since(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '[' | '(' => {
                out.push(Tok::Open(c));
                i += 1;
            }
            ']' | ')' => {
                out.push(Tok::Close(c));
                i += 1;
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push(Tok::Ellipsis);
                i += 3;
            }
            '{' => {
                let end = chars[i + 1..].iter().position(|&c| c == '}').ok_or("unterminated {")? + i + 1;
                out.push(Tok::Since(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '"' => {
                let end = chars[i + 1..].iter().position(|&c| c == '"').ok_or("unterminated quote")? + i + 1;
                out.push(Tok::Quoted(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !matches!(chars[i], ' ' | '\t' | '\n' | '[' | '(' | ']' | ')' | '|' | '"' | '{')
                {
                    if chars[i] == '.' && chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                        break;
                    }
                    // `name=` may be directly followed by a group or a quoted token.
                    if chars[i] == '=' {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

fn is_token_word(w: &str) -> bool {
    w.chars().any(|c| c.is_ascii_uppercase())
        && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    next_key: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// A sequence of items up to `|`, a closing bracket or the end.
    fn seq(&mut self) -> Result<Vec<DocArg>, String> {
        let mut items = Vec::new();
        while let Some(t) = self.peek() {
            if matches!(t, Tok::Pipe | Tok::Close(_)) {
                break;
            }
            items.push(self.item()?);
        }
        Ok(items)
    }

    fn starts_item(&self) -> bool {
        matches!(self.peek(), Some(Tok::Open(_)) | Some(Tok::Word(_)) | Some(Tok::Quoted(_)))
    }

    fn item(&mut self) -> Result<DocArg, String> {
        let mut name = None;
        if let Some(Tok::Word(w)) = self.peek() {
            if let Some(n) = w.strip_suffix('=') {
                name = Some(n.to_string());
                self.pos += 1;
            }
        }
        let mut arg = match self.next() {
            Some(Tok::Open(open)) => {
                let close = if open == '[' { ']' } else { ')' };
                let mut alts = vec![self.seq()?];
                while self.peek() == Some(&Tok::Pipe) {
                    self.pos += 1;
                    alts.push(self.seq()?);
                }
                if self.next() != Some(Tok::Close(close)) {
                    return Err(format!("expected {close}"));
                }
                let mut arg = if alts.len() > 1 {
                    let args: Vec<DocArg> = alts.into_iter().map(|seq| collapse(seq, None)).collect();
                    let derived = args.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join("-");
                    let mut a = DocArg::new(name.clone().unwrap_or(derived), ArgType::OneOf);
                    a.args = args;
                    a
                } else {
                    collapse(alts.remove(0), name.clone())
                };
                if open == '[' {
                    arg.optional = true;
                }
                arg
            }
            Some(Tok::Word(w)) if is_token_word(&w) => self.token_item(w)?,
            Some(Tok::Quoted(q)) => self.token_item(q)?,
            Some(Tok::Word(w)) => {
                let (base, key_index) = match w.split_once('@') {
                    Some((b, n)) => (b.to_string(), Some(n.parse::<usize>().map_err(|_| "bad @index")?)),
                    None => (w.clone(), None),
                };
                // `name:type`, unless what follows the colon is not a type (`ip:port`).
                let (n, kind) = match base.rsplit_once(':').and_then(|(n, t)| parse_type(t).ok().map(|k| (n, k))) {
                    Some((n, k)) => (n.to_string(), k),
                    None => (base.clone(), ArgType::String),
                };
                let mut a = DocArg::new(n, kind);
                if kind == ArgType::Key {
                    let idx = key_index.unwrap_or(self.next_key);
                    self.next_key = idx + 1;
                    a.key_spec_index = Some(idx);
                }
                a
            }
            other => return Err(format!("unexpected {other:?}")),
        };
        if let Some(n) = name {
            arg.name = n;
            arg.named = true;
        }
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            arg.multiple = true;
            if arg.token.is_some() {
                arg.multiple_token = true;
            }
        }
        if let Some(Tok::Since(v)) = self.peek().cloned() {
            self.pos += 1;
            arg.since = Some(v);
        }
        Ok(arg)
    }

    /// A token, bound to the following argument or group if there is one.
    fn token_item(&mut self, token: String) -> Result<DocArg, String> {
        if self.starts_item() && !self.next_is_token() {
            let mut arg = self.item()?;
            if arg.token.is_none() {
                if arg.kind == ArgType::Block && !arg.named {
                    arg.name = token.to_lowercase();
                }
                arg.token = Some(token);
                return Ok(arg);
            }
            return Err("two tokens on one argument".into());
        }
        let mut a = DocArg::new(token.to_lowercase(), ArgType::PureToken);
        a.token = Some(token);
        Ok(a)
    }

    fn next_is_token(&self) -> bool {
        match self.peek() {
            Some(Tok::Word(w)) => is_token_word(w),
            Some(Tok::Quoted(_)) => true,
            _ => false,
        }
    }
}

fn parse_type(t: &str) -> Result<ArgType, String> {
    Ok(match t {
        "key" => ArgType::Key,
        "string" => ArgType::String,
        "integer" => ArgType::Integer,
        "double" => ArgType::Double,
        "pattern" => ArgType::Pattern,
        "unix-time" => ArgType::UnixTime,
        _ => return Err(format!("unknown type {t}")),
    })
}

/// A group's single alternative: one item is itself, unless the group is named and the item
/// is not itself a group (`full=([COUNT count:integer])` is a block of one, as XINFO STREAM
/// declares); several make a block.
fn collapse(mut seq: Vec<DocArg>, name: Option<String>) -> DocArg {
    let grouped = |a: &DocArg| matches!(a.kind, ArgType::OneOf | ArgType::Block);
    if seq.len() == 1 && !(name.is_some() && !grouped(&seq[0])) {
        return seq.remove(0);
    }
    let derived = seq.first().map(|a| a.name.clone()).unwrap_or_default();
    let mut block = DocArg::new(name.unwrap_or(derived), ArgType::Block);
    block.args = seq;
    block
}

/// Parses a spec's argument syntax.
pub fn parse(syntax: &str) -> Result<Vec<DocArg>, String> {
    let mut p = Parser { toks: lex(syntax)?, pos: 0, next_key: 0 };
    let items = p.seq()?;
    if p.pos < p.toks.len() {
        return Err(format!("trailing {:?}", p.toks[p.pos]));
    }
    Ok(items)
}

/// COMMAND DOCS's `arguments` array for these arguments.
pub fn reply(args: &[DocArg]) -> Reply {
    Reply::Array(
        args.iter()
            .map(|a| {
                let mut m = vec![
                    (Reply::bulk_str("name"), Reply::bulk_str(&a.name)),
                    (Reply::bulk_str("type"), Reply::bulk_str(a.kind.name())),
                ];
                if let Some(i) = a.key_spec_index {
                    m.push((Reply::bulk_str("key_spec_index"), Reply::Int(i as i64)));
                }
                if let Some(t) = &a.token {
                    m.push((Reply::bulk_str("token"), Reply::bulk_str(t)));
                }
                if let Some(v) = &a.since {
                    m.push((Reply::bulk_str("since"), Reply::bulk_str(v)));
                }
                let mut flags = Vec::new();
                if a.optional {
                    flags.push(Reply::status("optional"));
                }
                if a.multiple {
                    flags.push(Reply::status("multiple"));
                }
                if a.multiple_token {
                    flags.push(Reply::status("multiple_token"));
                }
                if !flags.is_empty() {
                    m.push((Reply::bulk_str("flags"), Reply::Set(flags)));
                }
                if matches!(a.kind, ArgType::OneOf | ArgType::Block) {
                    m.push((Reply::bulk_str("arguments"), reply(&a.args)));
                }
                (m, ())
            })
            .map(|(m, _)| Reply::Map(m))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax() {
        let args = parse(
            "key:key value condition=[NX|XX] [GET] expiration=[EX seconds:integer|PX milliseconds:integer|KEEPTTL]",
        )
        .unwrap();
        assert_eq!(args.len(), 5);
        assert_eq!(args[0].kind, ArgType::Key);
        assert_eq!(args[0].key_spec_index, Some(0));
        assert_eq!(args[2].name, "condition");
        assert_eq!(args[2].kind, ArgType::OneOf);
        assert!(args[2].optional);
        assert_eq!(args[2].args[0].token.as_deref(), Some("NX"));
        assert_eq!(args[3].kind, ArgType::PureToken);
        assert_eq!(args[3].name, "get");
        let ex = &args[4].args[0];
        assert_eq!((ex.name.as_str(), ex.kind, ex.token.as_deref()), ("seconds", ArgType::Integer, Some("EX")));
        assert_eq!(args[4].args[2].kind, ArgType::PureToken);
    }

    #[test]
    fn blocks_multiples_and_tokens() {
        let args = parse(
            "data=(key:key value)... [LIMIT (offset:integer count:integer)] [GET pattern:pattern]... auto-id=\"*\"",
        )
        .unwrap();
        assert_eq!(args[0].kind, ArgType::Block);
        assert!(args[0].multiple);
        assert_eq!(args[0].args[0].key_spec_index, Some(0));
        assert_eq!(args[1].kind, ArgType::Block);
        assert_eq!(args[1].name, "limit");
        assert_eq!(args[1].token.as_deref(), Some("LIMIT"));
        assert!(args[1].optional);
        assert!(args[2].multiple && args[2].multiple_token && args[2].optional);
        assert_eq!(args[3].name, "auto-id");
        assert_eq!(args[3].token.as_deref(), Some("*"));
        let one = parse("key:key [FULL full=([COUNT count:integer])]").unwrap();
        assert_eq!(
            (one[1].kind, one[1].name.as_str(), one[1].token.as_deref()),
            (ArgType::Block, "full", Some("FULL"))
        );
        assert!(one[1].optional && one[1].args[0].optional);
        let args = parse("key:key [count:integer]{6.2.0}").unwrap();
        assert_eq!(args[1].since.as_deref(), Some("6.2.0"));
        assert!(args[1].optional);
        let one = parse("pattern=(pattern:pattern)...").unwrap();
        assert_eq!((one[0].kind, one[0].args.len()), (ArgType::Block, 1));
        assert!(one[0].multiple);
    }
}
