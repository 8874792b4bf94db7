//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. Expected
//! replies were checked against redis-server 7.0.15.

use crate::harness::*;

fn cmd_bytes(c: &mut Conn, args: &[&[u8]]) -> Frame {
    c.send(&Frame::command(args.iter().copied()));
    c.read()
}

fn dirty(c: &mut Conn) -> i64 {
    let Frame::Bulk(info) = c.cmd(&["INFO", "persistence"]) else { panic!("INFO") };
    let text = String::from_utf8_lossy(&info).into_owned();
    let line = text.lines().find(|l| l.starts_with("rdb_changes_since_last_save:")).expect("field");
    line["rdb_changes_since_last_save:".len()..].trim().parse().expect("number")
}

#[test]
fn setbit_getbit_and_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(c.cmd(&["SETBIT", "k", "7", "1"]), int(1));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("\x01"));
    assert_eq!(c.cmd(&["GETBIT", "k", "7"]), int(1));
    assert_eq!(c.cmd(&["GETBIT", "k", "100000"]), int(0));
    assert_eq!(c.cmd(&["GETBIT", "missing", "3"]), int(0));
    let offset_err = "ERR bit offset is not an integer or out of range";
    assert_eq!(error_text(&c.cmd(&["SETBIT", "k", "-1", "1"])), offset_err);
    assert_eq!(error_text(&c.cmd(&["SETBIT", "k", "4294967296", "1"])), offset_err);
    assert_eq!(error_text(&c.cmd(&["GETBIT", "k", "#3"])), offset_err);
    assert_eq!(error_text(&c.cmd(&["SETBIT", "k", "1", "2"])), "ERR bit is not an integer or out of range");
    assert_eq!(error_text(&c.cmd(&["SETBIT", "k", "1", "x"])), "ERR bit is not an integer or out of range");
    // An integer-encoded string reads as its digits and becomes raw when written.
    c.cmd(&["SET", "i", "12345"]);
    assert_eq!(c.cmd(&["GETBIT", "i", "2"]), int(1));
    assert_eq!(c.cmd(&["SETBIT", "i", "0", "1"]), int(0));
    assert_eq!(c.cmd(&["GET", "i"]), Frame::Bulk(b"\xb12345".to_vec()));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "i"]), bulk("raw"));
    c.cmd(&["LPUSH", "l", "a"]);
    assert!(error_text(&c.cmd(&["SETBIT", "l", "1", "1"])).starts_with("WRONGTYPE"));
    assert!(error_text(&c.cmd(&["GETBIT", "l", "1"])).starts_with("WRONGTYPE"));
}

#[test]
fn setbit_counts_dirty_only_on_change() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let d0 = dirty(&mut c);
    c.cmd(&["SETBIT", "k", "0", "0"]); // creates the key: a change
    assert_eq!(dirty(&mut c), d0 + 1);
    c.cmd(&["SETBIT", "k", "0", "0"]);
    assert_eq!(dirty(&mut c), d0 + 1);
    c.cmd(&["SETBIT", "k", "0", "1"]);
    assert_eq!(dirty(&mut c), d0 + 2);
    c.cmd(&["BITFIELD", "k", "SET", "u1", "0", "1", "SET", "u1", "1", "1"]);
    assert_eq!(dirty(&mut c), d0 + 3);
}

#[test]
fn bitcount_ranges_in_bytes_and_bits() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "s", "foobar"]);
    assert_eq!(c.cmd(&["BITCOUNT", "s"]), int(26));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "1", "1"]), int(6));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "1", "1", "BYTE"]), int(6));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "5", "30", "BIT"]), int(17));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "-5", "-1", "bit"]), int(2));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "100", "200"]), int(0));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "-1", "-5", "foo"]), int(0));
    assert_eq!(error_text(&c.cmd(&["BITCOUNT", "s", "1"])), "ERR syntax error");
    assert_eq!(error_text(&c.cmd(&["BITCOUNT", "s", "1", "2", "foo"])), "ERR syntax error");
    assert_eq!(error_text(&c.cmd(&["BITCOUNT", "s", "a", "b"])), "ERR value is not an integer or out of range");
    // A missing key is 0 before the arguments are looked at, as in Redis.
    assert_eq!(c.cmd(&["BITCOUNT", "missing", "x"]), int(0));
}

