//! Spinel's network server: start-up like `redis-server` (command line, redis.conf, banner),
//! listeners, the connection loop, the cron, signals and shutdown.
//!
//! The engine is a plain synchronous value behind one mutex ([`shared`]). Connections are
//! tokio tasks on a single-threaded runtime by default (`io-threads 1`, as Redis), so the
//! lock is uncontended; with `io-threads N` they run on N threads and parse in parallel.

mod connection;
mod listener;
mod proxy;
mod replica_link;
mod shared;
mod stream;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use spinel_engine::config::{CommandLine, Config};
use spinel_engine::log;
use spinel_engine::server::{MemoryStats, Server};

pub use proxy::TestProxy;
pub use shared::{Shared, SharedRef};

/// Options the binary passes in (things only it can know, like the allocator).
#[derive(Default, Clone, Copy)]
pub struct Options {
    pub memory_probe: Option<fn() -> MemoryStats>,
    /// The allocator's statistics report (MEMORY MALLOC-STATS).
    pub malloc_stats: Option<fn() -> String>,
    /// Returns the allocator's free pages to the system (MEMORY PURGE).
    pub malloc_purge: Option<fn()>,
}

/// Stack size of the threads scripts run on: converting a deeply nested script reply
/// recurses once per Lua stack slot (up to Lua's 8000), as Redis does.
const SCRIPT_THREAD_STACK: usize = 16 << 20;

fn version_line() -> String {
    format!(
        "Spinel server v={} (Redis {} compatible) malloc=jemalloc-5.3.0 bits=64",
        spinel_engine::SPINEL_VERSION,
        spinel_engine::REDIS_VERSION
    )
}

fn usage() -> ! {
    eprintln!(
        "Usage: ./spinel [/path/to/redis.conf] [options] [-]\n       ./spinel - (read config from stdin)\n       ./spinel -v or --version\n       ./spinel -h or --help\n\nExamples:\n       ./spinel (run the server with default conf)\n       echo 'maxmemory 128mb' | ./spinel -\n       ./spinel /etc/redis/6379.conf\n       ./spinel --port 7777\n       ./spinel /etc/myredis.conf --loglevel verbose -\n       ./spinel /etc/myredis.conf --loglevel verbose\n"
    );
    std::process::exit(1);
}

