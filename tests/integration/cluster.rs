//! CLUSTER, READONLY, READWRITE and ASKING on a standalone server: present in the command
//! table, dispatched like any command, and answering that cluster support is disabled.

use crate::harness::*;

const DISABLED: &str = "ERR This instance has cluster support disabled";

#[test]
fn cluster_commands_answer_cluster_support_disabled() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for cmd in [
        &["CLUSTER", "HELP"][..],
        &["cluster", "keyslot", "foo"],
        &["CLUSTER", "INFO"],
        &["CLUSTER", "NODES"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "SHARDS"],
        &["CLUSTER", "SETSLOT", "1", "STABLE"],
        &["CLUSTER", "RESET"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
    ] {
        assert_eq!(c.cmd(cmd), err(DISABLED), "{cmd:?}");
    }
    // Arity and unknown subcommands are dispatch's errors, as for any command.
    assert_eq!(error_text(&c.cmd(&["CLUSTER"])), "ERR wrong number of arguments for 'cluster' command");
    assert_eq!(
        error_text(&c.cmd(&["CLUSTER", "KEYSLOT"])),
        "ERR wrong number of arguments for 'cluster|keyslot' command"
    );
    assert_eq!(
        error_text(&c.cmd(&["CLUSTER", "HELP", "x"])),
        "ERR wrong number of arguments for 'cluster|help' command"
    );
    assert_eq!(error_text(&c.cmd(&["CLUSTER", "foo"])), "ERR unknown subcommand 'foo'. Try CLUSTER HELP.");
    assert_eq!(error_text(&c.cmd(&["ASKING", "x"])), "ERR wrong number of arguments for 'asking' command");
    // Still a working connection afterwards.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn command_list_shows_cluster_commands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let Frame::Array(names) = c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "cluster*"]) else { panic!() };
    let mut names: Vec<String> = names
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 28, "{names:?}");
    for want in ["cluster", "cluster|help", "cluster|keyslot", "cluster|count-failure-reports", "cluster|slaves"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    let Frame::Array(info) = c.cmd(&["COMMAND", "INFO", "readonly"]) else { panic!() };
    let Frame::Array(readonly) = &info[0] else { panic!() };
    assert_eq!(readonly[0], bulk("readonly"));
    assert_eq!(readonly[1], int(1));
}
