//! The two servers under test and raw connections to them.
//!
//! A server is either started by the tool (on a free port of a given range, killed when the
//! tool exits — also if the tool itself is killed, through `PR_SET_PDEATHSIG`) or an address
//! given on the command line. Connections read replies frame by frame into a buffer and keep
//! the raw bytes.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::raw;

/// How to start a server: the program and its arguments before `--port`.
#[derive(Clone, Debug)]
pub struct Launch {
    pub label: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// A running server the tool talks to.
pub struct Server {
    pub label: &'static str,
    pub addr: SocketAddr,
    child: Option<Child>,
    launch: Option<Launch>,
    log: Option<PathBuf>,
}

/// Ports the tool may listen on, and which it has handed out already.
pub struct PortRange {
    pub first: u16,
    pub last: u16,
    next: u16,
}

impl PortRange {
    pub fn new(first: u16, last: u16) -> PortRange {
        // Start at a pid-dependent offset so parallel runs in one range rarely collide.
        let span = (last - first) as u32 + 1;
        let next = first + (std::process::id() % span) as u16;
        PortRange { first, last, next }
    }

    /// A port nothing listens on now (checked by binding it).
    pub fn free_port(&mut self) -> Result<u16, String> {
        let span = (self.last - self.first) as u32 + 1;
        for _ in 0..span {
            let port = self.next;
            self.next = if self.next >= self.last { self.first } else { self.next + 1 };
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
        Err(format!("no free port in {}-{}", self.first, self.last))
    }
}

impl Server {
    /// A server someone else runs.
    pub fn external(label: &'static str, addr: SocketAddr) -> Server {
        Server { label, addr, child: None, launch: None, log: None }
    }

    /// Starts a server and waits until it answers PING.
    pub fn start(launch: Launch, ports: &mut PortRange, workdir: &Path) -> Result<Server, String> {
        let mut last_error = String::new();
        // A port found free can be taken before the server binds it: try a few.
        for _ in 0..5 {
            let port = ports.free_port()?;
            let log = workdir.join(format!("{}-{port}.log", launch.label));
            let mut server = Server {
                label: launch.label,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                child: None,
                launch: Some(launch.clone()),
                log: Some(log),
            };
            match server.spawn(workdir) {
                Ok(()) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn spawn(&mut self, workdir: &Path) -> Result<(), String> {
        let (Some(launch), Some(log)) = (&self.launch, &self.log) else { return Err("not started by us".into()) };
        let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        // Each server in a directory of its own: DEBUG RELOAD, SAVE... write dump.rdb there.
        let dir = workdir.join(launch.label);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .arg("--port")
            .arg(self.addr.port().to_string())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", launch.program.display()))?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.exited() {
                return Err(format!("{} exited ({status}) during start-up:\n{}", self.label, self.log_tail()));
            }
            if let Ok(mut conn) = Conn::open(self.addr) {
                if conn.command(&[b"PING"]).ok().as_deref() == Some(b"+PONG\r\n") {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not answer PING on {}:\n{}", self.label, self.addr, self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status if the process we started has exited.
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Starts the server again after it died (reported by the caller), on the same port.
    pub fn restart(&mut self, workdir: &Path) -> Result<(), String> {
        self.stop();
        self.spawn(workdir)
    }

    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else { return String::new() };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", log.display())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What came back for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// One complete frame, its raw bytes.
    Frame(Vec<u8>),
    /// The server closed the connection; the bytes of an incomplete frame, if any.
    Closed(Vec<u8>),
    /// Nothing complete within the timeout.
    Timeout(Vec<u8>),
    /// Bytes that are not RESP.
    Invalid(Vec<u8>, String),
}

impl Reply {
    /// How the reply is shown in reports.
    pub fn describe(&self) -> String {
        match self {
            Reply::Frame(b) if b.is_empty() => "<nothing>".into(),
            Reply::Frame(b) => raw::escape(b),
            Reply::Closed(b) if b.is_empty() => "<connection closed>".into(),
            Reply::Closed(b) => format!("{} <connection closed>", raw::escape(b)),
            Reply::Timeout(b) => format!("{} <no reply within the timeout>", raw::escape(b)),
            Reply::Invalid(b, why) => format!("{} <not RESP: {why}>", raw::escape(b)),
        }
    }
}

/// Timeout for one reply; generous because a debug build may be slow.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A raw client connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pub closed: bool,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::new(), closed: false })
    }

    pub fn send(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// Sends a command as a multibulk array and reads one reply; an error if it is not one
    /// whole frame (for the tool's own housekeeping commands).
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Vec<u8>, String> {
        self.send(&spinel_resp::Frame::command(args));
        match self.read_reply(REPLY_TIMEOUT) {
            Reply::Frame(bytes) => Ok(bytes),
            other => Err(other.describe()),
        }
    }

    /// Reads one whole frame.
    pub fn read_reply(&mut self, timeout: Duration) -> Reply {
        let deadline = Instant::now() + timeout;
        loop {
            match raw::parse(&self.buf) {
                Ok(Some((_, used))) => return Reply::Frame(self.buf.drain(..used).collect()),
                Ok(None) => {}
                Err(raw::Invalid(why)) => {
                    self.closed = true;
                    return Reply::Invalid(std::mem::take(&mut self.buf), why);
                }
            }
            if self.closed {
                return Reply::Closed(std::mem::take(&mut self.buf));
            }
            let now = Instant::now();
            if now >= deadline {
                return Reply::Timeout(std::mem::take(&mut self.buf));
            }
            self.fill(deadline - now);
        }
    }

    /// Reads whatever arrives until the server closes the connection or sends nothing for
    /// `quiet`: returns the bytes and whether the connection was closed.
    pub fn read_until_quiet(&mut self, quiet: Duration, max: Duration) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + max;
        while !self.closed && Instant::now() < deadline {
            let before = self.buf.len();
            self.fill(quiet);
            if self.buf.len() == before && !self.closed {
                break;
            }
        }
        (std::mem::take(&mut self.buf), self.closed)
    }

    /// One read into the buffer with a timeout; false if nothing arrived.
    fn fill(&mut self, timeout: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => false,
            Err(_) => {
                self.closed = true;
                false
            }
        }
    }
}

pub fn reply_timeout() -> Duration {
    REPLY_TIMEOUT
}
