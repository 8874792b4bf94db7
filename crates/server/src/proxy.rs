//! `spinel --proxy` (or `SRH_MODE` in the environment): only the REST gateway, forwarding to
//! the Redis servers named by SRH's configuration (see spinel_http::proxy). No engine, no
//! RESP listener.

use std::time::Duration;

use spinel_engine::config::Config;
use spinel_engine::log;
use spinel_http::proxy::{Proxy, Settings, TokenEntry};

/// Runs proxy mode until SIGTERM/SIGINT; returns the exit code.
pub async fn run(config: Config) -> i32 {
    let settings = match Settings::from_env(&|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            log::warning(&format!("Proxy mode configuration error: {e}"));
            return 1;
        }
    };
    let port = settings.port.unwrap_or(config.int("http-port") as u16);
    let bind =
        if settings.ipv6 { "::".to_string() } else { config.string("http-bind").unwrap_or_default().to_string() };
    if port == 0 || bind.trim().is_empty() {
        log::warning("Proxy mode needs an HTTP port and address (http-port, http-bind or SRH_PORT).");
        return 1;
    }
    let listeners = match spinel_http::bind(&bind, port) {
        Ok(l) => l,
        Err(e) => {
            log::warning(&e);
            return 1;
        }
    };
    for p in &settings.proxy.pools {
        log::notice(&format!(
            "Pool {}: {} (max {} connections, connected on first use)",
            p.srh_id,
            p.target.address(),
            p.max_connections
        ));
    }
    settings.proxy.spawn_reaper(spinel_http::proxy::pool::IDLE_TIMEOUT);
    let gateway = spinel_http::Gateway::proxy(settings.proxy);
    for l in listeners {
        tokio::spawn(spinel_http::serve(l, gateway.clone()));
    }
    log::notice(&format!("Spinel REST proxy listening on {bind} port {port}. Ready to accept connections"));
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    tokio::select! {
        Some(_) = async { match term.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {}
        Some(_) = async { match int.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {}
    }
    log::warning("Spinel REST proxy is now ready to exit, bye bye...");
    0
}

/// A proxy gateway on its own thread on an ephemeral loopback port, for tests.
pub struct TestProxy {
    pub http_port: u16,
    pub gateway: std::sync::Arc<spinel_http::Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestProxy {
    /// Starts a proxy for `entries`, closing idle pool connections after `idle_timeout`.
    pub fn start(entries: &[TokenEntry], idle_timeout: Duration) -> Result<TestProxy, String> {
        let proxy = Proxy::new(entries)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("test runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind test port");
                let port = listener.local_addr().expect("local addr").port();
                proxy.spawn_reaper(idle_timeout);
                let gateway = spinel_http::Gateway::proxy(proxy);
                tokio::spawn(spinel_http::serve(listener, gateway.clone()));
                let _ = tx.send((port, gateway));
                let _ = stop_rx.await;
            });
        });
        let (http_port, gateway) = rx.recv().map_err(|e| e.to_string())?;
        Ok(TestProxy { http_port, gateway, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// The proxy's pools.
    pub fn pools(&self) -> &[std::sync::Arc<spinel_http::proxy::pool::Pool>] {
        match &self.gateway.backend {
            spinel_http::Backend::Proxy(p) => &p.pools,
            spinel_http::Backend::Local(_) => &[],
        }
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
