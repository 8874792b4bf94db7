//! What the rest of the server can see of a running script without taking the engine lock.
//!
//! A script holds the engine lock for as long as it runs. Connections
//! that find the lock taken look at this [`ScriptWatch`]: before `busy-reply-threshold` they
//! wait; after it (the script "timed out") they answer `-BUSY` themselves and serve the few
//! commands Redis allows during a busy script (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS,
//! SHUTDOWN NOSAVE, QUIT) from this state alone. See docs/ARCHITECTURE.md (concurrency).
//!
//! The state word is updated with compare-and-swap so that a kill and a write cannot both
//! win: SCRIPT KILL succeeds only if the script has not written, and once killed the script
//! may not start a write (the Lua hook raises the kill error at its next check).

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cmd::spec;
use crate::cmd::table::{CommandTable, Found};
use crate::error::{err, Error};
use crate::reply::Reply;

const RUNNING: u32 = 1;
const TIMEDOUT: u32 = 1 << 1;
const WROTE: u32 = 1 << 2;
const KILLED: u32 = 1 << 3;
const EVAL: u32 = 1 << 4;
const SHUTDOWN: u32 = 1 << 5;
/// The script was sent by a master (never killable); reserved for replica support.
const OBEY: u32 = 1 << 6;

pub const BUSY_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Called when a script times out or ends, so waiting connections look again.
pub type OnChange = Arc<dyn Fn() + Send + Sync>;

/// Facts about the running script for FUNCTION STATS.
#[derive(Default, Clone, Debug)]
struct RunningInfo {
    name: String,
    command: Vec<Vec<u8>>,
    start: Option<Instant>,
    libraries: usize,
    functions: usize,
}

#[derive(Default)]
pub struct ScriptWatch {
    state: AtomicU32,
    /// Threads that hold (or are about to hold) the engine for a script command.
    hops: AtomicUsize,
    info: Mutex<RunningInfo>,
    on_change: Mutex<Option<OnChange>>,
    /// Called on the script's own thread when it times out, before the others are told: the
    /// network layer uses it to free the runtime the script is running on.
    on_timeout: Mutex<Option<OnChange>>,
    /// Whether a new connection must authenticate (requirepass), as of the script start:
    /// connections accepted during a busy script are answered before they are registered.
    requirepass: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ScriptWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptWatch").field("state", &self.state.load(Ordering::Relaxed)).finish()
    }
}

/// What a connection does with a request while a script is busy.
#[derive(Debug)]
pub enum BusyOutcome {
    /// Send this reply (an error is also counted once the engine is free again).
    Reply(Reply, Option<Rejection>),
    /// Send this reply, then close the connection (QUIT).
    Close(Reply),
    /// SHUTDOWN NOSAVE: the script is being killed and the server stops.
    Shutdown,
    /// The command needs the engine: wait for the script to end before running it.
    Wait,
}

/// A rejected command to record in the stats once the engine is free (Redis's
/// rejectCommand): its commandstats entry, the error code, and whether it was queued in
/// a transaction (which must then fail).
#[derive(Debug, Clone)]
pub struct Rejection {
    pub cmd_id: Option<usize>,
    pub code: String,
}

impl ScriptWatch {
    pub fn set_on_change(&self, f: OnChange) {
        *self.info_lock_change() = Some(f);
    }

    /// Sets what runs on the script's thread when it passes the busy threshold.
    pub fn set_on_timeout(&self, f: OnChange) {
        *self.on_timeout.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }

