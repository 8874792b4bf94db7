//! HyperLogLog commands. Values must be byte-compatible with redis-server 7.0.15: the fixtures
//! below were produced by it and read back through GET.

use crate::harness::*;

fn cmd_bytes(c: &mut Conn, args: &[&[u8]]) -> Frame {
    c.send(&Frame::command(args.iter().copied()));
    c.read()
}

fn from_hex(hex: &str) -> Vec<u8> {
    let hex: Vec<u8> = hex.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    hex.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

fn get_bytes(c: &mut Conn, key: &str) -> Vec<u8> {
    match c.cmd(&["GET", key]) {
        Frame::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

/// redis-server: `PFADD fx a b c d e f g 1 2 3 hello world` then `PFCOUNT fx` (12).
const SPARSE_FROM_REDIS: &str =
    "48594c4c010000000c00000000000000466d8044468851c48040e9804351843880430a8046db8046c884498c8040d48c419780425a";
/// redis-server: the same value after `PFADD fx x y z` (cache invalidated).
const SPARSE_AFTER_PFADD: &str = "48594c4c010000000c00000000000080466d8044468851c48040e9804351843880408f8042798046db8046c88448ab8840df8040d48c41978042508408";

fn dense_from_redis() -> Vec<u8> {
    let text = include_str!("fixtures/hll_dense_redis.hex");
    from_hex(text.lines().filter(|l| !l.starts_with('#')).collect::<String>().as_str())
}

#[test]
fn regression_hll_written_by_redis_server_counts_the_same() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let sparse = from_hex(SPARSE_FROM_REDIS);
    cmd_bytes(&mut c, &[b"SET", b"fx", &sparse]);
    assert_eq!(c.cmd(&["PFCOUNT", "fx"]), int(12));
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "fx"]), simple("sparse"));
    // Adding elements edits the sparse opcodes exactly as Redis does.
    assert_eq!(c.cmd(&["PFADD", "fx", "x", "y", "z"]), int(1));
    assert_eq!(get_bytes(&mut c, "fx"), from_hex(SPARSE_AFTER_PFADD));
    assert_eq!(c.cmd(&["PFCOUNT", "fx"]), int(15));

    let mut dense = dense_from_redis();
    assert_eq!(dense.len(), 12304);
    cmd_bytes(&mut c, &[b"SET", b"fd", &dense]);
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "fd"]), simple("dense"));
    assert_eq!(c.cmd(&["PFCOUNT", "fd"]), int(2979));
    // With the cached cardinality invalidated, our estimator must find Redis's number.
    dense[15] |= 0x80;
    cmd_bytes(&mut c, &[b"SET", b"fd", &dense]);
    assert_eq!(c.cmd(&["PFCOUNT", "fd"]), int(2979));
    assert_eq!(get_bytes(&mut c, "fd")[8..16], [0xa3, 0x0b, 0, 0, 0, 0, 0, 0]);
    assert_eq!(c.cmd(&["PFCOUNT", "fx", "fd"]), int(2995));
    cmd_bytes(&mut c, &[b"SET", b"fx", &sparse]);
    assert_eq!(c.cmd(&["PFCOUNT", "fx", "fd"]), int(2991));
    assert_eq!(c.cmd(&["PFMERGE", "m", "fx", "fd"]), ok());
    assert_eq!(c.cmd(&["PFCOUNT", "m"]), int(2991));
}

