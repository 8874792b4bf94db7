//! The wire protocol: multibulk, inline, pipelining, protocol errors, RESP3.

use crate::harness::*;

#[test]
fn inline_and_multibulk_commands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send(b"PING\r\n");
    assert_eq!(c.read(), simple("PONG"));
    c.send(b"set foo \"bar baz\"\r\n");
    assert_eq!(c.read(), ok());
    c.send(b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    assert_eq!(c.read(), bulk("bar baz"));
    // Empty lines and *0 are ignored silently.
    c.send(b"\r\n*0\r\nPING\n");
    assert_eq!(c.read(), simple("PONG"));
}

#[test]
fn pipelined_replies_come_in_order_even_split_at_every_byte() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut pipeline = Vec::new();
    for i in 0..50 {
        pipeline.extend(Frame::command(["SET".to_string(), format!("k{i}"), format!("v{i}")]));
        pipeline.extend(Frame::command(["GET".to_string(), format!("k{i}")]));
    }
    for byte in &pipeline {
        c.send(std::slice::from_ref(byte));
    }
    for i in 0..50 {
        assert_eq!(c.read(), ok());
        assert_eq!(c.read(), bulk(&format!("v{i}")));
    }
}

fn protocol_error(input: &[u8]) -> String {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send(input);
    let rest = c.read_to_close();
    String::from_utf8_lossy(&rest).into_owned()
}

#[test]
fn protocol_errors_reply_then_close() {
    assert_eq!(protocol_error(b"*3000000000\r\n"), "-ERR Protocol error: invalid multibulk length\r\n");
    assert_eq!(protocol_error(b"*1\r\nfoo\r\n"), "-ERR Protocol error: expected '$', got 'f'\r\n");
    assert_eq!(protocol_error(b"*1\r\n$-10\r\n"), "-ERR Protocol error: invalid bulk length\r\n");
    assert_eq!(protocol_error(b"set \"foo\r\n"), "-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_eq!(protocol_error(&vec![b'x'; 70 * 1024]), "-ERR Protocol error: too big inline request\r\n");
}

#[test]
fn commands_before_a_protocol_error_still_run() {
    let out = protocol_error(b"PING\r\n*1\r\nxx\r\n");
    assert_eq!(out, "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
}

#[test]
fn huge_declared_bulk_does_not_allocate_or_fail() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send(b"*2\r\n$4\r\nECHO\r\n$400000000\r\nabc");
    let mut other = Conn::open(&srv);
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
    // The first connection is registered once the server has read its bytes, which may be
    // after `other` was served: wait for it to appear.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        let info = other.cmd(&["CLIENT", "LIST"]);
        let Frame::Bulk(text) = info else { panic!("{info:?}") };
        let text = String::from_utf8(text).unwrap();
        if let Some(line) = text.lines().find(|l| !l.contains("cmd=client|list")) {
            break line.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "the first client never showed up: {text}");
        std::thread::yield_now();
    };
    // The waiting client's query buffer holds what was sent, not the declared 400 MB.
    let qbuf: usize = line.split("qbuf=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(qbuf < 1024, "{line}");
}

#[test]
fn unauthenticated_clients_may_not_send_big_requests() {
    let srv = server_with("requirepass secret");
    let mut c = Conn::open(&srv);
    c.send(b"*20\r\n");
    assert_eq!(
        String::from_utf8_lossy(&c.read_to_close()),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut c = Conn::open(&srv);
    assert_eq!(error_text(&c.cmd(&["GET", "x"])), "NOAUTH Authentication required.");
    assert_eq!(c.cmd(&["AUTH", "secret"]), ok());
    assert_eq!(c.cmd(&["GET", "x"]), Frame::Null);
}

#[test]
fn resp3_hello_switches_reply_types() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let hello = c.cmd(&["HELLO", "3"]);
    let Frame::Map(pairs) = hello else { panic!("{hello:?}") };
    assert!(pairs.contains(&(bulk("proto"), int(3))));
    assert_eq!(c.cmd(&["GET", "missing"]), Frame::Null);
    c.send_cmd(&["GET", "missing"]);
    let mut raw = Vec::new();
    c.read().encode(&mut raw, true);
    assert_eq!(raw, b"_\r\n");
    assert!(matches!(c.cmd(&["CONFIG", "GET", "port"]), Frame::Map(_)));
    assert_eq!(error_text(&c.cmd(&["HELLO", "4"])), "NOPROTO unsupported protocol version");
    c.cmd(&["HELLO", "2"]);
    assert!(matches!(c.cmd(&["CONFIG", "GET", "port"]), Frame::Array(_)));
}

#[test]
fn unknown_command_and_arity_errors_are_exact() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(error_text(&c.cmd(&["FOO", "a", "b"])), "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
    assert_eq!(error_text(&c.cmd(&["GET"])), "ERR wrong number of arguments for 'get' command");
    assert_eq!(error_text(&c.cmd(&["CONFIG", "FOO"])), "ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
    assert_eq!(error_text(&c.cmd(&["CONFIG"])), "ERR wrong number of arguments for 'config' command");
    assert_eq!(error_text(&c.cmd(&["CONFIG", "GET"])), "ERR wrong number of arguments for 'config|get' command");
}

#[test]
fn http_looking_requests_are_dropped() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_to_close(), b"");
}
