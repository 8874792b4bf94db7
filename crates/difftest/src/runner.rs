//! Runs scripts against both servers and compares what they send back.
//!
//! Every step runs on redis-server and on Spinel at the same time (a thread each), on
//! connections of the same name, so the two servers see the same sequence of requests. A script runs once per protocol pass
//! (RESP2, then RESP3 with `HELLO 3` sent on every new connection), each pass on fresh
//! connections after `FLUSHALL`. A mismatch is reported with the script line and both replies;
//! the run continues, so one report lists every difference (later lines may differ only
//! because state diverged: fix the first one first).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::raw::{self, Node};
use crate::script::{Action, Compare, Script, Step};
use crate::server::{reply_timeout, Conn, Reply, Server};

/// How long a raw exchange may stay silent before it is considered over.
const RAW_QUIET: Duration = Duration::from_millis(100);
/// How long to watch for an unexpected reply after a `@noreply` command.
const NOREPLY_WAIT: Duration = Duration::from_millis(100);

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub verbose: bool,
    /// Print whole replies however long.
    pub full: bool,
    /// Run only this protocol pass.
    pub only_pass: Option<u8>,
}

/// Counts for the final summary.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub compared: usize,
    pub mismatches: usize,
    pub xfail: usize,
    pub xpass: usize,
    pub errors: usize,
}

impl Totals {
    pub fn failed(&self) -> bool {
        self.mismatches + self.xpass + self.errors > 0
    }
}

/// One server's side of the run.
pub struct Side {
    pub server: Server,
    conns: HashMap<String, Conn>,
    control: Option<Conn>,
}

impl Side {
    pub fn new(server: Server) -> Side {
        Side { server, conns: HashMap::new(), control: None }
    }

    /// A housekeeping command on the tool's own connection.
    fn control(&mut self, args: &[&[u8]]) -> Result<Vec<u8>, String> {
        if self.control.as_ref().is_none_or(|c| c.closed) {
            self.control = Some(Conn::open(self.server.addr).map_err(|e| format!("connect: {e}"))?);
        }
        let Some(conn) = self.control.as_mut() else { return Err("no control connection".into()) };
        conn.command(args)
    }

    /// The named connection, opened (in protocol `resp`) if it is new or was closed.
    fn conn(&mut self, name: &str, resp: u8) -> Result<&mut Conn, String> {
        if self.conns.get(name).is_none_or(|c| c.closed) {
            let mut conn = Conn::open(self.server.addr).map_err(|e| format!("cannot connect: {e}"))?;
            if resp == 3 {
                let hello = conn.command(&[b"HELLO", b"3"])?;
                if !hello.starts_with(b"%") {
                    return Err(format!("HELLO 3 on a new connection replied {}", raw::escape(&hello)));
                }
            }
            self.conns.insert(name.to_string(), conn);
        }
        self.conns.get_mut(name).ok_or_else(|| "no connection".to_string())
    }
}

pub struct Runner {
    pub sides: [Side; 2],
    pub workdir: PathBuf,
    pub options: Options,
    pub totals: Totals,
}

/// What happened to one step on both servers.
struct Observed {
    replies: [Vec<Reply>; 2],
    /// Set when the step cannot be compared (connection failed, server died).
    error: Option<String>,
}

impl Runner {
    /// Runs every pass of a script; returns the number of failures it caused.
    pub fn run_script(&mut self, script: &Script) -> usize {
        let before = self.totals.clone();
        let mut summary = Vec::new();
        for &pass in &script.passes {
            if self.options.only_pass.is_some_and(|p| p != pass) {
                continue;
            }
            let compared = self.totals.compared;
            self.run_pass(script, pass);
            summary.push(format!("RESP{pass}: {}", self.totals.compared - compared));
        }
        let failures = (self.totals.mismatches - before.mismatches)
            + (self.totals.xpass - before.xpass)
            + (self.totals.errors - before.errors);
        let xfail = self.totals.xfail - before.xfail;
        let status = if failures > 0 { "FAIL" } else { "ok  " };
        let xfail_note = if xfail > 0 { format!(", {xfail} known differences (@xfail)") } else { String::new() };
        println!("{status} {} ({} compared{xfail_note})", script.name, summary.join(", "));
        failures
    }

