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
