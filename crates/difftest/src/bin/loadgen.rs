//! `loadgen`: the load scripts/bench.sh needs where redis-benchmark cannot express it — a unit of
//! several commands (MULTI … EXEC), or two groups of connections that feed each other (a BLPOP
//! ping-pong). Both servers of a comparison are driven by the same tool, so the ratio is fair.
//!
//! ```text
//! loadgen --port P [--host H] [-c CONNS] [-P UNITS] [-n UNITS] [-r RANGE]
//!         [--rate UNITS_PER_SEC] [--subscribers N --channel CH] --unit 'CMD;CMD;…' [--unit …]
//! ```
//! A unit is a `;`-separated list of commands (words split on spaces). Every `--unit` is a group
//! of CONNS connections; each connection sends P units back to back, reads all their replies,
//! and repeats. The run ends when the first group has completed N units; its rate is printed as
//! `units/s` on the last line. In a unit, `__rand_int__` becomes one random 12-digit number per
//! unit (the same in every command of the unit, so MULTI; SET k; GET k touches one key) and
//! `__conn__` the connection's index in its group, `__seq__` the connection's unit number
//! (1, 2, …: predictable stream IDs). `--subscribers N` adds N connections that SUBSCRIBE to CH
//! and read everything published, so PUBLISH is measured with real receivers.
//!
//! `--rate R` paces group 0 at R units a second in all (each connection sends its batches on a
//! fixed schedule) instead of as fast as the server answers: a load that leaves the server
//! headroom, so its latency shows stalls rather than queueing. A unit's latency runs from the
//! moment its batch was *due* to its last reply, so a stalled server is not excused by the
//! batches it kept from being sent (no coordinated omission). Group 0's latency percentiles
//! are printed (`latency_ms p50 p99 p999 max`) before the rate line.
//!
//! Any error reply fails the run (exit 1): a benchmark must never time error replies.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Options {
    host: String,
    port: u16,
    conns: usize,
    pipeline: usize,
    units: u64,
    range: u64,
    /// Units a second for group 0 in all; 0 = as fast as the server answers.
    rate: u64,
    groups: Vec<Vec<Vec<String>>>,
    subscribers: usize,
    channel: String,
}

const USAGE: &str = "usage: loadgen --port P [--host H] [-c CONNS] [-P UNITS] [-n UNITS] [-r RANGE] \
[--rate UNITS_PER_SEC] [--subscribers N --channel CH] --unit 'CMD;CMD' [--unit ...]";

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: 0,
        conns: 50,
        pipeline: 1,
        units: 100_000,
        range: 1_000_000,
        rate: 0,
        groups: Vec::new(),
        subscribers: 0,
        channel: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{arg}: not a number: {value}"));
        match arg.as_str() {
            "--host" => options.host = value.clone(),
            "--port" => options.port = number()? as u16,
            "-c" => options.conns = number()?.max(1) as usize,
            "-P" => options.pipeline = number()?.max(1) as usize,
            "-n" => options.units = number()?.max(1),
            "-r" => options.range = number()?.max(1),
            "--rate" => options.rate = number()?,
            "--unit" => options.groups.push(parse_unit(&value)?),
            "--subscribers" => options.subscribers = number()? as usize,
            "--channel" => options.channel = value.clone(),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.port == 0 || options.groups.is_empty() || (options.subscribers > 0 && options.channel.is_empty()) {
        return Err(USAGE.into());
    }
    Ok(options)
}