    fn run_pass(&mut self, script: &Script, pass: u8) {
        for side in &mut self.sides {
            side.conns.clear();
            if let Some(status) = side.server.exited() {
                eprintln!("{} had exited ({status}); restarting it\n{}", side.server.label, side.server.log_tail());
                if let Err(e) = side.server.restart(&self.workdir) {
                    eprintln!("cannot restart {}: {e}", side.server.label);
                }
            }
        }
        if let Err(e) = self.flush() {
            self.error(script, None, pass, &format!("FLUSHALL before the pass failed: {e}"));
            return;
        }
        let mut current = "main".to_string();
        let mut protocols: HashMap<String, u8> = HashMap::new();
        for step in &script.steps {
            if step.only_pass.is_some_and(|p| p != pass) {
                continue;
            }
            let resp = *protocols.get(&current).unwrap_or(&pass);
            let observed = match &step.action {
                Action::Flush => {
                    if let Err(e) = self.flush() {
                        self.error(script, Some(step), pass, &format!("@flush failed: {e}"));
                    }
                    continue;
                }
                Action::Conn(name) => {
                    current = name.clone();
                    continue;
                }
                Action::Sleep(ms) => {
                    std::thread::sleep(Duration::from_millis(*ms));
                    continue;
                }
                Action::Resp(v) => {
                    protocols.insert(current.clone(), *v);
                    let v = v.to_string();
                    self.exchange(&current, resp, |c| {
                        c.send(&spinel_resp::Frame::command([&b"HELLO"[..], v.as_bytes()]));
                        vec![c.read_reply(reply_timeout())]
                    })
                }
                Action::Command { args, compare, replies } => {
                    let request = spinel_resp::Frame::command(args);
                    let (compare, replies) = (*compare, *replies);
                    self.exchange(&current, resp, |c| {
                        // `@read N` has no arguments: nothing to send.
                        if !args.is_empty() {
                            c.send(&request);
                        }
                        if compare == Compare::NoReply {
                            let (bytes, closed) = c.read_until_quiet(NOREPLY_WAIT, NOREPLY_WAIT);
                            return if bytes.is_empty() && !closed { vec![] } else { vec![Reply::Closed(bytes)] };
                        }
                        (0..replies).map(|_| c.read_reply(reply_timeout())).collect()
                    })
                }
                Action::Raw { chunks } => self.exchange(&current, resp, |c| {
                    for (i, chunk) in chunks.iter().enumerate() {
                        if i > 0 {
                            std::thread::sleep(Duration::from_millis(30));
                        }
                        c.send(chunk);
                    }
                    let (bytes, closed) = c.read_until_quiet(RAW_QUIET, reply_timeout());
                    vec![if closed { Reply::Closed(bytes) } else { Reply::Frame(bytes) }]
                }),
            };
            let compare = match &step.action {
                Action::Command { compare, .. } => *compare,
                Action::Resp(_) => Compare::Shape,
                _ => Compare::Exact,
            };
            self.judge(script, step, pass, compare, observed);
            if self.restart_dead(script, step, pass) {
                return;
            }
        }
    }

    /// Runs `io` on the named connection of both servers at once (one thread each), so both
    /// see a request at the same moment and waits for silence overlap.
    fn exchange(&mut self, name: &str, resp: u8, io: impl Fn(&mut Conn) -> Vec<Reply> + Sync) -> Observed {
        let run = |side: &mut Side| -> Result<Vec<Reply>, String> {
            let label = side.server.label;
            side.conn(name, resp).map(&io).map_err(|e| format!("{label}: {e}"))
        };
        let [redis, spinel] = &mut self.sides;
        let (a, b) = std::thread::scope(|scope| {
            let other = scope.spawn(|| run(spinel));
            let first = run(redis);
            let second = other.join().unwrap_or_else(|_| Err("spinel: the reading thread panicked".into()));
            (first, second)
        });
        let error = [&a, &b].iter().find_map(|r| r.as_ref().err().cloned());
        Observed { replies: [a.unwrap_or_default(), b.unwrap_or_default()], error }
    }