    fn info_lock_change(&self) -> std::sync::MutexGuard<'_, Option<OnChange>> {
        self.on_change.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        let f = self.info_lock_change().clone();
        if let Some(f) = f {
            f();
        }
    }

    fn info(&self) -> std::sync::MutexGuard<'_, RunningInfo> {
        self.info.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A thread is about to run a script command with the engine lock.
    pub fn hop_start(&self) {
        self.hops.fetch_add(1, Ordering::SeqCst);
    }

    /// That thread released the engine lock (the caller wakes the tasks waiting for it).
    pub fn hop_end(&self) {
        self.hops.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether the engine lock is (or will be) held by a script thread.
    pub fn hopping(&self) -> bool {
        self.hops.load(Ordering::SeqCst) > 0
    }

    /// A script starts running.
    pub fn start(&self, eval: bool, requirepass: bool) {
        self.requirepass.store(requirepass, Ordering::SeqCst);
        self.state.store(RUNNING | if eval { EVAL } else { 0 }, Ordering::SeqCst);
    }

    /// The script ended.
    pub fn end(&self) {
        let was = self.state.swap(0, Ordering::SeqCst);
        if was & TIMEDOUT != 0 {
            *self.info() = RunningInfo::default();
            self.notify();
        }
    }

    /// The script ran past `busy-reply-threshold`: other clients now get -BUSY. What FUNCTION
    /// STATS shows about it is recorded now, not at every start: only a busy script can be
    /// asked about.
    pub fn enter_timedout(&self, name: &str, command: &[&[u8]], started: Instant, libraries: usize, functions: usize) {
        *self.info() = RunningInfo {
            name: name.to_string(),
            command: command.iter().map(|a| a.to_vec()).collect(),
            start: Some(started),
            libraries,
            functions,
        };
        self.state.fetch_or(TIMEDOUT, Ordering::SeqCst);
        let on_timeout = self.on_timeout.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(f) = on_timeout {
            f();
        }
        self.notify();
    }

    /// Whether a client that has not authenticated yet must (requirepass is set).
    pub fn requirepass(&self) -> bool {
        self.requirepass.load(Ordering::SeqCst)
    }

    pub fn is_running(&self) -> bool {
        self.state.load(Ordering::SeqCst) & RUNNING != 0
    }

    pub fn is_timedout(&self) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        s & RUNNING != 0 && s & TIMEDOUT != 0
    }

    pub fn is_eval(&self) -> bool {
        self.state.load(Ordering::SeqCst) & EVAL != 0
    }

    pub fn killed(&self) -> bool {
        self.state.load(Ordering::SeqCst) & KILLED != 0
    }

    /// Records that the script is about to write. Fails if it was killed (the write must not
    /// happen: the kill was acknowledged as safe).
    pub fn mark_write(&self) -> bool {
        let mut cur = self.state.load(Ordering::SeqCst);
        loop {
            if cur & KILLED != 0 {
                return false;
            }
            match self.state.compare_exchange(cur, cur | WROTE, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL, Redis's scriptKill.
    pub fn kill(&self, eval: bool) -> Result<(), Error> {
        let mut cur = self.state.load(Ordering::SeqCst);
        loop {
            if cur & RUNNING == 0 {
                return Err(err("NOTBUSY No scripts in execution right now."));
            }
            if cur & OBEY != 0 {
                return Err(err("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed."));
            }
            if cur & WROTE != 0 {
                return Err(err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."));
            }
            let is_eval = cur & EVAL != 0;
            if eval && !is_eval {
                return Err(err(BUSY_FUNCTION));
            }
            if !eval && is_eval {
                return Err(err(BUSY_EVAL));
            }
            match self.state.compare_exchange(cur, cur | KILLED, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return Ok(()),
                Err(now) => cur = now,
            }
        }
    }

    /// SHUTDOWN NOSAVE during a busy script: the script is stopped whatever it did.
    pub fn request_shutdown(&self) {
        self.state.fetch_or(KILLED | SHUTDOWN, Ordering::SeqCst);
    }

    /// Whether a SHUTDOWN NOSAVE arrived while the script ran (cleared by reading).
    pub fn take_shutdown(&self) -> bool {
        self.state.fetch_and(!SHUTDOWN, Ordering::SeqCst) & SHUTDOWN != 0
    }

    /// The busy error for the running script's kind.
    pub fn busy_error(&self) -> Error {
        err(if self.is_eval() { BUSY_EVAL } else { BUSY_FUNCTION })
    }

    /// FUNCTION STATS while a script runs.
    pub fn function_stats(&self) -> Reply {
        if self.is_eval() {
            return Reply::Error(err(BUSY_EVAL));
        }
        let info = self.info().clone();
        let running = Reply::Map(vec![
            (Reply::bulk_str("name"), Reply::bulk_str(&info.name)),
            (Reply::bulk_str("command"), Reply::bulks(&info.command)),
            (
                Reply::bulk_str("duration_ms"),
                Reply::Int(info.start.map(|s| s.elapsed().as_millis() as i64).unwrap_or(0)),
            ),
        ]);
        stats_reply(running, info.libraries, info.functions)
    }

    /// Redis's processCommand for a client while the script is busy, limited to what can be
    /// decided without the engine. `unauthenticated`: the client still owes a password.
    pub fn handle(&self, table: &'static CommandTable, args: &[&[u8]], unauthenticated: bool) -> BusyOutcome {
        let Some(&name) = args.first() else { return BusyOutcome::Reply(Reply::NoReply, None) };
        let cmd = match table.lookup(args) {
            Found::Command(cmd) => cmd,
            Found::UnknownSubcommand => {
                let e = Error::UnknownSubcommand {
                    sub: args[1].to_vec(),
                    command: String::from_utf8_lossy(name).into_owned(),
                };
                return rejected(None, e);
            }
            Found::Unknown => {
                let e =
                    Error::UnknownCommand { name: name.to_vec(), args: args[1..].iter().map(|a| a.to_vec()).collect() };
                return rejected(None, e);
            }
        };
        if !cmd.arity_ok(args.len()) {
            return rejected(Some(cmd.id), Error::WrongArity(cmd.fullname.to_string()));
        }
        if unauthenticated && cmd.flags & spec::NO_AUTH == 0 {
            return rejected(Some(cmd.id), Error::NoAuth);
        }
        if cmd.flags & spec::ALLOW_BUSY == 0 {
            return rejected(Some(cmd.id), self.busy_error());
        }
        match cmd.fullname {
            "script|kill" => reply_result(self.kill(true)),
            "function|kill" => reply_result(self.kill(false)),
            "function|stats" => BusyOutcome::Reply(self.function_stats(), None),
            "quit" => BusyOutcome::Close(Reply::Ok),
            "shutdown" => match shutdown_nosave(&args[1..]) {
                Ok(true) => {
                    self.request_shutdown();
                    BusyOutcome::Shutdown
                }
                Ok(false) => rejected(Some(cmd.id), self.busy_error()),
                Err(e) => rejected(Some(cmd.id), e),
            },
            _ => BusyOutcome::Wait,
        }
    }
}

fn rejected(cmd_id: Option<usize>, e: Error) -> BusyOutcome {
    let code = e.code();
    BusyOutcome::Reply(Reply::Error(e), Some(Rejection { cmd_id, code }))
}

fn reply_result(r: Result<(), Error>) -> BusyOutcome {
    match r {
        Ok(()) => BusyOutcome::Reply(Reply::Ok, None),
        Err(e) => {
            let code = e.code();
            BusyOutcome::Reply(Reply::Error(e), Some(Rejection { cmd_id: None, code }))
        }
    }
}

/// SHUTDOWN's options during a busy script: Ok(true) with NOSAVE, Ok(false) without.
fn shutdown_nosave(opts: &[&[u8]]) -> Result<bool, Error> {
    let (mut nosave, mut save) = (false, false);
    for o in opts {
        if o.eq_ignore_ascii_case(b"nosave") {
            nosave = true;
        } else if o.eq_ignore_ascii_case(b"save") {
            save = true;
        } else if o.eq_ignore_ascii_case(b"now") || o.eq_ignore_ascii_case(b"force") {
        } else if o.eq_ignore_ascii_case(b"abort") {
            return Err(err("ERR No shutdown in progress."));
        } else {
            return Err(Error::Syntax);
        }
    }
    if nosave && save {
        return Err(Error::Syntax);
    }
    Ok(nosave)
}

/// The FUNCTION STATS reply.
pub fn stats_reply(running: Reply, libraries: usize, functions: usize) -> Reply {
    Reply::Map(vec![
        (Reply::bulk_str("running_script"), running),
        (
            Reply::bulk_str("engines"),
            Reply::Map(vec![(
                Reply::bulk_str("LUA"),
                Reply::Map(vec![
                    (Reply::bulk_str("libraries_count"), Reply::Int(libraries as i64)),
                    (Reply::bulk_str("functions_count"), Reply::Int(functions as i64)),
                ]),
            )]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_and_write_exclude_each_other() {
        let w = ScriptWatch::default();
        assert!(w.kill(true).is_err());
        w.start(true, false);
        assert!(w.kill(false).is_err(), "FUNCTION KILL does not kill an eval");
        assert!(w.kill(true).is_ok());
        assert!(!w.mark_write(), "a killed script may not write");
        w.end();
        w.start(true, false);
        assert!(w.mark_write());
        let e = w.kill(true).unwrap_err();
        assert!(e.message().starts_with("UNKILLABLE"));
        w.request_shutdown();
        assert!(w.killed());
        assert!(w.take_shutdown());
        assert!(!w.take_shutdown());
    }
}
