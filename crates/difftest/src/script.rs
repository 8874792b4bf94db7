//! The command-script format (`tests/differential/*.redis`).
//!
//! One command per line in redis-cli syntax (arguments split as Redis's `sdssplitargs` does:
//! `"..."` with `\n \r \t \xHH` escapes, `'...'`). Lines starting with `#` are comments. A
//! line may start with modifiers that say how its reply is compared:
//!
//! | modifier     | meaning |
//! |--------------|---------|
//! | `@sorted`    | the order of elements is undefined (KEYS, SMEMBERS): sort every aggregate first |
//! | `@shape`     | nondeterministic values (TIME, CLIENT ID): compare types and aggregate lengths |
//! | `@type`      | nondeterministic content and size (INFO, CLIENT LIST): compare the reply type |
//! | `@noreply`   | the command sends no reply (CLIENT REPLY OFF/SKIP): check that none comes |
//! | `@replies N` | the command sends N replies (SUBSCRIBE a b): read and compare all N |
//! | `@resp2`, `@resp3` | run the line only in that protocol pass |
//! | `@xfail`     | a known difference (a bug with an owner; say which in a comment above): a mismatch is reported but does not fail the run, a match does (remove the marker) |
//! | `@xfail-resp2`, `@xfail-resp3` | the same, in one protocol pass only |
//!
//! Directives are lines of their own:
//!
//! | directive      | meaning |
//! |----------------|---------|
//! | `@passes 2 3`  | which protocol passes the file runs (default both: RESP2, then RESP3 after `HELLO 3`) |
//! | `@flush`       | `FLUSHALL` both servers between sections (not compared) |
//! | `@resp N`      | switch the current connection's protocol (`HELLO N`, shape compared) |
//! | `@conn NAME`   | send the following lines on connection NAME (opened on first use; the first is `main`) |
//! | `@sleep MS`    | wait (for expiry tests) |
//! | `@raw B...`    | send raw bytes (each argument one write, escapes as in `"..."`), then compare everything the server sends until it closes the connection or goes quiet, and whether it closed |
//! | `@raw-repeat N P [S]` | as `@raw`, sending one write of P repeated N times followed by S (big requests) |
//! | `@read N`      | read N replies that come without a request (Pub/Sub messages); takes the comparison modifiers |

use spinel_resp::request::split_args;

/// How two replies are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Exact,
    Sorted,
    Shape,
    Type,
    NoReply,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Command { args: Vec<Vec<u8>>, compare: Compare, replies: usize },
    Raw { chunks: Vec<Vec<u8>> },
    Flush,
    Resp(u8),
    Conn(String),
    Sleep(u64),
}

/// One executable line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based line number in the file.
    pub line: usize,
    /// The line as written, for reports.
    pub text: String,
    pub action: Action,
    /// Run only in this protocol pass.
    pub only_pass: Option<u8>,
    /// Protocol passes in which a difference is known (`@xfail`).
    pub xfail: Vec<u8>,
}