    fn flush(&mut self) -> Result<(), String> {
        for side in &mut self.sides {
            let reply = side.control(&[b"FLUSHALL"]).map_err(|e| format!("{}: {e}", side.server.label))?;
            if reply != b"+OK\r\n" {
                return Err(format!("{}: FLUSHALL replied {}", side.server.label, raw::escape(&reply)));
            }
        }
        Ok(())
    }

    /// After a step: if a server we started has died, report it, restart it and end the pass.
    fn restart_dead(&mut self, script: &Script, step: &Step, pass: u8) -> bool {
        let mut died = false;
        for i in 0..2 {
            if let Some(status) = self.sides[i].server.exited() {
                let side = &mut self.sides[i];
                let message =
                    format!("{} exited ({status}) after this step\n{}", side.server.label, side.server.log_tail());
                if let Err(e) = side.server.restart(&self.workdir) {
                    eprintln!("cannot restart {}: {e}", side.server.label);
                }
                self.error(script, Some(step), pass, &message);
                died = true;
            }
        }
        died
    }

    fn error(&mut self, script: &Script, step: Option<&Step>, pass: u8, message: &str) {
        self.totals.errors += 1;
        let line = step.map(|s| s.line).unwrap_or(0);
        println!("ERROR {}:{line} [RESP{pass}]", script.name);
        if let Some(step) = step {
            println!("  line:   {}", step.text);
        }
        println!("  {message}");
    }

    fn judge(&mut self, script: &Script, step: &Step, pass: u8, compare: Compare, observed: Observed) {
        if let Some(e) = observed.error {
            self.error(script, Some(step), pass, &e);
            return;
        }
        let [redis, spinel] = &observed.replies;
        self.totals.compared += 1;
        let same = comparable(redis, compare) == comparable(spinel, compare);
        if self.options.verbose {
            println!("{}:{} [RESP{pass}] {}", script.name, step.line, step.text);
            println!("  redis:  {}", show(redis, self.options.full));
            if !same {
                println!("  spinel: {}", show(spinel, self.options.full));
            }
        }
        match (same, step.xfail_in(pass)) {
            (true, false) => {}
            (false, true) => {
                self.totals.xfail += 1;
                if self.options.verbose {
                    println!("  (known difference, @xfail)");
                }
            }
            (true, true) => {
                self.totals.xpass += 1;
                println!("XPASS {}:{} [RESP{pass}] now matches: remove @xfail", script.name, step.line);
                println!("  line:   {}", step.text);
            }
            (false, false) => {
                self.totals.mismatches += 1;
                println!("MISMATCH {}:{} [RESP{pass}] ({})", script.name, step.line, mode_name(compare));
                println!("  line:   {}", step.text);
                let (a, b) = (show(redis, true), show(spinel, true));
                let (a, b) = if self.options.full { (a, b) } else { window(&a, &b) };
                println!("  redis:  {a}");
                println!("  spinel: {b}");
                if matches!(compare, Compare::Shape | Compare::Type | Compare::Sorted) {
                    println!("  compared as: redis {}", shown_comparable(redis, compare));
                    println!("               spinel {}", shown_comparable(spinel, compare));
                }
            }
        }
    }
}

fn mode_name(compare: Compare) -> &'static str {
    match compare {
        Compare::Exact => "exact bytes",
        Compare::Sorted => "sorted elements",
        Compare::Shape => "shape only",
        Compare::Type => "type only",
        Compare::NoReply => "no reply expected",
    }
}

/// The replies as compared under a mode (frames transformed, other outcomes as they are).
fn comparable(replies: &[Reply], compare: Compare) -> Vec<Reply> {
    replies
        .iter()
        .map(|r| match r {
            Reply::Frame(bytes) => Reply::Frame(transform(bytes, compare)),
            other => other.clone(),
        })
        .collect()
}