#[test]
fn bitpos_edges_follow_redis() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd_bytes(&mut c, &[b"SET", b"b", b"\xff\xf0\x00"]);
    assert_eq!(c.cmd(&["BITPOS", "b", "0"]), int(12));
    assert_eq!(c.cmd(&["BITPOS", "b", "1", "2"]), int(-1));
    assert_eq!(c.cmd(&["BITPOS", "b", "0", "0", "0"]), int(-1));
    assert_eq!(c.cmd(&["BITPOS", "b", "1", "12", "23", "BIT"]), int(-1));
    assert_eq!(c.cmd(&["BITPOS", "b", "0", "5", "10", "BIT"]), int(-1));
    // With four arguments the fourth is the end, so BIT is not a number there.
    assert_eq!(error_text(&c.cmd(&["BITPOS", "b", "0", "3", "BIT"])), "ERR value is not an integer or out of range");
    cmd_bytes(&mut c, &[b"SET", b"ones", b"\xff\xff"]);
    // Without an end the string is taken as zero-padded; with one, it is not.
    assert_eq!(c.cmd(&["BITPOS", "ones", "0"]), int(16));
    assert_eq!(c.cmd(&["BITPOS", "ones", "0", "0"]), int(16));
    assert_eq!(c.cmd(&["BITPOS", "ones", "0", "0", "-1"]), int(-1));
    assert_eq!(c.cmd(&["BITPOS", "missing", "0"]), int(0));
    assert_eq!(c.cmd(&["BITPOS", "missing", "1"]), int(-1));
    assert_eq!(error_text(&c.cmd(&["BITPOS", "b", "2"])), "ERR The bit argument must be 1 or 0.");
    assert_eq!(error_text(&c.cmd(&["BITPOS", "b", "0", "0", "0", "foo"])), "ERR syntax error");
}

#[test]
fn bitop_pads_deletes_and_types() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "a", "foobar"]);
    c.cmd(&["SET", "b", "abc"]);
    assert_eq!(c.cmd(&["BITOP", "AND", "d", "a", "b"]), int(6));
    assert_eq!(c.cmd(&["GET", "d"]), Frame::Bulk(b"`bc\0\0\0".to_vec()));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "d"]), bulk("raw"));
    assert_eq!(c.cmd(&["BITOP", "OR", "d", "a", "b", "missing"]), int(6));
    assert_eq!(c.cmd(&["GET", "d"]), Frame::Bulk(b"goobar".to_vec()));
    assert_eq!(c.cmd(&["BITOP", "XOR", "d", "a", "b"]), int(6));
    assert_eq!(c.cmd(&["GET", "d"]), Frame::Bulk(b"\x07\x0d\x0cbar".to_vec()));
    assert_eq!(c.cmd(&["BITOP", "NOT", "d", "b"]), int(3));
    assert_eq!(c.cmd(&["GET", "d"]), Frame::Bulk(b"\x9e\x9d\x9c".to_vec()));
    assert_eq!(c.cmd(&["BITOP", "AND", "d", "missing", "missing2"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "d"]), int(0));
    assert_eq!(
        error_text(&c.cmd(&["BITOP", "NOT", "d", "a", "b"])),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(error_text(&c.cmd(&["BITOP", "NAND", "d", "a"])), "ERR syntax error");
    c.cmd(&["SET", "n", "12"]);
    assert_eq!(c.cmd(&["BITOP", "OR", "d", "n"]), int(2));
    assert_eq!(c.cmd(&["GET", "d"]), bulk("12"));
    c.cmd(&["LPUSH", "l", "x"]);
    assert!(error_text(&c.cmd(&["BITOP", "AND", "d", "a", "l"])).starts_with("WRONGTYPE"));
}