fn parse_unit(text: &str) -> Result<Vec<Vec<String>>, String> {
    let unit: Vec<Vec<String>> = text
        .split(';')
        .map(|command| command.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect();
    if unit.is_empty() {
        return Err(format!("empty unit: {text:?}"));
    }
    Ok(unit)
}

/// xorshift64*: enough randomness to spread keys, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Appends one unit, placeholders filled, as RESP arrays of bulk strings.
fn encode_unit(out: &mut Vec<u8>, unit: &[Vec<String>], random: u64, conn: usize, seq: u64) {
    let random = format!("{random:012}");
    let conn = conn.to_string();
    let seq = seq.to_string();
    for command in unit {
        out.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for word in command {
            let word = word.replace("__rand_int__", &random).replace("__conn__", &conn).replace("__seq__", &seq);
            out.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
            out.extend_from_slice(word.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Length of the first complete RESP2 reply in `buf` and whether it is an error, or None when
/// more bytes are needed. Errors nested in an EXEC array count as errors too.
fn reply_len(buf: &[u8]) -> Result<Option<(usize, bool)>, String> {
    let Some(line_end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let header = &buf[1..line_end];
    let after = line_end + 2;
    let number = || -> Result<i64, String> {
        std::str::from_utf8(header)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad reply header {:?}", String::from_utf8_lossy(header)))
    };
    match buf.first() {
        Some(b'+') | Some(b':') => Ok(Some((after, false))),
        Some(b'-') => Ok(Some((after, true))),
        Some(b'$') => {
            let len = number()?;
            if len < 0 {
                return Ok(Some((after, false)));
            }
            let end = after + len as usize + 2;
            Ok((buf.len() >= end).then_some((end, false)))
        }
        Some(b'*') => {
            let count = number()?;
            let (mut at, mut error) = (after, false);
            for _ in 0..count.max(0) {
                match reply_len(&buf[at..])? {
                    Some((len, nested_error)) => {
                        at += len;
                        error |= nested_error;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((at, error)))
        }
        _ => Err(format!("unexpected reply byte {:?}", buf.first().map(|b| *b as char))),
    }
}

struct Shared {
    done: AtomicBool,
    units: AtomicU64,
    target: u64,
    /// Group 0's unit latencies in microseconds, appended by each connection at its end.
    latencies_us: Mutex<Vec<u32>>,
}

/// The `q` quantile (0..=1) of sorted `values`, in milliseconds.
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index] as f64 / 1000.0
}

/// One connection's loop: send P units, read their replies, count, until the run is done.
fn drive(options: &Options, group: usize, conn: usize, shared: &Shared) -> Result<(), String> {
    let unit = &options.groups[group];
    let mut stream = TcpStream::connect((options.host.as_str(), options.port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((group as u64) << 32 | conn as u64 + 1));
    let mut out = Vec::new();
    let mut inbuf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut seq = 0;
    let mut latencies_us = Vec::new();
    // A paced connection's share of the rate, as the interval between its batches.
    let interval = (group == 0 && options.rate > 0)
        .then(|| Duration::from_secs_f64(options.pipeline as f64 * options.conns as f64 / options.rate as f64));
    let started = Instant::now();
    let mut batches = 0u32;
    // Only group 0 stops at the end: a partner group (the other side of a ping-pong) that stopped
    // early could leave a group-0 connection waiting forever; partners die with the process.
    while group != 0 || !shared.done.load(Ordering::Relaxed) {
        out.clear();
        for _ in 0..options.pipeline {
            seq += 1;
            encode_unit(&mut out, unit, rng.below(options.range), conn, seq);
        }
        let due = match interval {
            Some(interval) => {
                let due = started + interval * batches;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                due
            }
            None => Instant::now(),
        };
        batches += 1;
        stream.write_all(&out).map_err(|e| format!("write: {e}"))?;
        let mut pending = options.pipeline * unit.len();
        while pending > 0 {
            match reply_len(&inbuf)? {
                Some((len, error)) => {
                    if error {
                        return Err(format!("error reply: {}", String::from_utf8_lossy(&inbuf[..len]).trim_end()));
                    }
                    inbuf.drain(..len);
                    pending -= 1;
                    if group == 0 && pending % unit.len() == 0 {
                        latencies_us.push(due.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                }
                None => match stream.read(&mut chunk) {
                    Ok(0) => return Err("server closed the connection".into()),
                    Ok(n) => inbuf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("read: {e}")),
                },
            }
        }
        if group == 0 {
            let total = shared.units.fetch_add(options.pipeline as u64, Ordering::Relaxed) + options.pipeline as u64;
            if total >= shared.target {
                shared.done.store(true, Ordering::Relaxed);
            }
        }
    }
    shared.latencies_us.lock().unwrap_or_else(|e| e.into_inner()).append(&mut latencies_us);
    Ok(())
}

/// A subscriber: SUBSCRIBE, wait for the confirmation, then signal readiness and read (and
/// drop) whatever arrives until the process ends.
fn subscribe(options: &Options, ready: std::sync::mpsc::Sender<Result<(), String>>) {
    let setup = || -> Result<TcpStream, String> {
        let mut stream =
            TcpStream::connect((options.host.as_str(), options.port)).map_err(|e| format!("connect: {e}"))?;
        let mut command = Vec::new();
        encode_unit(&mut command, &[vec!["SUBSCRIBE".into(), options.channel.clone()]], 0, 0, 0);
        stream.write_all(&command).map_err(|e| format!("write: {e}"))?;
        let mut inbuf = Vec::new();
        let mut chunk = [0u8; 4096];
        while reply_len(&inbuf)?.is_none() {
            let n = stream.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("server closed the subscriber".into());
            }
            inbuf.extend_from_slice(&chunk[..n]);
        }
        Ok(stream)
    };
    match setup() {
        Ok(mut stream) => {
            let _ = ready.send(Ok(()));
            let mut chunk = vec![0u8; 256 * 1024];
            while matches!(stream.read(&mut chunk), Ok(n) if n > 0) {}
        }
        Err(message) => {
            let _ = ready.send(Err(message));
        }
    }
}

fn main() -> std::process::ExitCode {
    let options = match parse_args() {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    let shared = Arc::new(Shared {
        done: AtomicBool::new(false),
        units: AtomicU64::new(0),
        target: options.units,
        latencies_us: Mutex::new(Vec::new()),
    });
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for _ in 0..options.subscribers {
        let (options, ready) = (options.clone(), ready_tx.clone());
        std::thread::spawn(move || subscribe(&options, ready));
    }
    for _ in 0..options.subscribers {
        if let Ok(Err(message)) | Err(message) = ready_rx.recv().map_err(|e| e.to_string()) {
            eprintln!("loadgen: subscriber: {message}");
            return std::process::ExitCode::from(1);
        }
    }
    let start = Instant::now();
    let mut threads = Vec::new();
    for group in 0..options.groups.len() {
        for conn in 0..options.conns {
            let (options, shared) = (options.clone(), shared.clone());
            threads.push((group, std::thread::spawn(move || drive(&options, group, conn, &shared))));
        }
    }
    // Group 0 decides the end; the others (ping-pong partners) may be blocked in a read, so only
    // group 0's threads are joined before the rate is taken.
    let mut failed = false;
    for (group, thread) in threads {
        if group != 0 {
            continue;
        }
        let outcome = thread.join().unwrap_or_else(|_| Err("connection thread panicked".into()));
        if let Err(message) = outcome {
            eprintln!("loadgen: {message}");
            failed = true;
            shared.done.store(true, Ordering::Relaxed);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let units = shared.units.load(Ordering::Relaxed);
    let mut latencies = std::mem::take(&mut *shared.latencies_us.lock().unwrap_or_else(|e| e.into_inner()));
    latencies.sort_unstable();
    println!(
        "latency_ms p50 p99 p999 max: {:.3} {:.3} {:.3} {:.3}",
        quantile_ms(&latencies, 0.5),
        quantile_ms(&latencies, 0.99),
        quantile_ms(&latencies, 0.999),
        quantile_ms(&latencies, 1.0)
    );
    println!("units: {units}, seconds: {seconds:.3}");
    println!("{:.2}", units as f64 / seconds);
    if failed {
        return std::process::ExitCode::from(1);
    }
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_len_waits_for_whole_nested_replies() {
        assert_eq!(reply_len(b"+OK\r\n").unwrap(), Some((5, false)));
        assert_eq!(reply_len(b"$3\r\nab").unwrap(), None);
        assert_eq!(reply_len(b"*2\r\n:1\r\n$-1\r\n").unwrap(), Some((13, false)));
        assert_eq!(reply_len(b"*2\r\n:1\r\n-ERR x\r\n").unwrap(), Some((16, true)));
        assert_eq!(reply_len(b"*2\r\n:1\r\n").unwrap(), None);
        assert!(reply_len(b"!x\r\n").is_err());
    }

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(quantile_ms(&sorted, 0.5), 50.0);
        assert_eq!(quantile_ms(&sorted, 0.99), 99.0);
        assert_eq!(quantile_ms(&sorted, 1.0), 100.0);
        assert_eq!(quantile_ms(&sorted[..1], 0.99), 1.0);
        assert_eq!(quantile_ms(&[], 0.99), 0.0);
    }

    #[test]
    fn unit_placeholders_share_one_random_number() {
        let mut out = Vec::new();
        encode_unit(
            &mut out,
            &parse_unit("SET k:__rand_int__ v;GET k:__rand_int__ __conn__-__seq__").unwrap(),
            7,
            3,
            9,
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("k:000000000007").count(), 2);
        assert!(text.contains("3-9"));
    }
}