impl Step {
    pub fn xfail_in(&self, pass: u8) -> bool {
        self.xfail.contains(&pass)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub name: String,
    /// Protocol passes to run, in order.
    pub passes: Vec<u8>,
    pub steps: Vec<Step>,
}

fn word(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

fn number<T: std::str::FromStr>(arg: Option<&Vec<u8>>, what: &str) -> Result<T, String> {
    arg.and_then(|a| std::str::from_utf8(a).ok()).and_then(|s| s.parse().ok()).ok_or_else(|| format!("{what} expected"))
}

fn protocol(arg: Option<&Vec<u8>>) -> Result<u8, String> {
    match number::<u8>(arg, "protocol version 2 or 3")? {
        v @ (2 | 3) => Ok(v),
        _ => Err("protocol version 2 or 3 expected".into()),
    }
}

/// Parses a script. Errors name the line.
pub fn parse(name: &str, text: &str) -> Result<Script, String> {
    let mut script = Script { name: name.to_string(), passes: vec![2, 3], steps: Vec::new() };
    for (i, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |why: String| format!("{name}:{}: {why}: {line}", i + 1);
        let args = split_args(line.as_bytes()).ok_or_else(|| fail("unbalanced quotes".into()))?;
        if args.first().map(|a| a.as_slice()) == Some(b"@passes") {
            let passes: Result<Vec<u8>, String> = args[1..].iter().map(|a| protocol(Some(a))).collect();
            script.passes = passes.map_err(fail)?;
            if script.passes.is_empty() {
                return Err(fail("@passes needs 2 and/or 3".into()));
            }
            continue;
        }
        let step = parse_step(args).map_err(fail)?;
        script.steps.push(Step { line: i + 1, text: line.to_string(), ..step });
    }
    Ok(script)
}

fn parse_step(mut args: Vec<Vec<u8>>) -> Result<Step, String> {
    let mut compare = Compare::Exact;
    let mut replies = 1;
    let mut only_pass = None;
    let mut xfail: Vec<u8> = Vec::new();
    let set_compare = |c: &mut Compare, new: Compare| {
        if *c != Compare::Exact {
            return Err("only one of @sorted/@shape/@type/@noreply per line".to_string());
        }
        *c = new;
        Ok(())
    };
    loop {
        let Some(first) = args.first() else { return Err("modifiers without a command".into()) };
        if !first.starts_with(b"@") {
            break;
        }
        let first = word(first);
        let rest = args.split_off(1);
        let action = match first.as_str() {
            "@sorted" => set_compare(&mut compare, Compare::Sorted).map(|_| None),
            "@shape" => set_compare(&mut compare, Compare::Shape).map(|_| None),
            "@type" => set_compare(&mut compare, Compare::Type).map(|_| None),
            "@noreply" => set_compare(&mut compare, Compare::NoReply).map(|_| None),
            "@xfail" | "@xfail-resp2" | "@xfail-resp3" => {
                for pass in match first.as_str() {
                    "@xfail-resp2" => &[2][..],
                    "@xfail-resp3" => &[3][..],
                    _ => &[2, 3][..],
                } {
                    if !xfail.contains(pass) {
                        xfail.push(*pass);
                    }
                }
                Ok(None)
            }
            "@resp2" | "@resp3" => {
                only_pass = Some(if first == "@resp2" { 2 } else { 3 });
                Ok(None)
            }
            "@replies" => {
                replies = number::<usize>(rest.first(), "@replies N")?;
                args = rest[1..].to_vec();
                continue;
            }
            "@read" if rest.len() == 1 => {
                // Replies that arrive without a request (Pub/Sub messages, invalidations):
                // a command with no arguments sends nothing.
                let count = number::<usize>(rest.first(), "@read N")?;
                if count == 0 || compare == Compare::NoReply || replies != 1 {
                    return Err("@read N takes N >= 1 and no @noreply/@replies".into());
                }
                let action = Action::Command { args: Vec::new(), compare, replies: count };
                return Ok(Step { line: 0, text: String::new(), action, only_pass, xfail });
            }
            "@flush" if rest.is_empty() => Ok(Some(Action::Flush)),
            "@resp" if rest.len() == 1 => protocol(rest.first()).map(|v| Some(Action::Resp(v))),
            "@conn" if rest.len() == 1 => Ok(Some(Action::Conn(word(&rest[0])))),
            "@sleep" if rest.len() == 1 => number(rest.first(), "@sleep MS").map(|ms| Some(Action::Sleep(ms))),
            "@raw" if !rest.is_empty() => Ok(Some(Action::Raw { chunks: rest.clone() })),
            "@raw-repeat" if rest.len() == 2 || rest.len() == 3 => {
                let count: usize = number(rest.first(), "@raw-repeat COUNT PATTERN [SUFFIX]")?;
                if count > 64 << 20 {
                    return Err("@raw-repeat: at most 64 MiB".into());
                }
                let mut chunk = rest[1].repeat(count);
                chunk.extend_from_slice(rest.get(2).map(|v| v.as_slice()).unwrap_or_default());
                Ok(Some(Action::Raw { chunks: vec![chunk] }))
            }
            other => Err(format!("unknown or malformed directive {other}")),
        }?;
        if let Some(action) = action {
            let is_raw = matches!(action, Action::Raw { .. });
            if compare != Compare::Exact || replies != 1 || ((!xfail.is_empty() || only_pass.is_some()) && !is_raw) {
                return Err("this directive takes no modifiers (only @raw takes @xfail/@resp2/@resp3)".into());
            }
            return Ok(Step { line: 0, text: String::new(), action, only_pass, xfail });
        }
        args = rest;
    }
    if compare == Compare::NoReply && replies != 1 {
        return Err("@noreply with @replies".into());
    }
    Ok(Step { line: 0, text: String::new(), action: Action::Command { args, compare, replies }, only_pass, xfail })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str) -> Vec<Action> {
        parse("t", text).unwrap().steps.into_iter().map(|s| s.action).collect()
    }

    fn cmd(args: &[&str], compare: Compare, replies: usize) -> Action {
        Action::Command { args: args.iter().map(|a| a.as_bytes().to_vec()).collect(), compare, replies }
    }

    #[test]
    fn commands_use_redis_cli_quoting_and_skip_comments() {
        let got = steps("# comment\n\nSET k \"a b\\r\\n\"\n  # indented comment\nGET 'k'\n");
        assert_eq!(got, vec![cmd(&["SET", "k", "a b\r\n"], Compare::Exact, 1), cmd(&["GET", "k"], Compare::Exact, 1)]);
    }

    #[test]
    fn modifiers_set_the_comparison() {
        let s = parse("t", "@sorted KEYS *\n@shape TIME\n@type INFO\n@noreply CLIENT REPLY OFF\n@replies 2 @resp3 X\n")
            .unwrap();
        let compares: Vec<Action> = s.steps.iter().map(|s| s.action.clone()).collect();
        assert_eq!(compares[0], cmd(&["KEYS", "*"], Compare::Sorted, 1));
        assert_eq!(compares[1], cmd(&["TIME"], Compare::Shape, 1));
        assert_eq!(compares[2], cmd(&["INFO"], Compare::Type, 1));
        assert_eq!(compares[3], cmd(&["CLIENT", "REPLY", "OFF"], Compare::NoReply, 1));
        assert_eq!(compares[4], cmd(&["X"], Compare::Exact, 2));
        assert_eq!(s.steps[4].only_pass, Some(3));
        assert_eq!(s.steps[4].line, 5);
    }

    #[test]
    fn xfail_marks_a_known_difference() {
        let s = parse("t", "@xfail GET k\n@xfail @raw \"x\\r\\n\"\n@xfail-resp3 GET k\n").unwrap();
        assert!(s.steps[..2].iter().all(|s| s.xfail_in(2) && s.xfail_in(3)));
        assert!(!s.steps[2].xfail_in(2) && s.steps[2].xfail_in(3));
        assert_eq!(s.steps[1].action, Action::Raw { chunks: vec![b"x\r\n".to_vec()] });
    }

    #[test]
    fn directives() {
        let s = parse(
            "t",
            "@passes 3\n@flush\n@resp 2\n@conn other\n@sleep 20\n@raw \"*1\\r\\n\" \"$4\\r\\nPING\\r\\n\"\n@raw-repeat 3 ab \"\\r\\n\"\n",
        )
            .unwrap();
        assert_eq!(s.passes, vec![3]);
        assert_eq!(
            s.steps.into_iter().map(|s| s.action).collect::<Vec<_>>(),
            vec![
                Action::Flush,
                Action::Resp(2),
                Action::Conn("other".into()),
                Action::Sleep(20),
                Action::Raw { chunks: vec![b"*1\r\n".to_vec(), b"$4\r\nPING\r\n".to_vec()] },
                Action::Raw { chunks: vec![b"ababab\r\n".to_vec()] },
            ]
        );
    }

    #[test]
    fn read_sends_nothing_and_reads_n_replies() {
        assert_eq!(steps("@sorted @read 3\n"), vec![cmd(&[], Compare::Sorted, 3)]);
    }

    #[test]
    fn mistakes_are_reported_with_the_line() {
        for bad in [
            "GET \"k",
            "@bogus GET k",
            "@sorted @shape KEYS *",
            "@resp 4",
            "@sorted",
            "@sorted @flush",
            "@xfail @conn x",
            "@passes",
            "@sleep x",
            "@replies x GET",
            "@read 0",
            "@read",
            "@noreply @read 1",
        ] {
            let err = parse("f.redis", &format!("PING\n{bad}\n")).unwrap_err();
            assert!(err.starts_with("f.redis:2: "), "{bad}: {err}");
        }
    }
}