/// Runs `spinel` with the process's command line.
pub fn main_with(options: Options) {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--proxy` (or SRH's SRH_MODE in the environment) runs only the REST gateway, in front
    // of other Redis servers.
    let proxy_flag = args.iter().any(|a| a == "--proxy");
    args.retain(|a| a != "--proxy");
    let proxy_mode = proxy_flag || std::env::var_os("SRH_MODE").is_some();
    let (config_file, read_stdin, cli_options) = match spinel_engine::config::parse_command_line(&args) {
        CommandLine::Version => {
            println!("{}", version_line());
            std::process::exit(0);
        }
        CommandLine::Help => usage(),
        CommandLine::TestMemory(_) | CommandLine::CheckSystem => {
            eprintln!("This option is not supported by Spinel.");
            std::process::exit(1);
        }
        CommandLine::Run { config_file, stdin, options } => (config_file, stdin, options),
    };
    let stdin_text = if read_stdin {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf);
        Some(buf)
    } else {
        None
    };
    let mut config = Config::new();
    config.set_hooks(spinel_engine::config::LoadHooks {
        check_user: Some(spinel_engine::acl::file::check_config_user),
        ..Default::default()
    });
    if config_file.is_none() && cli_options.is_empty() && !read_stdin && !proxy_mode {
        log::log(log::Level::Warning, "Warning: no config file specified, using the default config. In order to specify a config file use ./spinel /path/to/redis.conf");
    }
    let options_text = (!cli_options.is_empty()).then_some(cli_options.as_str());
    if let Err(e) =
        config.load_server_config(config_file.as_deref().map(Path::new), stdin_text.as_deref(), options_text)
    {
        if e.is_open_failure() {
            log::warning(e.message());
        } else {
            eprint!("{e}");
        }
        std::process::exit(1);
    }
    configure_logging(&config);
    if config.bool("daemonize") {
        daemonize();
    }
    log::warning("oO0OoO0OoO0Oo Spinel is starting oO0OoO0OoO0Oo");
    log::warning(&format!(
        "Spinel version={}, Redis compatibility={}, bits=64, pid={}, just started",
        spinel_engine::SPINEL_VERSION,
        spinel_engine::REDIS_VERSION,
        std::process::id()
    ));
    log::warning("Configuration loaded");
    let io_threads = config.int("io-threads").max(1) as usize;
    let runtime = match build_runtime(io_threads) {
        Ok(rt) => rt,
        Err(e) => {
            log::warning(&format!("Failed creating the event loop: {e}"));
            std::process::exit(1);
        }
    };
    // Spawned, so that the whole server runs on the runtime's worker threads (block_on would
    // run the future on this thread, beside the worker).
    let server = async move {
        if proxy_mode {
            proxy::run(config).await
        } else {
            run(config, options).await
        }
    };
    let code = runtime.block_on(async move { tokio::spawn(server).await.unwrap_or(1) });
    std::process::exit(code);
}

/// The event loop: a multi-threaded tokio runtime with `io-threads` workers — one by default,
/// so commands run on one thread as in Redis. Multi-threaded even then, because a script that
/// passes `busy-reply-threshold` hands its worker to a fresh thread with `block_in_place` (see
/// shared.rs) so the other clients get -BUSY; a current-thread runtime cannot do that.
fn build_runtime(io_threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads.max(1))
        .thread_stack_size(SCRIPT_THREAD_STACK)
        .enable_all()
        .build()
}

fn configure_logging(config: &Config) {
    let level = log::level_from_name(config.enum_name("loglevel"));
    let file = match config.string("logfile") {
        Some(path) if !path.is_empty() => match std::fs::OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("Can't open the log file: {e}");
                std::process::exit(1);
            }
        },
        _ => None,
    };
    log::configure(level, file);
}

/// Detaches from the terminal (`daemonize yes`), before any thread exists.
fn daemonize() {
    // SAFETY: called before the runtime starts any thread; the child continues alone.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("fork failed");
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// Starts listeners and background tasks, serves until shutdown; returns the exit code.
async fn run(config: Config, options: Options) -> i32 {
    let mut server = Server::new(config);
    if let Err(e) = spinel_engine::acl::file::load_at_startup(&mut server) {
        e.lines().for_each(log::warning);
        return 1;
    }
    server.memory_probe = options.memory_probe;
    server.malloc_stats = options.malloc_stats;
    server.malloc_purge = options.malloc_purge;
    let port = server.config.int("port") as u16;
    server.process.tcp_port = port;
    if server.config.bool("always-show-logo") {
        // Redis prints its logo here; tools (the Redis test suite among them) look for its
        // "Port:" and "PID:" lines.
        log::raw(&format!(
            "\n    Spinel {} (Redis {} compatible) 64 bit\n    Running in standalone mode\n    Port: {port}\n    PID: {}\n\n",
            spinel_engine::SPINEL_VERSION,
            spinel_engine::REDIS_VERSION,
            std::process::id()
        ));
    } else {
        log::notice(&format!("Running mode=standalone, port={port}."));
    }
    let tcp = if port != 0 {
        match listener::bind_tcp(server.config.bind_addrs(), port) {
            Ok(l) => l,
            Err(e) => {
                log::warning(&e);
                log::warning("Failed listening on port (tcp), aborting.");
                return 1;
            }
        }
    } else {
        Vec::new()
    };
    let unix_path = server.config.string("unixsocket").map(str::to_string);
    let unix = match &unix_path {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            match tokio::net::UnixListener::bind(path) {
                Ok(l) => {
                    let perm = server.config.int("unixsocketperm") as u32;
                    if perm != 0 {
                        use std::os::unix::fs::PermissionsExt;
                        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm));
                    }
                    Some((l, path.clone()))
                }
                Err(e) => {
                    log::warning(&format!("Failed opening Unix socket: {e}"));
                    return 1;
                }
            }
        }
        None => None,
    };
    if tcp.is_empty() && unix.is_none() {
        log::warning("Configured to not listen anywhere, exiting.");
        return 1;
    }
    let http = match bind_http(&server.config) {
        Ok(h) => h,
        // The default REST port being taken (several servers on one machine, as test suites
        // run them) is not worth refusing to start; a port asked for explicitly is.
        Err(e) if server.config.int("http-port") == DEFAULT_HTTP_PORT => {
            log::warning(&format!("{e}: the REST API is disabled (set http-port to choose another port)."));
            HttpListeners { listeners: Vec::new(), generated_token: String::new() }
        }
        Err(e) => {
            log::warning(&e);
            log::warning("Failed listening on the REST API port, aborting.");
            return 1;
        }
    };
    let pidfile = server
        .config
        .string("pidfile")
        .map(str::to_string)
        .or_else(|| server.config.bool("daemonize").then(|| "/var/run/redis.pid".to_string()));
    if let Some(path) = &pidfile {
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            log::warning(&format!("Failed to write PID file: {e}"));
        }
    }
    log::warning("Server initialized");
    if let Err(e) = spinel_engine::persist::aof::load::load_data_at_startup(&mut server) {
        log::warning(&e);
        return 1;
    }
    let shared = start(server, tcp, unix, http);
    log::notice("Ready to accept connections");
    wait_for_shutdown(&shared).await;
    if let Some(path) = &pidfile {
        let _ = std::fs::remove_file(path);
    }
    if let Some(path) = &unix_path {
        let _ = std::fs::remove_file(path);
    }
    log::warning("Spinel is now ready to exit, bye bye...");
    0
}

/// `http-port`'s default.
const DEFAULT_HTTP_PORT: i64 = 8079;

/// The REST API's listeners and the token to accept while `http-token` is unset.
struct HttpListeners {
    listeners: Vec<tokio::net::TcpListener>,
    generated_token: String,
}

/// Binds the REST API (`http-port`, `http-bind`; port 0 or an empty bind list turns it off)
/// and, when no `http-token` is configured, generates a token and logs it: the embedded
/// default works out of the box without being open to anyone.
fn bind_http(config: &Config) -> Result<HttpListeners, String> {
    let generated_token = spinel_http::auth::generate_token();
    let port = config.int("http-port") as u16;
    let bind = config.string("http-bind").unwrap_or_default().to_string();
    if port == 0 || bind.trim().is_empty() {
        return Ok(HttpListeners { listeners: Vec::new(), generated_token });
    }
    let listeners = spinel_http::bind(&bind, port)?;
    log::notice(&format!("REST API (Upstash-compatible) listening on {bind} port {port}."));
    if config.string("http-token").is_none_or(|t| t.trim().is_empty()) {
        log::warning(&format!(
            "No http-token configured: the REST API accepts the generated token {generated_token} (set http-token to choose one)."
        ));
    }
    Ok(HttpListeners { listeners, generated_token })
}

/// Shares the engine and spawns the accept loops and the cron on the current runtime.
fn start(
    mut server: Server,
    tcp: Vec<tokio::net::TcpListener>,
    unix: Option<(tokio::net::UnixListener, String)>,
    http: HttpListeners,
) -> SharedRef {
    server.used_memory_startup = spinel_engine::memory::used_memory(&server);
    let kick = Arc::new(tokio::sync::Notify::new());
    let waker = kick.clone();
    server.background_wake = Some(Arc::new(move || waker.notify_one()));
    let tcp_listeners = Arc::new(listener::TcpListeners::default());
    let engine = Arc::new(std::sync::OnceLock::new());
    server.rebind = Some(listener::rebind_hook(tcp_listeners.clone(), engine.clone()));
    let link_wake = replica_link::install(&mut server);
    // `replicaof` in the configuration: start as a replica of that master.
    if let Some((host, port)) = server.config.replicaof().map(|(h, p)| (h.to_string(), p)) {
        spinel_engine::replication::replica::set_master(&mut server, &host, port);
    }
    let shared = Shared::new(server);
    let _ = engine.set(Arc::downgrade(&shared));
    tcp_listeners.serve(&shared, tcp);
    tokio::spawn(background_loop(shared.clone(), kick));
    tokio::spawn(replica_link::run(shared.clone(), link_wake));
    if !http.listeners.is_empty() {
        let gateway = spinel_http::Gateway::local(shared.clone(), http.generated_token);
        for l in http.listeners {
            tokio::spawn(spinel_http::serve(l, gateway.clone()));
        }
    }
    if let Some((l, path)) = unix {
        tokio::spawn(listener::accept_unix(shared.clone(), l, path));
    }
    tokio::spawn(cron_loop(shared.clone()));
    tokio::spawn(eviction_loop(shared.clone()));
    shared
}

/// Redis's eviction time proc: while an eviction cycle that hit its time limit is pending,
/// runs one bounded round per scheduler pass (other connections get the engine in between);
/// otherwise checks the flag every millisecond without taking the lock.
async fn eviction_loop(shared: SharedRef) {
    loop {
        if spinel_engine::evict::round_pending() {
            spinel_engine::evict::continue_evictions(&mut *shared.lock_async().await);
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A server running on its own thread on an ephemeral loopback port, for tests.
pub struct TestServer {
    pub port: u16,
    /// The REST API's port (always on, on an ephemeral loopback port).
    pub http_port: u16,
    /// The token the REST API accepts while `http-token` is not configured.
    pub http_token: String,
    pub shared: SharedRef,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server configured by redis.conf-style `config` text (e.g. "save \"\"").
    /// Returns once it accepts connections.
    pub fn start(config: &str) -> TestServer {
        let mut cfg = Config::new();
        if let Err(e) = cfg.load_string(config) {
            panic!("bad test config: {e}");
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = build_runtime(1).expect("test runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind test port");
                let port = listener.local_addr().expect("local addr").port();
                let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind test http port");
                let http_port = http_listener.local_addr().expect("local addr").port();
                let token = spinel_http::auth::generate_token();
                let http = HttpListeners { listeners: vec![http_listener], generated_token: token.clone() };
                let mut server = Server::new(cfg);
                if let Err(e) = spinel_engine::acl::file::load_at_startup(&mut server) {
                    panic!("bad test ACL config: {e}");
                }
                server.process.tcp_port = port;
                // What CONFIG GET shows and what CONFIG SET port / bind rebinds from.
                let port_text = port.to_string();
                let _ = server.config.set(&[(b"port".as_slice(), port_text.as_bytes()), (b"bind", b"127.0.0.1")]);
                let shared = start(server, vec![listener], None, http);
                let _ = tx.send((port, http_port, token, shared.clone()));
                tokio::select! {
                    _ = stop_rx => {}
                    _ = shared.shutdown.notified() => {}
                }
            });
        });
        let (port, http_port, http_token, shared) = rx.recv().expect("test server started");
        TestServer { port, http_port, http_token, shared, stop: Some(stop_tx), thread: Some(thread) }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Drives background snapshots (BGSAVE, AOF rewrites): one short step under the engine lock,
/// then let clients run, until the walk is over (see `persist::snapshot`).
async fn background_loop(shared: SharedRef, kick: Arc<tokio::sync::Notify>) {
    use spinel_engine::persist::snapshot::{drive, Progress};
    loop {
        kick.notified().await;
        loop {
            let progress = drive(&mut *shared.lock_async().await);
            match progress {
                // Clients are active (or the writer is behind): wait for the next timer
                // tick (~1 ms), which lets every client run first.
                Progress::More | Progress::Waiting => tokio::time::sleep(Duration::from_micros(1)).await,
                // Idle server: yield_now defers this task until the runtime has polled its
                // sockets, so a client that arrived meanwhile runs before the next step.
                Progress::Again => tokio::task::yield_now().await,
                Progress::Idle => break,
            }
        }
    }
}

/// Runs the engine's cron `hz` times a second.
async fn cron_loop(shared: SharedRef) {
    let mut hz = shared.lock_async().await.tunables.hz.max(1);
    let mut tick = tokio::time::interval(Duration::from_millis((1000 / hz) as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let current = {
            let mut srv = shared.lock_async().await;
            spinel_engine::cron::run(&mut srv);
            if srv.shutdown.is_some() {
                shared.shutdown.notify_one();
            }
            srv.tunables.hz.max(1)
        };
        if current != hz {
            hz = current;
            tick = tokio::time::interval(Duration::from_millis((1000 / hz) as u64));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
    }
}

/// Waits for SHUTDOWN or SIGTERM/SIGINT. A signal saves first when save points are set (as
/// Redis does); if that fails the server keeps running, and a second SIGINT exits anyway.
async fn wait_for_shutdown(shared: &SharedRef) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut signals = 0;
    loop {
        let name = tokio::select! {
            _ = shared.shutdown.notified() => return,
            Some(_) = async { match term.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => "SIGTERM",
            Some(_) = async { match int.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => "SIGINT",
        };
        signals += 1;
        if signals > 1 && name == "SIGINT" {
            log::warning("You insist... exiting now.");
            return;
        }
        log::warning(&format!("Received {name} scheduling shutdown..."));
        let mut srv = shared.lock_async().await;
        log::warning("User requested shutdown...");
        let save = !srv.config.save_points().is_empty();
        if let Err(e) = spinel_engine::persist::prepare_shutdown(&mut srv, save) {
            log::warning(&format!("Error trying to save the DB, can't exit. ({e})"));
            continue;
        }
        return;
    }
}
