//! A spinel *process* for persistence tests: restarts, kill -9, disk full. It listens only
//! on a unix socket in its own temp directory (no TCP port to collide on), and the test
//! talks to it with a small blocking RESP client.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use spinel_resp::Frame;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("spinel-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Proc {
    pub child: Child,
    /// Holds the config, the log and the socket.
    pub root: PathBuf,
    /// The server's `dir` (`root/data`), a tmpfs in the server's namespace for
    /// [`Launch::Tmpfs`].
    pub dir: PathBuf,
    pub socket: PathBuf,
    private_mount: bool,
}

/// How to start the process: plainly, or inside a private mount namespace with a tmpfs of
/// `tmpfs_kib` KiB mounted on the directory (disk-full tests; needs root).
pub enum Launch {
    Plain,
    Tmpfs { kib: u64, filler_kib: u64 },
}

impl Proc {
    /// Starts spinel with `root/data` as its `dir` and redis.conf-style `extra` options (one
    /// per line), and waits until it answers PING (None if it exited first).
    pub fn start(root: &Path, extra: &str, launch: Launch) -> Option<Proc> {
        let dir = root.join("data");
        std::fs::create_dir_all(&dir).expect("data dir");
        let socket = root.join("spinel.sock");
        let _ = std::fs::remove_file(&socket);
        let mut conf = format!("port 0\nunixsocket {}\ndir {}\nloglevel notice\n", socket.display(), dir.display());
        conf.push_str(extra);
        let conf_path = root.join("spinel.conf");
        std::fs::write(&conf_path, conf).expect("write conf");
        let bin = env!("CARGO_BIN_EXE_spinel");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(root.join("spinel.log")).expect("log");
        let err = log.try_clone().expect("log");
        let private_mount = matches!(launch, Launch::Tmpfs { .. });
        let mut cmd = match launch {
            Launch::Plain => {
                let mut c = Command::new(bin);
                c.arg(&conf_path);
                c
            }
            Launch::Tmpfs { kib, filler_kib } => {
                let script = format!(
                    "mount -t tmpfs -o size={kib}k tmpfs '{d}' && dd if=/dev/zero of='{d}/filler' bs=1k count={filler_kib} 2>/dev/null; exec '{bin}' '{conf}'",
                    d = dir.display(),
                    conf = conf_path.display(),
                );
                let mut c = Command::new("unshare");
                c.args(["-m", "--propagation", "private", "sh", "-c", &script]);
                c
            }
        };
        let child = cmd.stdin(Stdio::null()).stdout(log).stderr(err).spawn().expect("spawn spinel");
        let mut p = Proc { child, root: root.to_path_buf(), dir, socket, private_mount };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(_)) = p.child.try_wait() {
                return None;
            }
            if let Some(mut c) = p.try_client() {
                if c.cmd(&["PING"]) == Frame::Simple(b"PONG".to_vec()) {
                    return Some(p);
                }
            }
            if Instant::now() > deadline {
                let _ = p.child.kill();
                panic!("spinel did not start; log:\n{}", p.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's view of `rel` inside its `dir` (through /proc for a private mount).
    pub fn file(&self, rel: &str) -> PathBuf {
        if self.private_mount {
            PathBuf::from(format!("/proc/{}/root{}", self.child.id(), self.dir.join(rel).display()))
        } else {
            self.dir.join(rel)
        }
    }

    fn try_client(&self) -> Option<Client> {
        let stream = UnixStream::connect(&self.socket).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
        Some(Client { stream, buf: Vec::new() })
    }

    pub fn client(&self) -> Client {
        self.try_client().unwrap_or_else(|| panic!("connect; log:\n{}", self.log()))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("spinel.log")).unwrap_or_default()
    }

    /// kill -9.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// INFO field `name` (as text).
    pub fn info(&self, name: &str) -> String {
        let mut c = self.client();
        let Frame::Bulk(text) = c.cmd(&["INFO", "all"]) else { panic!("INFO") };
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_else(|| panic!("no INFO field {name}"))
    }

    /// Polls `cond` every 10 ms for up to 20 s.
    pub fn wait_for(&self, what: &str, mut cond: impl FnMut(&Proc) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond(self) {
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A blocking RESP client.
pub struct Client {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn send(&mut self, args: &[&str]) {
        let _ = self.stream.write_all(&Frame::command(args.iter().map(|a| a.as_bytes())));
    }

    pub fn send_bytes(&mut self, args: &[&[u8]]) {
        let _ = self.stream.write_all(&Frame::command(args.iter().copied()));
    }

    /// The next reply, or None if the connection closed.
    pub fn read(&mut self) -> Option<Frame> {
        loop {
            if let Ok(Some((frame, used))) = Frame::decode(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        self.send(args);
        self.read().expect("reply")
    }

    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Frame {
        self.send_bytes(args);
        self.read().expect("reply")
    }
}

/// Whether this process may mount a tmpfs in a private namespace (root, unshare present).
pub fn can_mount_tmpfs() -> bool {
    let probe = TempDir::new("probe");
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount -t tmpfs -o size=64k tmpfs '{}'", probe.path().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