#[test]
fn pfadd_creates_and_caches() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["PFADD", "h"]), int(1));
    assert_eq!(get_bytes(&mut c, "h"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec());
    assert_eq!(c.cmd(&["PFADD", "h"]), int(0));
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), int(0));
    assert_eq!(c.cmd(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(c.cmd(&["PFADD", "h", "a"]), int(0));
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), int(3));
    assert_eq!(get_bytes(&mut c, "h")[15], 0);
    assert_eq!(c.cmd(&["PFADD", "h", "d"]), int(1));
    assert_eq!(get_bytes(&mut c, "h")[15], 0x80);
    assert_eq!(c.cmd(&["PFCOUNT", "missing"]), int(0));
    assert_eq!(c.cmd(&["PFDEBUG", "DECODE", "h"]), bulk("Z:7292 v:1,1 Z:1143 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
}

#[test]
fn sparse_promotes_to_dense_at_the_configured_size() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "100"]);
    let elements: Vec<String> = (0..200).map(|i| format!("e{i}")).collect();
    let mut args = vec!["PFADD", "h"];
    args.extend(elements.iter().map(|s| s.as_str()));
    c.cmd(&args);
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "h"]), simple("dense"));
    assert_eq!(c.cmd(&["STRLEN", "h"]), int(12304));
    let Frame::Array(regs) = c.cmd(&["PFDEBUG", "GETREG", "h"]) else { panic!() };
    assert_eq!(regs.len(), 16384);
    c.cmd(&["PFADD", "s", "a"]);
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "s"]), int(1));
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "s"]), int(0));
    assert_eq!(error_text(&c.cmd(&["PFDEBUG", "DECODE", "s"])), "ERR HLL encoding is not sparse");
    assert_eq!(error_text(&c.cmd(&["PFDEBUG", "foo", "s"])), "ERR Unknown PFDEBUG subcommand 'foo'");
    assert_eq!(error_text(&c.cmd(&["PFDEBUG", "FOO", "missing"])), "ERR The specified key does not exist");
}

#[test]
fn wrong_types_and_corruption_are_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "str", "hello"]);
    let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    assert_eq!(error_text(&c.cmd(&["PFADD", "str", "a"])), not_hll);
    assert_eq!(error_text(&c.cmd(&["PFCOUNT", "str"])), not_hll);
    assert_eq!(error_text(&c.cmd(&["PFMERGE", "dst", "str"])), not_hll);
    c.cmd(&["LPUSH", "l", "a"]);
    assert_eq!(
        error_text(&c.cmd(&["PFCOUNT", "l"])),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // A sparse value with trailing garbage or a run past the last register is corrupted.
    c.cmd(&["PFADD", "h", "a", "b", "c"]);
    c.cmd(&["APPEND", "h", "hello"]);
    assert_eq!(error_text(&c.cmd(&["PFCOUNT", "h"])), "INVALIDOBJ Corrupted HLL object detected");
    c.cmd(&["DEL", "h"]);
    c.cmd(&["PFADD", "h"]);
    cmd_bytes(&mut c, &[b"APPEND", b"h", b"\x80"]);
    assert_eq!(error_text(&c.cmd(&["PFCOUNT", "h", "missing"])), "INVALIDOBJ Corrupted HLL object detected");
    assert_eq!(error_text(&c.cmd(&["PFDEBUG", "TODENSE", "h"])), "INVALIDOBJ Corrupted HLL object detected");
    // A dense header on a sparse-sized string is the wrong type.
    c.cmd(&["DEL", "h"]);
    c.cmd(&["PFADD", "h", "a"]);
    cmd_bytes(&mut c, &[b"SETRANGE", b"h", b"4", b"\x00"]);
    assert_eq!(error_text(&c.cmd(&["PFCOUNT", "h"])), not_hll);
    // Random damage never crashes the server.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..200 {
        c.cmd(&["DEL", "z"]);
        let n = (round * 13) % 600;
        let items: Vec<String> = (0..n).map(|i| format!("{round}-{i}")).collect();
        let mut args = vec!["PFADD", "z"];
        args.extend(items.iter().map(|s| s.as_str()));
        c.cmd(&args);
        let Frame::Integer(len) = c.cmd(&["STRLEN", "z"]) else { panic!() };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let pos = (seed % len as u64).to_string();
        cmd_bytes(&mut c, &[b"SETRANGE", b"z", pos.as_bytes(), &[(seed >> 32) as u8]]);
        c.cmd(&["PFCOUNT", "z"]);
        c.cmd(&["PFADD", "z", "more", "elements"]);
        c.cmd(&["PFCOUNT", "z", "h"]);
    }
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn pfmerge_unions_into_destination() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["PFADD", "a", "1", "2", "3"]);
    c.cmd(&["PFADD", "b", "3", "4", "5"]);
    c.cmd(&["PFADD", "dst", "6"]);
    assert_eq!(c.cmd(&["PFMERGE", "dst", "a", "b", "missing"]), ok());
    assert_eq!(c.cmd(&["PFCOUNT", "dst"]), int(6));
    assert_eq!(c.cmd(&["PFCOUNT", "a", "b"]), int(5));
    assert_eq!(c.cmd(&["PFMERGE", "new"]), ok());
    assert_eq!(c.cmd(&["PFCOUNT", "new"]), int(0));
}
