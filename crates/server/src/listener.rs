//! Accepting connections on the TCP ports (`bind`, `port`) and the Unix socket.

use std::net::SocketAddr;

use spinel_engine::log;
use tokio::net::{TcpListener, UnixListener};

use crate::connection::Connection;
use crate::shared::SharedRef;
use crate::stream::Stream;

/// Binds every `bind` address on `port`. A `-` prefix marks an optional address (Redis's
/// `-::*`): failing to bind it is not fatal.
pub fn bind_tcp(addrs: &[String], port: u16) -> Result<Vec<TcpListener>, String> {
    let mut listeners = Vec::new();
    for addr in addrs {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr.as_str()),
        };
        let ip = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let sock: SocketAddr = match format!("{ip}:{port}").parse().or_else(|_| format!("[{ip}]:{port}").parse()) {
            Ok(s) => s,
            Err(_) => return Err(format!("Invalid bind address '{host}'")),
        };
        match bind_one(sock) {
            Ok(l) => listeners.push(l),
            Err(e) if optional || (e.kind() == std::io::ErrorKind::AddrNotAvailable && host.contains(':')) => {
                log::verbose(&format!("Skipping optional bind address {host}: {e}"));
            }
            Err(e) => return Err(format!("Could not create server TCP listening socket {host}:{port}: bind: {e}")),
        }
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    if addr.is_ipv6() {
        // Like Redis, an IPv6 wildcard does not also take the IPv4 port.
        let fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
        let one: libc::c_int = 1;
        // SAFETY: setting an int socket option on a valid fd.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    socket.bind(addr)?;
    socket.listen(511)
}

/// The TCP accept loops, replaced at run time by CONFIG SET port / bind.
#[derive(Default)]
pub struct TcpListeners {
    /// Each listening socket's descriptor and its accept loop.
    running: std::sync::Mutex<Vec<(std::os::fd::RawFd, tokio::task::AbortHandle)>>,
}

impl TcpListeners {
    /// Starts an accept loop for each listener.
    pub fn serve(&self, shared: &SharedRef, listeners: Vec<TcpListener>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for l in listeners {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
            running.push((fd, tokio::spawn(accept_tcp(shared.clone(), l)).abort_handle()));
        }
    }

    /// Stops listening now (Redis's closeSocketListeners): the port is free for the new
    /// listeners before the aborted accept loops drop their sockets.
    fn close(&self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for (fd, task) in running.drain(..) {
            // SAFETY: the accept loop still owns the open socket (it is aborted only below,
            // and cannot run meanwhile: this runs on the runtime's thread).
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
            task.abort();
        }
    }
}

/// The engine's hook for CONFIG SET port / bind: closes the listeners, then listens on the
/// new addresses (none for port 0), as Redis's changeBindAddr does. `engine` is filled once
/// the engine is shared (the hook lives inside it, hence the weak reference).
pub fn rebind_hook(
    listeners: std::sync::Arc<TcpListeners>,
    engine: std::sync::Arc<std::sync::OnceLock<std::sync::Weak<crate::shared::Shared>>>,
) -> spinel_engine::server::RebindHook {
    std::sync::Arc::new(move |addrs: &[String], port: u16| {
        let shared = engine.get().and_then(std::sync::Weak::upgrade).ok_or("the server is stopping")?;
        listeners.close();
        let bound = if port == 0 { Vec::new() } else { bind_tcp(addrs, port)? };
        listeners.serve(&shared, bound);
        Ok(())
    })
}

/// Accepts TCP clients forever.
pub async fn accept_tcp(shared: SharedRef, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let local = stream.local_addr().map(|a| format_addr(&a)).unwrap_or_default();
                let shared = shared.clone();
                tokio::spawn(async move {
                    Connection::serve(shared, Stream::Tcp(stream), format_addr(&peer), local, false).await;
                });
            }
            Err(e) => {
                log::warning(&format!("Accepting client connection: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Accepts Unix-socket clients forever.
pub async fn accept_unix(shared: SharedRef, listener: UnixListener, path: String) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let shared = shared.clone();
                let local = format!("{path}:0");
                tokio::spawn(async move {
                    Connection::serve(shared, Stream::Unix(stream), local.clone(), local, true).await;
                });
            }
            Err(e) => {
                log::warning(&format!("Accepting client connection: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// `ip:port`, with IPv6 addresses in Redis's form (no brackets).
fn format_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => format!("{}:{}", v4, v6.port()),
            None => format!("{}:{}", v6.ip(), v6.port()),
        },
    }
}