fn transform(bytes: &[u8], compare: Compare) -> Vec<u8> {
    let node: Option<Node> = raw::parse(bytes).ok().flatten().map(|(n, _)| n);
    match (compare, node) {
        (Compare::Sorted, Some(n)) => n.sorted().bytes(),
        (Compare::Shape, Some(n)) => n.shape().into_bytes(),
        (Compare::Type, Some(n)) => vec![n.kind],
        _ => bytes.to_vec(),
    }
}

fn shown_comparable(replies: &[Reply], compare: Compare) -> String {
    comparable(replies, compare).iter().map(Reply::describe).collect::<Vec<_>>().join(" | ")
}

const SHOW_LIMIT: usize = 600;

fn show(replies: &[Reply], full: bool) -> String {
    if replies.is_empty() {
        return "<no reply>".into();
    }
    let text = replies.iter().map(Reply::describe).collect::<Vec<_>>().join(" | ");
    if full || text.len() <= SHOW_LIMIT * 2 {
        text
    } else {
        format!("{}… ({} chars)", &text[..floor_boundary(&text, SHOW_LIMIT)], text.len())
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Long replies cut around their first difference so the difference is visible.
fn window(a: &str, b: &str) -> (String, String) {
    if a.len() <= SHOW_LIMIT && b.len() <= SHOW_LIMIT {
        return (a.to_string(), b.to_string());
    }
    let first_diff = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let start = floor_boundary(a, first_diff.saturating_sub(SHOW_LIMIT / 3)).min(floor_boundary(b, first_diff));
    let cut = |s: &str| {
        let start = floor_boundary(s, start);
        let end = floor_boundary(s, start + SHOW_LIMIT);
        let prefix = if start > 0 { format!("…(from char {start}) ") } else { String::new() };
        let suffix = if end < s.len() { format!(" …({} chars)", s.len()) } else { String::new() };
        format!("{prefix}{}{suffix}", &s[start..end])
    };
    (cut(a), cut(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(list: &[&[u8]]) -> Vec<Reply> {
        list.iter().map(|b| Reply::Frame(b.to_vec())).collect()
    }

    #[test]
    fn modes_decide_what_counts_as_equal() {
        let keys_a = frames(&[b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"]);
        let keys_b = frames(&[b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"]);
        assert_ne!(comparable(&keys_a, Compare::Exact), comparable(&keys_b, Compare::Exact));
        assert_eq!(comparable(&keys_a, Compare::Sorted), comparable(&keys_b, Compare::Sorted));
        let time_a = frames(&[b"*2\r\n$10\r\n1700000000\r\n$6\r\n000001\r\n"]);
        let time_b = frames(&[b"*2\r\n$10\r\n1700000001\r\n$1\r\n9\r\n"]);
        assert_eq!(comparable(&time_a, Compare::Shape), comparable(&time_b, Compare::Shape));
        assert_ne!(comparable(&time_a, Compare::Shape), comparable(&keys_a[..1], Compare::Type));
        let info2 = frames(&[b"$3\r\nabc\r\n"]);
        let info3 = frames(&[b"=7\r\ntxt:abc\r\n"]);
        assert_ne!(comparable(&info2, Compare::Type), comparable(&info3, Compare::Type));
        // A closed connection never equals a reply, whatever the mode.
        assert_ne!(comparable(&[Reply::Closed(vec![])], Compare::Type), comparable(&info2, Compare::Type));
    }

    #[test]
    fn long_replies_are_cut_around_the_first_difference() {
        let a = format!("{}X{}", "a".repeat(2000), "b".repeat(2000));
        let b = format!("{}Y{}", "a".repeat(2000), "b".repeat(2000));
        let (wa, wb) = window(&a, &b);
        assert!(wa.contains('X') && wb.contains('Y'), "{wa}");
        assert!(wa.len() < 1000);
    }
}
