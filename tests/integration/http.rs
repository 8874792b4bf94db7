//! A minimal HTTP/1.1 client for the REST API tests: raw requests (so malformed ones can be
//! sent), keep-alive, `Content-Length` and chunked responses, and incremental reading of
//! server-sent event streams.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug)]
pub struct HttpResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Http {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Http {
    pub fn connect(port: u16) -> Http {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect http");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Http { stream, buf: Vec::new() }
    }

    /// Sends a request; `body` None sends no Content-Length.
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        self.stream.write_all(&bytes).expect("write request");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) => panic!("reading the response: {e}"),
        }
    }

    /// Reads the status line and headers.
    pub fn read_head(&mut self) -> HttpResp {
        let end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            assert!(self.fill(), "connection closed before the response head");
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        HttpResp { status, headers, body: Vec::new() }
    }

    /// Reads a whole response (`head_only` for HEAD requests).
    pub fn read_response(&mut self, head_only: bool) -> HttpResp {
        let mut resp = self.read_head();
        if head_only || resp.status == 204 {
            return resp;
        }
        if let Some(len) = resp.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            while self.buf.len() < len {
                assert!(self.fill(), "connection closed inside the body");
            }
            resp.body = self.buf.drain(..len).collect();
        } else if resp.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                match self.next_chunk() {
                    Some(c) if c.is_empty() => break,
                    Some(c) => resp.body.extend_from_slice(&c),
                    None => panic!("connection closed inside a chunked body"),
                }
            }
        }
        resp
    }

    /// The next chunk of a chunked body (empty at the end), None if the connection closed.
    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(p) = find(&self.buf, b"\r\n") {
                let size_text = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
                if self.buf.len() >= p + 2 + size + 2 {
                    let data = self.buf[p + 2..p + 2 + size].to_vec();
                    self.buf.drain(..p + 2 + size + 2);
                    return Some(data);
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Reads an event stream's chunks until the text so far contains `needle`; returns it.
    pub fn read_stream_until(&mut self, so_far: &mut String, needle: &str) {
        while !so_far.contains(needle) {
            match self.next_chunk() {
                Some(c) => so_far.push_str(&String::from_utf8_lossy(&c)),
                None => panic!("stream closed before {needle:?}; got {so_far:?}"),
            }
        }
    }

    /// Whether the server closed the connection with nothing more to read.
    pub fn closed(&mut self) -> bool {
        self.buf.is_empty() && !self.fill() && self.buf.is_empty()
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> HttpResp {
        self.send(method, path, headers, body);
        self.read_response(method == "HEAD")
    }
}

/// One request on a fresh connection.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> HttpResp {
    Http::connect(port).request(method, path, headers, body)
}
