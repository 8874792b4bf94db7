//! One connection to a backend Redis server: `redis://` over TCP or `rediss://` over rustls,
//! RESP2 spoken with the codec crate's [`Frame`].

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use spinel_resp::Frame;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long connecting (TCP, TLS, AUTH, SELECT) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A backend address from a connection string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: u32,
}

impl Target {
    /// Parses `redis://[[user]:password@]host[:port][/db]` (or `rediss://`).
    pub fn parse(url: &str) -> Result<Target, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("redis://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("rediss://") {
            (true, r)
        } else {
            return Err("the connection string must start with redis:// or rediss://".into());
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(p) => (Some(&authority[..p]), &authority[p + 1..]),
            None => (None, authority),
        };
        let decode = |s: &str| String::from_utf8_lossy(&crate::request::percent_decode(s.as_bytes())).into_owned();
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => ((!user.is_empty()).then(|| decode(user)), Some(decode(pass))),
                None => ((!u.is_empty()).then(|| decode(u)), None),
            },
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h.split_once(']').ok_or("unterminated [ in the host")?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err("the connection string has no host".into());
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("bad port '{p}'"))?,
            None => 6379,
        };
        let db = match path.trim_matches('/') {
            "" => 0,
            d => d.parse::<u32>().map_err(|_| format!("bad database number '{d}'"))?,
        };
        Ok(Target { host: host.to_string(), port, tls, username, password, db })
    }

    /// `host:port`, what error messages show (never the password).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

pub struct Conn {
    io: Box<dyn Io>,
    rbuf: Vec<u8>,
}

/// The TLS client configuration: the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` are
/// honoured), else Mozilla's bundled roots.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth());
            match config {
                Ok(c) => Arc::new(c),
                // ring supports the default protocol versions; this cannot fail in practice.
                Err(e) => panic!("TLS configuration: {e}"),
            }
        })
        .clone()
}

fn io_err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}

impl Conn {
    /// Connects, upgrades to TLS for `rediss://`, authenticates and selects the database.
    pub async fn connect(t: &Target) -> std::io::Result<Conn> {
        match tokio::time::timeout(CONNECT_TIMEOUT, Self::connect_inner(t)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out")),
        }
    }

    async fn connect_inner(t: &Target) -> std::io::Result<Conn> {
        let tcp = TcpStream::connect((t.host.as_str(), t.port)).await?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if t.tls {
            let name = rustls::pki_types::ServerName::try_from(t.host.clone())
                .map_err(|_| io_err(format!("invalid TLS server name '{}'", t.host)))?;
            let tls = tokio_rustls::TlsConnector::from(tls_config()).connect(name, tcp).await?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut conn = Conn { io, rbuf: Vec::with_capacity(4096) };
        let mut setup: Vec<Vec<Vec<u8>>> = Vec::new();
        if let Some(pass) = &t.password {
            let mut auth = vec![b"AUTH".to_vec()];
            if let Some(user) = &t.username {
                auth.push(user.clone().into_bytes());
            }
            auth.push(pass.clone().into_bytes());
            setup.push(auth);
        }
        if t.db != 0 {
            setup.push(vec![b"SELECT".to_vec(), t.db.to_string().into_bytes()]);
        }
        if !setup.is_empty() {
            for reply in conn.request(&setup).await? {
                if let Frame::Error(e) = reply {
                    return Err(io_err(format!(
                        "backend refused the connection setup: {}",
                        String::from_utf8_lossy(&e)
                    )));
                }
            }
        }
        Ok(conn)
    }

    /// Writes every command in one go and reads as many replies.
    pub async fn request(&mut self, cmds: &[Vec<Vec<u8>>]) -> std::io::Result<Vec<Frame>> {
        let mut out = Vec::with_capacity(64 * cmds.len());
        for c in cmds {
            out.extend_from_slice(&Frame::command(c));
        }
        self.io.write_all(&out).await?;
        self.io.flush().await?;
        let mut replies = Vec::with_capacity(cmds.len());
        for _ in 0..cmds.len() {
            replies.push(self.read_frame().await?);
        }
        Ok(replies)
    }

    /// Reads the next frame.
    pub async fn read_frame(&mut self) -> std::io::Result<Frame> {
        loop {
            match Frame::decode(&self.rbuf) {
                Ok(Some((frame, used))) => {
                    self.rbuf.drain(..used);
                    return Ok(frame);
                }
                Ok(None) => {}
                Err(e) => return Err(io_err(e.to_string())),
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the backend closed the connection",
                ));
            }
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether an idle connection is still usable: nothing readable (an EOF or stray bytes
    /// mean the server closed it or it is out of step). Polls the socket exactly once — a
    /// zero timeout would wait for the timer wheel's next millisecond tick.
    pub fn still_open(&mut self) -> bool {
        if !self.rbuf.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut probe);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        matches!(std::pin::Pin::new(&mut self.io).poll_read(&mut cx, &mut buf), std::task::Poll::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        let t = Target::parse("redis://localhost").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls, t.db), ("localhost", 6379, false, 0));
        let t = Target::parse("rediss://us%65r:p%40ss@h.example:6380/3").unwrap();
        assert_eq!((t.username.as_deref(), t.password.as_deref()), (Some("user"), Some("p@ss")));
        assert_eq!((t.host.as_str(), t.port, t.tls, t.db), ("h.example", 6380, true, 3));
        let t = Target::parse("redis://:secret@[::1]:7000").unwrap();
        assert_eq!(
            (t.username.as_deref(), t.password.as_deref(), t.host.as_str(), t.port),
            (None, Some("secret"), "::1", 7000)
        );
        assert_eq!(t.address(), "[::1]:7000");
        for bad in ["http://x", "redis://", "redis://h:99999", "redis://h/x", "redis://[::1"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
