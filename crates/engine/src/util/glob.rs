//! Redis's glob-style matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`, `CONFIG GET`…).
//!
//! A port of `stringmatchlen` with its safeguards: once the rest of a pattern failed to match
//! anywhere after a `*`, earlier stars give up instead of retrying longer matches (the
//! exponential-backtracking fix of Redis 7.0.9), and nesting is capped so a pattern with
//! thousands of stars cannot exhaust the stack.

/// How many `*` may be active at once before a match is declared failed.
const MAX_NESTING: usize = 1000;

/// Whether `string` matches the glob `pattern` (`*`, `?`, `[a-z]`, `[^…]`, `\x`).
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    Matcher { pattern, string, nocase }.run(0, pattern.len() as isize, 0, string.len() as isize, &mut skip_longer, 0)
}

struct Matcher<'a> {
    pattern: &'a [u8],
    string: &'a [u8],
    nocase: bool,
}

impl Matcher<'_> {
    /// The pattern byte at `i`, or NUL past the end (as the C string would read).
    fn p(&self, i: usize) -> u8 {
        self.pattern.get(i).copied().unwrap_or(0)
    }

    fn s(&self, i: usize) -> u8 {
        self.string.get(i).copied().unwrap_or(0)
    }

    fn eq(&self, a: u8, b: u8) -> bool {
        if self.nocase {
            a.to_ascii_lowercase() == b.to_ascii_lowercase()
        } else {
            a == b
        }
    }

    fn run(
        &self,
        mut pi: usize,
        mut plen: isize,
        mut si: usize,
        mut slen: isize,
        skip_longer: &mut bool,
        nesting: usize,
    ) -> bool {
        if nesting > MAX_NESTING {
            return false;
        }
        while plen > 0 && slen > 0 {
            match self.p(pi) {
                b'*' => {
                    while plen > 0 && self.p(pi + 1) == b'*' {
                        pi += 1;
                        plen -= 1;
                    }
                    if plen == 1 {
                        return true;
                    }
                    while slen > 0 {
                        if self.run(pi + 1, plen - 1, si, slen, skip_longer, nesting + 1) {
                            return true;
                        }
                        if *skip_longer {
                            return false;
                        }
                        si += 1;
                        slen -= 1;
                    }
                    *skip_longer = true;
                    return false;
                }
                b'?' => {
                    si += 1;
                    slen -= 1;
                }
                b'[' => {
                    pi += 1;
                    plen -= 1;
                    let not = self.p(pi) == b'^';
                    if not {
                        pi += 1;
                        plen -= 1;
                    }
                    let mut matched = false;
                    let c = self.s(si);
                    loop {
                        if self.p(pi) == b'\\' && plen >= 2 {
                            pi += 1;
                            plen -= 1;
                            if self.p(pi) == c {
                                matched = true;
                            }
                        } else if self.p(pi) == b']' {
                            break;
                        } else if plen == 0 {
                            pi -= 1;
                            plen += 1;
                            break;
                        } else if plen >= 3 && self.p(pi + 1) == b'-' {
                            let (mut start, mut end, mut ch) = (self.p(pi), self.p(pi + 2), c);
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            if self.nocase {
                                start = start.to_ascii_lowercase();
                                end = end.to_ascii_lowercase();
                                ch = ch.to_ascii_lowercase();
                            }
                            pi += 2;
                            plen -= 2;
                            if ch >= start && ch <= end {
                                matched = true;
                            }
                        } else if self.eq(self.p(pi), c) {
                            matched = true;
                        }
                        pi += 1;
                        plen -= 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    si += 1;
                    slen -= 1;
                }
                other => {
                    let mut lit = other;
                    if other == b'\\' && plen >= 2 {
                        pi += 1;
                        plen -= 1;
                        lit = self.p(pi);
                    }
                    if !self.eq(lit, self.s(si)) {
                        return false;
                    }
                    si += 1;
                    slen -= 1;
                }
            }
            pi += 1;
            plen -= 1;
            if slen == 0 {
                while self.p(pi) == b'*' {
                    pi += 1;
                    plen -= 1;
                }
                break;
            }
        }
        plen == 0 && slen == 0
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn glob_cases() {
        let m = |p: &str, s: &str| matches(p.as_bytes(), s.as_bytes(), false);
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("foo*", "foo"));
        assert!(m("*bar", "foobar"));
        assert!(!m("a", ""));
        assert!(m("", ""));
        // Redis never enters the loop for an empty string, so "*" does not match "".
        assert!(!m("*", ""));
        assert!(!m("[", "a"));
        assert!(m("a[", "a") == false);
        assert!(matches(b"HE*", b"hello", true));
        assert!(!m("abc", "ab"));
    }

    #[test]
    fn pathological_patterns_finish() {
        let pattern = "a*".repeat(5000) + "b";
        let s = "a".repeat(10000);
        assert!(!matches(pattern.as_bytes(), s.as_bytes(), false));
        let pattern = "*a".repeat(50) + "b";
        assert!(!matches(pattern.as_bytes(), "a".repeat(100).as_bytes(), false));
    }
}
