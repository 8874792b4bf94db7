//! What the REST gateway costs per request in user space, without the kernel's share.
//!
//! CONNECTIONS clients (default 50) on in-memory pipes (`tokio::io::duplex`) send the same request over and over
//! to [`spinel_http::service::serve_io`] (hyper, routing, auth, JSON, the engine's dispatcher),
//! all on one current-thread runtime as in the server, and the thread's CPU time
//! (`/proc/thread-self/schedstat`, nanoseconds) is divided by the requests served. The
//! clients' own work (writing a prepared request, finding the end of each response) is
//! included and is the same for every build: the figure is for comparing builds of the
//! gateway, on a machine where wall-clock benchmarks are disturbed by other load.
//! scripts/bench-http.sh measures the whole thing (kernel included) against webdis.
//!
//! ```text
//! cargo run --release -p spinel-http --example gateway_cost -- [pipeline|path|single] [requests] [rounds] [connections]
//! ```

use std::sync::{Arc, Mutex};

use spinel_engine::config::Config;
use spinel_engine::persist::aof::EngineGuard;
use spinel_engine::server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const TOKEN: &str = "gateway-cost-token";
const VALUE: &str = "0123456789abcdef";

struct Engine(Mutex<Server>);

impl spinel_http::Engine for Engine {
    fn lock(&self) -> EngineGuard<'_> {
        EngineGuard::new(self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The request of a case, as wrk sends it, and the body its response must have.
fn case(kind: &str) -> (Vec<u8>, String) {
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let (req, expect) = match kind {
        "path" => (
            format!("GET /get/bench:key HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"),
            format!("{{\"result\":\"{VALUE}\"}}"),
        ),
        "single" => (post("/", r#"["GET","bench:key"]"#), format!("{{\"result\":\"{VALUE}\"}}")),
        _ => (post("/pipeline", r#"[["GET","bench:key"]]"#), format!("[{{\"result\":\"{VALUE}\"}}]")),
    };
    (req.into_bytes(), expect)
}

/// The length of the first complete response in `buf`, if there is one (hyper writes header
/// names in lower case).
fn response_len(buf: &[u8]) -> Option<usize> {
    const CL: &[u8] = b"\r\ncontent-length: ";
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let at = buf[..head_end].windows(CL.len()).position(|w| w == CL)? + CL.len();
    let digits = buf[at..].iter().take_while(|c| c.is_ascii_digit()).fold(0, |n, &c| n * 10 + usize::from(c - b'0'));
    (buf.len() >= head_end + digits).then_some(head_end + digits)
}

/// Sends `n` requests one after the other; returns the last response.
async fn client(mut io: DuplexStream, req: Arc<Vec<u8>>, n: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 4096];
    let mut last = Vec::new();
    for i in 0..n {
        io.write_all(&req).await.expect("write");
        let len = loop {
            if let Some(len) = response_len(&buf) {
                break len;
            }
            let k = io.read(&mut chunk).await.expect("read");
            assert!(k > 0, "the gateway closed the connection");
            buf.extend_from_slice(&chunk[..k]);
        };
        assert!(buf.starts_with(b"HTTP/1.1 200 "), "{}", String::from_utf8_lossy(&buf[..len]));
        if i + 1 == n {
            last = buf[..len].to_vec();
        }
        buf.drain(..len);
    }
    last
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("pipeline", String::as_str);
    let total: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);
    let conns: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(50).max(1);
    let per_conn = (total / conns).max(1);

    let mut config = Config::new();
    config.set(&[(b"http-token", TOKEN.as_bytes())]).expect("http-token");
    let mut server = Server::new(config);
    let (slot, _) = server.add_client("127.0.0.1:1".into(), String::new(), -1, None);
    spinel_engine::dispatch::process(&mut server, slot, &[b"SET", b"bench:key", VALUE.as_bytes()]);
    server.free_client(slot);
    let gw = spinel_http::Gateway::local(Arc::new(Engine(Mutex::new(server))), "unused".into());

    let (req, expect) = case(kind);
    let req = Arc::new(req);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut results = Vec::new();
    rt.block_on(async {
        for round in 0..=rounds {
            // Round 0 warms up and checks the answer.
            let n = if round == 0 { 100 } else { per_conn };
            let start = thread_cpu_ns();
            let mut clients = Vec::with_capacity(conns);
            for c in 0..conns {
                let (near, far) = tokio::io::duplex(64 * 1024);
                tokio::spawn(spinel_http::service::serve_io(
                    far,
                    format!("127.0.0.1:{}", 40000 + c).into(),
                    gw.clone(),
                ));
                clients.push(tokio::spawn(client(near, req.clone(), n)));
            }
            let mut last = Vec::new();
            for c in clients {
                last = c.await.expect("client");
            }
            let ns = thread_cpu_ns() - start;
            if round == 0 {
                assert!(last.ends_with(expect.as_bytes()), "{}", String::from_utf8_lossy(&last));
                continue;
            }
            let per = ns as f64 / (n * conns) as f64;
            println!("round {round}: {} requests, {per:.0} ns CPU per request", n * conns);
            results.push(per);
        }
    });
    results.sort_by(f64::total_cmp);
    println!(
        "{kind}: min {:.0} ns, median {:.0} ns CPU per request ({conns} connections, user space only)",
        results[0],
        results[results.len() / 2]
    );
}
