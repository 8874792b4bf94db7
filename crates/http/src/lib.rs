//! Spinel's Upstash-compatible REST API (the gateway), and its SRH-compatible proxy mode.
//!
//! The wire rules are those of /work/shared/REST-API.md (kept as docs/REST-API.md): `POST /`
//! with one JSON command, `/pipeline`, `/multi-exec`, the path form (`GET /set/k/v?EX=10`),
//! `Upstash-Encoding: base64`, `Upstash-Response-Format: resp2`, `upstash-sync-token`, SSE
//! `/subscribe/<channel>`, `/psubscribe/<pattern>` and `/monitor`, CORS, JSON errors with 400/401/405.
//!
//! ## Layout
//! * [`service`]: methods, CORS, routing, auth, the body limit, responses; hyper's service.
//! * [`h1`]: connections: a small HTTP/1.1 server for plain requests, hyper for the rest.
//! * [`request`]: JSON bodies and the path form → argument vectors (numbers keep their text).
//! * [`json`]: replies (engine [`Reply`](spinel_engine::reply::Reply) or codec
//!   [`Frame`](spinel_resp::Frame)) → JSON, plain or base64.
//! * [`auth`]: bearer / `_token` extraction and constant-time token comparison.
//! * [`local`]: commands run in-process through the engine's dispatcher.
//! * [`sse`]: server-sent events for subscriptions.
//! * [`proxy`]: proxy mode, forwarding to other Redis servers through per-`srh_id` pools.
//!
//! ## The seam with the server crate
//! `spinel-server` starts this gateway next to its RESP listeners, so this crate cannot depend
//! on it. Instead it defines [`Engine`]: "give me the locked engine". The server's `Shared`
//! (the mutex every RESP connection uses) implements it, and [`Gateway::local`] takes it as an
//! `Arc<dyn Engine>`. A request takes the lock, registers an internal client
//! (`flags::INTERNAL`), runs its commands through `dispatch::process` exactly as a RESP
//! connection would, frees the client and releases the lock — a `/multi-exec` holds the lock
//! for MULTI…EXEC, so it is as atomic as a RESP transaction. Nothing loops back over a socket.
//!
//! Proxy mode (`spinel --proxy`, or `SRH_MODE` set) has no engine at all: [`Gateway::proxy`]
//! forwards the same requests to the Redis servers of its configuration.

pub mod auth;
mod body;
pub mod h1;
pub mod json;
pub mod local;
pub mod proxy;
pub mod request;
pub mod service;
pub mod sse;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use spinel_engine::persist::aof::EngineGuard;
use tokio::net::TcpListener;

/// The engine as the gateway reaches it: the server's lock (whose guard writes the AOF buffer
/// when released, as after any client's commands). See the module docs.
pub trait Engine: Send + Sync + 'static {
    fn lock(&self) -> EngineGuard<'_>;
}

/// Where requests go.
pub enum Backend {
    Local(local::Local),
    Proxy(proxy::Proxy),
}

/// The REST gateway: one per process, shared by every HTTP connection.
pub struct Gateway {
    pub backend: Backend,
    /// The last `upstash-sync-token` value seen: the engine's write counter (local) or a count
    /// of requests that wrote (proxy). Responses that did not look at the backend send it.
    sync: AtomicU64,
}

impl Gateway {
    /// A gateway running commands in this process's engine. `generated_token` is the token
    /// accepted while `http-token` is not configured (see [`auth::generate_token`]).
    pub fn local(engine: Arc<dyn Engine>, generated_token: String) -> Arc<Gateway> {
        Arc::new(Gateway {
            backend: Backend::Local(local::Local::new(engine, generated_token)),
            sync: AtomicU64::new(0),
        })
    }

    /// A gateway forwarding to other Redis servers.
    pub fn proxy(proxy: proxy::Proxy) -> Arc<Gateway> {
        Arc::new(Gateway { backend: Backend::Proxy(proxy), sync: AtomicU64::new(0) })
    }

    pub(crate) fn sync_token(&self) -> u64 {
        self.sync.load(Ordering::Relaxed)
    }

    pub(crate) fn set_sync_token(&self, v: u64) {
        self.sync.store(v, Ordering::Relaxed);
    }

    pub(crate) fn bump_sync_token(&self) -> u64 {
        self.sync.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Binds the REST API's listeners: every address of `http-bind` (spaces or commas) on `port`.
pub fn bind(addrs: &str, port: u16) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for addr in addrs.split([' ', ',', '\t']).filter(|a| !a.is_empty()) {
        let ip: std::net::IpAddr = addr.parse().map_err(|_| format!("Invalid http-bind address '{addr}'"))?;
        let sock = SocketAddr::new(ip, port);
        let listener = (|| {
            let socket =
                if sock.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
            socket.set_reuseaddr(true)?;
            socket.bind(sock)?;
            socket.listen(511)
        })()
        .map_err(|e| format!("Could not create the REST API listening socket {sock}: {e}"))?;
        out.push(listener);
    }
    Ok(out)
}

/// Accepts HTTP connections forever and serves each on its own task.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(service::serve_connection(stream, peer, gateway.clone()));
            }
            Err(e) => {
                spinel_engine::log::warning(&format!("Accepting REST API connection: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
