//! ACL users: flags, password hashes and selectors, the rules that change them (Redis's
//! ACLSetUser / ACLStringSetUser) and their description in the ACL LIST / ACL file format.

use super::selector::{has_spaces, RuleError, Selector};
use super::sha256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    /// `on` (otherwise `off`: a new user is off).
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) / `skip-sanitize-payload` (Some(false)); unset at first.
    pub sanitize: Option<bool>,
    /// Lower-case hex SHA-256 of each password, in the order they were added.
    pub passwords: Vec<String>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
    /// Cached: the root selector allows every command, key and channel.
    pub unrestricted: bool,
}

impl User {
    /// Redis's ACLCreateUser: off, no passwords, no permissions.
    pub fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, pubsub_all)],
            unrestricted: false,
        }
    }

    /// Redis's ACLCreateDefaultUser: `on nopass ~* &* +@all`.
    pub fn default_user(pubsub_all: bool) -> User {
        let mut u = User::new(b"default", pubsub_all);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(op.as_bytes(), pubsub_all);
        }
        u
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    fn root_mut(&mut self) -> &mut Selector {
        &mut self.selectors[0]
    }

    fn refresh(&mut self) {
        self.unrestricted = self.root().unrestricted();
    }

    /// Redis's ACLSetUser: applies one rule.
    pub fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        let r = self.apply_inner(op, pubsub_all);
        self.refresh();
        r
    }

    fn apply_inner(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = password_hash(op)?;
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = password_hash(op)?;
            let pos = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(pos);
        } else if op[0] == b'(' && op.last() == Some(&b')') {
            let mut s = Selector::new(false, pubsub_all);
            for inner in split_args(&op[1..op.len() - 1]).ok_or(RuleError::Syntax)? {
                s.apply(&inner)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = self.root_mut();
            root.apply(b"resetkeys")?;
            root.apply(b"resetchannels")?;
            if pubsub_all {
                root.apply(b"allchannels")?;
            }
            self.enabled = false;
            self.sanitize = Some(true);
            self.selectors.truncate(1);
            self.root_mut().apply(b"-@all")?;
        } else {
            self.root_mut().apply(op)?;
        }
        Ok(())
    }

    /// Redis's ACLCheckUserCredentials (the user exists): enabled and a password matches.
    pub fn check_password(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = sha256::hex(pass);
        // Compare every stored hash in full, so timing says nothing about which matched.
        self.passwords.iter().fold(false, |found, p| found | constant_time_eq(p.as_bytes(), hashed.as_bytes()))
    }

    /// The user's flags in Redis's order (ACL GETUSER `flags`).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            v.push("nopass");
        }
        match self.sanitize {
            Some(false) => v.push("skip-sanitize-payload"),
            Some(true) => v.push("sanitize-payload"),
            None => {}
        }
        v
    }

    /// Redis's ACLDescribeUser: flags, `#hash`es, the root selector, then `(selectors)`.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self.flag_names() {
            out.extend_from_slice(f.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// `user <name> <description>`: an ACL LIST line, an ACL file line.
    pub fn config_line(&self) -> Vec<u8> {
        let mut line = b"user ".to_vec();
        line.extend_from_slice(&self.name);
        line.push(b' ');
        line.extend_from_slice(&self.describe());
        line
    }

    /// Applies rules as ACL SETUSER does (Redis's ACLStringSetUser): selectors spread over
    /// several arguments are merged, and nothing changes unless every rule is valid. Err is
    /// the error text without "ERR ".
    pub fn apply_all(&mut self, rules: &[&[u8]], pubsub_all: bool) -> Result<(), String> {
        let merged = merge_selector_args(rules).map_err(|at| {
            format!("Unmatched parenthesis in acl selector starting at '{}'.", String::from_utf8_lossy(rules[at]))
        })?;
        let mut staged = self.clone();
        for op in &merged {
            if let Err(e) = staged.apply(op, pubsub_all) {
                return Err(format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(op),
                    e.message()
                ));
            }
        }
        *self = staged;
        Ok(())
    }
}

/// The stored hash of a `>pass`/`<pass` (hashed) or `#hash`/`!hash` (validated) rule.
fn password_hash(op: &[u8]) -> Result<String, RuleError> {
    let rest = &op[1..];
    if op[0] == b'>' || op[0] == b'<' {
        return Ok(sha256::hex(rest));
    }
    if rest.len() != 64 || !rest.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
        return Err(RuleError::BadHash);
    }
    Ok(String::from_utf8_lossy(rest).into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Redis's ACLMergeSelectorArguments: `(` ... `)` spread over several arguments becomes one
/// argument joined by spaces. Err is the index of an unclosed selector's first argument.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, &op) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                if let Some((_, sel)) = open.take() {
                    out.push(sel);
                }
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// Redis's sdssplitargs: words separated by spaces, with "double" (escapes) and 'single'
/// quotes. None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if inq {
                let c = c?;
                if c == b'\\' && i + 3 < line.len() && line[i + 1] == b'x' {
                    let hex =
                        std::str::from_utf8(&line[i + 2..i + 4]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                    if let Some(b) = hex {
                        cur.push(b);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < line.len() {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    if line.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
            } else if insq {
                let c = c?;
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if line.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
            } else {
                match c {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => inq = true,
                    Some(b'\'') => insq = true,
                    Some(c) => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

/// Redis's rule checks for a username (ACL SETUSER, `user` lines).
pub fn valid_username(name: &[u8]) -> bool {
    !has_spaces(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        u.apply_all(&rules, false).unwrap();
        u
    }

    #[test]
    fn descriptions() {
        assert_eq!(User::default_user(false).describe(), b"on nopass ~* &* +@all");
        assert_eq!(User::new(b"x", false).describe(), b"off resetchannels -@all");
        assert_eq!(user(&["reset"]).describe(), b"off sanitize-payload resetchannels -@all");
        assert_eq!(
            user(&["on", ">123", "+@scripting", "+set", "~x*"]).describe(),
            b"on #a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3 ~x* resetchannels -@all +@scripting +set"
                .to_vec()
        );
        assert_eq!(
            user(&["on", "nopass", "~a*", "(+get", "~y*)"]).describe(),
            b"on nopass ~a* resetchannels -@all (~y* resetchannels -@all +get)".to_vec()
        );
    }

    #[test]
    fn passwords() {
        let u = user(&["on", ">a", ">b", "<a"]);
        assert!(u.check_password(b"b"));
        assert!(!u.check_password(b"a"));
        let mut u2 = u.clone();
        assert_eq!(
            u2.apply_all(&[b"<zz"], false).unwrap_err(),
            "Error in ACL SETUSER modifier '<zz': The password you are trying to remove from the user does not exist"
        );
        assert_eq!(u2, u, "a failed SETUSER changes nothing");
        assert!(!user(&["off", "nopass"]).check_password(b""));
    }

    #[test]
    fn selector_merging() {
        assert_eq!(
            merge_selector_args(&[b"(+get", b"~x)", b"on"]).unwrap(),
            vec![b"(+get ~x)".to_vec(), b"on".to_vec()]
        );
        assert_eq!(merge_selector_args(&[b"on", b"(+get"]), Err(1));
        assert_eq!(split_args(b" a \"b c\" 'd' ").unwrap(), vec![b"a".to_vec(), b"b c".to_vec(), b"d".to_vec()]);
        assert_eq!(split_args(b"\"a"), None);
    }
}
