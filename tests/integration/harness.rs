//! Test helpers: a server per test and a raw RESP client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub use spinel_resp::Frame;
pub use spinel_server::TestServer;

/// A server with test-friendly defaults (no save points).
pub fn server() -> TestServer {
    TestServer::start("save \"\"\nappendonly no\n")
}

pub fn server_with(config: &str) -> TestServer {
    TestServer::start(&format!("save \"\"\n{config}\n"))
}

/// A raw RESP connection that sends bytes and reads frames.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn open(srv: &TestServer) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn { stream, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command as a multibulk array.
    pub fn send_cmd(&mut self, args: &[&str]) {
        self.send(&Frame::command(args.iter().map(|a| a.as_bytes())));
    }

    /// Reads the next frame (fails the test after 10 s).
    pub fn read(&mut self) -> Frame {
        loop {
            if let Some((frame, used)) = Frame::decode(&self.buf).expect("valid RESP from server") {
                self.buf.drain(..used);
                return frame;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed while waiting for a reply");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads exactly as many bytes as `expected` holds and checks them (byte-exact replies,
    /// pushes and MONITOR lines that frames would not distinguish).
    pub fn expect_raw(&mut self, expected: &[u8]) {
        while self.buf.len() < expected.len() {
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed while waiting for a reply");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let got: Vec<u8> = self.buf.drain(..expected.len()).collect();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
    }

    /// Reads one CRLF-terminated line (without the CRLF), e.g. a MONITOR line.
    pub fn read_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return line[..pos].to_vec();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read line");
            assert!(n > 0, "connection closed while waiting for a line");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until the server closes the connection; returns what came before.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buf);
        let _ = self.stream.read_to_end(&mut rest);
        rest
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        self.send_cmd(args);
        self.read()
    }

    /// Sends a command and returns the raw bytes of its reply (for byte-exact checks).
    pub fn raw(&mut self, args: &[&str]) -> Vec<u8> {
        let frame = self.cmd(args);
        let mut out = Vec::new();
        frame.encode(&mut out, true);
        out
    }
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec())
}

pub fn simple(s: &str) -> Frame {
    Frame::Simple(s.as_bytes().to_vec())
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn err(s: &str) -> Frame {
    Frame::Error(s.as_bytes().to_vec())
}

pub fn ok() -> Frame {
    simple("OK")
}

pub fn array(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

pub fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

/// The error text of a frame, or a panic.
pub fn error_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}
