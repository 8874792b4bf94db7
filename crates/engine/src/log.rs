//! Redis-style log lines (`pid:M 25 Nov 2026 14:43:55.123 * message`), honouring `loglevel`
//! and `logfile`. The engine logs through here; the binary configures the sink.

use std::io::Write;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

struct Sink {
    level: Level,
    file: Option<std::fs::File>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink { level: Level::Notice, file: None });

/// Sets the minimum level and the log file (None: standard output).
pub fn configure(level: Level, file: Option<std::fs::File>) {
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    sink.level = level;
    sink.file = file;
}

pub fn level_from_name(name: &str) -> Level {
    match name {
        "debug" => Level::Debug,
        "verbose" => Level::Verbose,
        "warning" => Level::Warning,
        _ => Level::Notice,
    }
}

/// Formats the current time as Redis does: `25 Nov 2026 14:43:55.123`.
pub fn timestamp() -> String {
    let ms = crate::util::time::now_ms();
    let secs = ms / 1000;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: localtime_r fills `tm` from `t`.
    unsafe { libc::localtime_r(&t, &mut tm) };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms % 1000
    )
}

/// Writes a line at `level` (role M: the main process).
pub fn log(level: Level, message: &str) {
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if level < sink.level {
        return;
    }
    let mark = match level {
        Level::Debug => '.',
        Level::Verbose => '-',
        Level::Notice => '*',
        Level::Warning => '#',
    };
    let line = format!("{}:M {} {} {}\n", std::process::id(), timestamp(), mark, message);
    match &mut sink.file {
        Some(f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

/// Writes raw text (the banner) if the level allows notices.
pub fn raw(text: &str) {
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if Level::Notice < sink.level {
        return;
    }
    match &mut sink.file {
        Some(f) => {
            let _ = f.write_all(text.as_bytes());
        }
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
}

pub fn notice(m: &str) {
    log(Level::Notice, m);
}

pub fn warning(m: &str) {
    log(Level::Warning, m);
}

pub fn verbose(m: &str) {
    log(Level::Verbose, m);
}
