//! `difftest`: differential tests of Spinel against redis-server 7.0.15.
//!
//! Starts both servers (or uses running ones), runs command scripts against both over raw
//! sockets — once in RESP2, once after `HELLO 3` — and compares the reply bytes. The script
//! format is described in [`script`] and in tests/differential/README.md.
//!
//! ```text
//! difftest [options] FILE.redis...
//!   --spinel PATH        spinel binary to start (default target/release/spinel)
//!   --redis-server PATH  redis-server binary to start (default redis-server)
//!   --spinel-addr H:P    use a running Spinel instead of starting one
//!   --redis-addr H:P     use a running redis-server instead of starting one
//!   --ports A-B          ports to start servers on (default 21000-21999)
//!   --resp 2|3           run only that protocol pass
//!   -v, --verbose        print every command and reply
//!   --full               print whole replies in mismatch reports
//! ```
//! Exit status: 0 if everything matched, 1 on any mismatch or error, 2 on bad usage.

mod raw;
mod runner;
mod script;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use runner::{Options, Runner, Side};
use server::{Launch, PortRange, Server};

struct Args {
    spinel: PathBuf,
    redis_server: PathBuf,
    spinel_addr: Option<std::net::SocketAddr>,
    redis_addr: Option<std::net::SocketAddr>,
    ports: (u16, u16),
    options: Options,
    files: Vec<PathBuf>,
}

/// Arguments both servers start with (before `--port`): no save points, and DEBUG allowed from
/// local connections so scripts can use DEBUG DIGEST, RELOAD, SET-ACTIVE-EXPIRE, PROTOCOL.
const SERVER_ARGS: &[&str] = &["--save", "", "--enable-debug-command", "local"];

const USAGE: &str = "usage: difftest [--spinel PATH] [--redis-server PATH] [--spinel-addr HOST:PORT] \
[--redis-addr HOST:PORT] [--ports A-B] [--resp 2|3] [-v] [--full] FILE.redis...";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        spinel: PathBuf::from("target/release/spinel"),
        redis_server: PathBuf::from("redis-server"),
        spinel_addr: None,
        redis_addr: None,
        ports: (21000, 21999),
        options: Options::default(),
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--spinel" => args.spinel = value("--spinel")?.into(),
            "--redis-server" => args.redis_server = value("--redis-server")?.into(),
            "--spinel-addr" => args.spinel_addr = Some(addr(&value("--spinel-addr")?)?),
            "--redis-addr" => args.redis_addr = Some(addr(&value("--redis-addr")?)?),
            "--ports" => {
                let v = value("--ports")?;
                let range = v.split_once('-').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                match range {
                    Some((a, b)) if a <= b && a > 0 => args.ports = (a, b),
                    _ => return Err(format!("bad port range {v}")),
                }
            }
            "--resp" => match value("--resp")?.as_str() {
                "2" => args.options.only_pass = Some(2),
                "3" => args.options.only_pass = Some(3),
                other => return Err(format!("--resp 2 or 3, not {other}")),
            },
            "-v" | "--verbose" => args.options.verbose = true,
            "--full" => args.options.full = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            file => args.files.push(file.into()),
        }
    }
    if args.files.is_empty() {
        return Err("no script files given".into());
    }
    Ok(args)
}

fn addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    s.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| format!("bad address {s}"))
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.components().count() > 1 && path.is_relative() {
        std::env::current_dir().map(|d| d.join(&path)).unwrap_or(path)
    } else {
        path
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("difftest: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut scripts = Vec::new();
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("difftest: {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        match script::parse(&file.display().to_string(), &text) {
            Ok(s) => scripts.push(s),
            Err(e) => {
                eprintln!("difftest: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let workdir = std::env::temp_dir().join(format!("difftest-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&workdir) {
        eprintln!("difftest: {}: {e}", workdir.display());
        return ExitCode::FAILURE;
    }
    let code = match run(&args, &scripts, &workdir) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("difftest: {e}");
            ExitCode::FAILURE
        }
    };
    // Logs are kept only when something failed.
    if code == ExitCode::SUCCESS {
        let _ = std::fs::remove_dir_all(&workdir);
    } else {
        println!("server logs: {}", workdir.display());
    }
    code
}

fn run(args: &Args, scripts: &[script::Script], workdir: &std::path::Path) -> Result<bool, String> {
    let mut ports = PortRange::new(args.ports.0, args.ports.1);
    let redis = match args.redis_addr {
        Some(a) => Server::external("redis", a),
        None => Server::start(
            Launch {
                label: "redis",
                program: absolute(args.redis_server.clone()),
                args: SERVER_ARGS.iter().chain(["--appendonly", "no"].iter()).map(|s| s.to_string()).collect(),
            },
            &mut ports,
            workdir,
        )?,
    };
    let spinel = match args.spinel_addr {
        Some(a) => Server::external("spinel", a),
        None => Server::start(
            Launch {
                label: "spinel",
                program: absolute(args.spinel.clone()),
                args: SERVER_ARGS.iter().map(|s| s.to_string()).collect(),
            },
            &mut ports,
            workdir,
        )?,
    };
    println!("redis-server on {}, spinel on {}", redis.addr, spinel.addr);
    let mut runner = Runner {
        sides: [Side::new(redis), Side::new(spinel)],
        workdir: workdir.to_path_buf(),
        options: args.options.clone(),
        totals: Default::default(),
    };
    for script in scripts {
        runner.run_script(script);
    }
    let t = &runner.totals;
    println!(
        "\n{} files, {} replies compared: {} mismatches, {} errors, {} known differences (@xfail), {} fixed (XPASS)",
        scripts.len(),
        t.compared,
        t.mismatches,
        t.errors,
        t.xfail,
        t.xpass
    );
    Ok(!t.failed())
}
