//! Helpers of the in-process family tests (`list_tests.rs`, `stream_tests.rs`): a server
//! without sockets, clients added directly, commands through the dispatcher, and what each
//! client received decoded as frames.

use spinel_resp::Frame;

use crate::config::Config;
use crate::dispatch;
use crate::server::Server;

pub fn server() -> Server {
    Server::new(Config::new())
}

pub fn client(srv: &mut Server) -> usize {
    srv.add_client("127.0.0.1:1".into(), "127.0.0.1:6379".into(), -1, None).0
}

/// Runs a command; returns every frame the client got (its own reply and anything queued).
pub fn run(srv: &mut Server, slot: usize, args: &[&str]) -> Vec<Frame> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut out = Vec::new();
    dispatch::process_into(srv, slot, &args, &mut out);
    frames(&out)
}

/// Takes whatever was queued for a client outside its own commands.
pub fn outbox(srv: &mut Server, slot: usize) -> Vec<Frame> {
    let bytes = std::mem::take(&mut srv.clients[slot].outbox);
    frames(&bytes)
}

pub fn frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some((frame, used)) = Frame::decode(bytes).expect("valid RESP") {
        out.push(frame);
        bytes = &bytes[used..];
    }
    out
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec())
}
