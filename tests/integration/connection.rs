//! Connection and server commands: CLIENT, CONFIG, INFO, transactions, QUIT.

use crate::harness::*;

#[test]
fn client_setname_list_kill() {
    let srv = server();
    let mut a = Conn::open(&srv);
    let mut b = Conn::open(&srv);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), ok());
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), bulk("alpha"));
    assert_eq!(
        error_text(&a.cmd(&["CLIENT", "SETNAME", "has space"])),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    let Frame::Integer(bid) = b.cmd(&["CLIENT", "ID"]) else { panic!() };
    let Frame::Bulk(list) = a.cmd(&["CLIENT", "LIST"]) else { panic!() };
    let list = String::from_utf8(list).unwrap();
    assert!(list.contains("name=alpha"));
    assert!(list.contains(&format!("id={bid} ")));
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID", &bid.to_string()]), int(1));
    assert!(b.read_to_close().is_empty());
    let Frame::Bulk(list) = a.cmd(&["CLIENT", "LIST"]) else { panic!() };
    assert!(!String::from_utf8(list).unwrap().contains(&format!("id={bid} ")));
}

#[test]
fn client_reply_off_and_skip() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send_cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.send_cmd(&["SET", "a", "1"]);
    c.send_cmd(&["GET", "a"]);
    assert_eq!(c.read(), bulk("1"));
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    c.send_cmd(&["SET", "a", "2"]);
    c.send_cmd(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(c.read(), ok());
    assert_eq!(c.cmd(&["GET", "a"]), bulk("2"));
}

#[test]
fn config_get_set_and_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1mb", "hz", "20"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "GET", "maxmemory"]), bulks(&["maxmemory", "1048576"]));
    assert_eq!(
        error_text(&c.cmd(&["CONFIG", "SET", "maxmemory", "lots"])),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        error_text(&c.cmd(&["CONFIG", "SET", "nosuch", "1"])),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    // Atomic: a bad pair leaves the good one unset.
    assert!(matches!(c.cmd(&["CONFIG", "SET", "hz", "30", "maxmemory", "x"]), Frame::Error(_)));
    assert_eq!(c.cmd(&["CONFIG", "GET", "hz"]), bulks(&["hz", "20"]));
    assert_eq!(error_text(&c.cmd(&["CONFIG", "REWRITE"])), "ERR The server is running without a config file");
}

#[test]
fn info_sections() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let Frame::Bulk(all) = c.cmd(&["INFO"]) else { panic!() };
    let all = String::from_utf8(all).unwrap();
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Errorstats",
        "# Cluster",
        "# Keyspace",
    ] {
        assert!(all.contains(section), "{section}");
    }
    assert!(all.contains("redis_version:7.0.15\r\n"));
    assert!(!all.contains("# Commandstats"));
    c.cmd(&["GET", "x"]);
    c.cmd(&["FOO"]);
    let Frame::Bulk(stats) = c.cmd(&["INFO", "commandstats", "errorstats"]) else { panic!() };
    let stats = String::from_utf8(stats).unwrap();
    assert!(stats.contains("cmdstat_get:calls=1,"), "{stats}");
    assert!(stats.contains("errorstat_ERR:count=1"), "{stats}");
}

#[test]
fn transactions_queue_and_execute() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["INCR", "a"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), array(vec![ok(), int(2)]));
    c.cmd(&["MULTI"]);
    assert_eq!(error_text(&c.cmd(&["NOSUCH"])), "ERR unknown command 'NOSUCH', with args beginning with: ");
    assert_eq!(error_text(&c.cmd(&["EXEC"])), "EXECABORT Transaction discarded because of previous errors.");
    let mut other = Conn::open(&srv);
    c.cmd(&["WATCH", "a"]);
    other.cmd(&["SET", "a", "changed"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "mine"]);
    assert_eq!(c.cmd(&["EXEC"]), Frame::NullArray);
    assert_eq!(c.cmd(&["GET", "a"]), bulk("changed"));
    assert_eq!(error_text(&c.cmd(&["EXEC"])), "ERR EXEC without MULTI");
}

#[test]
fn quit_replies_then_closes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send_cmd(&["QUIT"]);
    assert_eq!(c.read_to_close(), b"+OK\r\n");
}

#[test]
fn command_introspection() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let Frame::Integer(n) = c.cmd(&["COMMAND", "COUNT"]) else { panic!() };
    assert!(n > 50);
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]), bulks(&["a", "b"]));
    let Frame::Array(info) = c.cmd(&["COMMAND", "INFO", "get"]) else { panic!() };
    let Frame::Array(get) = &info[0] else { panic!() };
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], int(2));
    assert_eq!(get[3..6], [int(1), int(1), int(1)]);
    let Frame::Array(docs) = c.cmd(&["COMMAND", "DOCS", "set"]) else { panic!() };
    assert_eq!(docs[0], bulk("set"));
}

#[test]
fn command_specs_follow_redis_7_0() {
    let srv = server();
    let mut c = Conn::open(&srv);
    // SET's key flags depend on GET (Redis's setGetKeys); its keys are not movable.
    let flags = |c: &mut Conn, args: &[&str]| {
        let Frame::Array(keys) = c.cmd(args) else { panic!() };
        let Frame::Array(pair) = &keys[0] else { panic!() };
        pair[1].clone()
    };
    assert_eq!(
        flags(&mut c, &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"]),
        array(vec![simple("OW"), simple("update")])
    );
    assert_eq!(
        flags(&mut c, &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "get"]),
        array(vec![simple("RW"), simple("access"), simple("update")])
    );
    let Frame::Array(info) = c.cmd(&["COMMAND", "INFO", "set"]) else { panic!() };
    let Frame::Array(set) = &info[0] else { panic!() };
    assert_eq!(set[2], array(vec![simple("write"), simple("denyoom")]));
    // GETKEYS needs a command with at least one argument.
    assert_eq!(
        error_text(&c.cmd(&["COMMAND", "GETKEYS", "GET"])),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );
    // Commands whose keys are optional list none instead of failing.
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "EVAL", "return 1", "0"]), array(vec![]));
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "EVAL", "return 1", "1", "key"]), bulks(&["key"]));
    // SHUTDOWN is no-multi.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(error_text(&c.cmd(&["SHUTDOWN", "NOSAVE"])), "ERR Command not allowed inside a transaction");
    assert_eq!(c.cmd(&["DISCARD"]), ok());
    // Summaries are 7.0.15's.
    let Frame::Array(docs) = c.cmd(&["COMMAND", "DOCS", "get"]) else { panic!() };
    let Frame::Array(fields) = &docs[1] else { panic!() };
    assert_eq!(fields[..2], [bulk("summary"), bulk("Get the value of a key")]);
}

/// CONFIG SET port moves the listener (connected clients stay); a port that cannot be
/// listened on fails the whole CONFIG SET, restores every value it set, and keeps the old
/// listener, as Redis's apply/rollback does.
#[test]
fn config_set_port_moves_the_listener_and_rolls_back_when_it_cannot() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port().to_string();
    let reply = c.cmd(&["CONFIG", "SET", "maxmemory", "12345", "port", &taken_port]);
    assert_eq!(
        error_text(&reply),
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "maxmemory"]), bulks(&["maxmemory", "0"]));
    assert_eq!(Conn::open(&srv).cmd(&["PING"]), simple("PONG"));
    drop(taken);

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &free.to_string()]), ok());
    assert_eq!(Conn::open_port(free).cmd(&["PING"]), simple("PONG"));
    assert!(std::net::TcpStream::connect(("127.0.0.1", srv.port)).is_err(), "the old port still accepts");
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}