#[test]
fn bitfield_get_set_incrby_overflow() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(
        c.cmd(&[
            "BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0", "100", "OVERFLOW", "SAT",
            "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "GET", "u4", "0"
        ]),
        array(vec![int(0), int(100), int(-56), int(44), Frame::Null, int(2)])
    );
    assert_eq!(c.cmd(&["BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "8"]), array(vec![int(0), int(255)]));
    assert_eq!(
        c.cmd(&[
            "BITFIELD",
            "c",
            "INCRBY",
            "i64",
            "0",
            "9223372036854775807",
            "INCRBY",
            "i64",
            "0",
            "1",
            "OVERFLOW",
            "SAT",
            "INCRBY",
            "i64",
            "0",
            "-9223372036854775808",
            "INCRBY",
            "i64",
            "0",
            "-9223372036854775808"
        ]),
        array(vec![int(i64::MAX), int(i64::MIN), int(i64::MIN), int(i64::MIN)])
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "c", "SET", "u63", "5", "-1", "GET", "u63", "5"]),
        array(vec![int(0), int(i64::MAX)])
    );
    let type_err = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    assert_eq!(error_text(&c.cmd(&["BITFIELD", "bf", "GET", "u64", "0"])), type_err);
    assert_eq!(error_text(&c.cmd(&["BITFIELD", "bf", "GET", "I8", "0"])), type_err);
    assert_eq!(
        error_text(&c.cmd(&["BITFIELD", "bf", "OVERFLOW", "foo", "GET", "i8", "0"])),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(error_text(&c.cmd(&["BITFIELD", "bf", "GET", "i8"])), "ERR syntax error");
    assert_eq!(
        error_text(&c.cmd(&["BITFIELD", "bf", "GET", "i8", "#536870912"])),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(c.cmd(&["BITFIELD", "bf"]), array(vec![]));
    assert_eq!(c.cmd(&["BITFIELD", "missing", "GET", "i8", "0"]), array(vec![int(0)]));
    assert_eq!(c.cmd(&["EXISTS", "missing"]), int(0));
    // A refused write still creates the key, as Redis sizes the string first.
    assert_eq!(c.cmd(&["BITFIELD", "z", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"]), array(vec![Frame::Null]));
    assert_eq!(c.cmd(&["GET", "z"]), Frame::Bulk(vec![0]));
}

#[test]
fn bitfield_ro_only_reads() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "k", "\x7f"]);
    assert_eq!(c.cmd(&["BITFIELD_RO", "k", "GET", "i8", "0", "GET", "u4", "4"]), array(vec![int(127), int(15)]));
    assert_eq!(c.cmd(&["BITFIELD_RO", "k"]), array(vec![]));
    assert_eq!(
        error_text(&c.cmd(&["BITFIELD_RO", "k", "SET", "i8", "0", "1"])),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0"]),
        array(vec![array(vec![bulk("k"), array(vec![simple("RO"), simple("access")])])])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "SET", "u8", "0", "1"]),
        array(vec![array(vec![bulk("k"), array(vec![simple("RW"), simple("access"), simple("update")])])])
    );
}

#[test]
fn regression_bitfield_getkeys_does_not_make_keys_movable() {
    // Redis derives movablekeys from key specs for native commands; BITFIELD's getkeys
    // function (read-only detection) does not set it.
    let srv = server();
    let mut c = Conn::open(&srv);
    let Frame::Array(info) = c.cmd(&["COMMAND", "INFO", "bitfield"]) else { panic!() };
    let Frame::Array(cmd) = &info[0] else { panic!() };
    assert_eq!(cmd[2], array(vec![simple("write"), simple("denyoom")]));
    assert_eq!((&cmd[3], &cmd[4], &cmd[5]), (&int(1), &int(1), &int(1)));
}
