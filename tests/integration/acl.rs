//! ACL: users, AUTH, permission checks on commands, keys and channels (top level, EXEC,
//! scripts), the ACL log, users from the config file and the ACL file. Expected texts are
//! redis-server 7.0.15's.

use crate::harness::*;

/// The RESP2 array of an ACL LOG entry as (field, value) pairs.
fn log_entry(f: &Frame, idx: usize) -> Vec<(String, Frame)> {
    let Frame::Array(entries) = f else { panic!("not an array: {f:?}") };
    let Frame::Array(fields) = &entries[idx] else { panic!("not an entry") };
    fields
        .chunks(2)
        .map(|p| {
            let Frame::Bulk(k) = &p[0] else { panic!() };
            (String::from_utf8_lossy(k).into_owned(), p[1].clone())
        })
        .collect()
}

fn field(entry: &[(String, Frame)], name: &str) -> Frame {
    entry.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect("field present")
}

#[test]
fn default_user_and_user_lifecycle() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]), bulk("default"));
    assert_eq!(c.cmd(&["ACL", "LIST"]), bulks(&["user default on nopass ~* &* +@all"]));
    assert_eq!(c.cmd(&["ACL", "SETUSER", "foo"]), ok());
    assert_eq!(c.cmd(&["ACL", "SETUSER", "bar", "reset"]), ok());
    assert_eq!(
        c.cmd(&["ACL", "LIST"]),
        bulks(&[
            "user bar off sanitize-payload resetchannels -@all",
            "user default on nopass ~* &* +@all",
            "user foo off resetchannels -@all",
        ])
    );
    assert_eq!(c.cmd(&["ACL", "USERS"]), bulks(&["bar", "default", "foo"]));
    assert_eq!(c.cmd(&["ACL", "DELUSER", "foo", "nosuch"]), int(1));
    assert_eq!(error_text(&c.cmd(&["ACL", "DELUSER", "default"])), "ERR The 'default' user cannot be removed");
    assert_eq!(c.cmd(&["ACL", "GETUSER", "nosuch"]), Frame::Null);
}

#[test]
fn setuser_errors_change_nothing() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["ACL", "SETUSER", "u", "on", ">p", "~k*"]), ok());
    let before = c.cmd(&["ACL", "LIST"]);
    let cases = [
        (vec!["+nosuch"], "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"),
        (vec!["on", "bogus"], "ERR Error in ACL SETUSER modifier 'bogus': Syntax error"),
        (vec!["(+get", "~x"], "ERR Unmatched parenthesis in acl selector starting at '(+get'."),
        (vec!["<nosuch"], "ERR Error in ACL SETUSER modifier '<nosuch': The password you are trying to remove from the user does not exist"),
        (vec!["#abc"], "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
        (vec!["allkeys", "~x"], "ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
        (vec!["+config|get|x"], "ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"),
    ];
    for (rules, expected) in cases {
        let mut args = vec!["ACL", "SETUSER", "u"];
        args.extend(rules);
        assert_eq!(error_text(&c.cmd(&args)), expected);
    }
    assert_eq!(c.cmd(&["ACL", "LIST"]), before);
    assert_eq!(error_text(&c.cmd(&["ACL", "SETUSER", "a b"])), "ERR Usernames can't contain spaces or null characters");
}

#[test]
fn auth_and_command_key_channel_permissions() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "u1", "on", ">p", "~k*", "&ch*", "+@all", "-flushall"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(
        error_text(&c.cmd(&["AUTH", "u1", "wrong"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(c.cmd(&["AUTH", "u1", "p"]), ok());
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]), bulk("u1"));
    assert_eq!(c.cmd(&["SET", "k1", "v"]), ok());
    assert_eq!(
        error_text(&c.cmd(&["GET", "z1"])),
        "NOPERM this user has no permissions to access one of the keys used as arguments"
    );
    assert_eq!(error_text(&c.cmd(&["FLUSHALL"])), "NOPERM this user has no permissions to run the 'flushall' command");
    assert_eq!(c.cmd(&["PUBLISH", "ch1", "x"]), int(0));
    assert_eq!(
        error_text(&c.cmd(&["PUBLISH", "other", "x"])),
        "NOPERM this user has no permissions to access one of the channels used as arguments"
    );
    let Frame::Bulk(info) = c.cmd(&["CLIENT", "INFO"]) else { panic!() };
    assert!(String::from_utf8_lossy(&info).contains(" user=u1 "));
    // RESET goes back to the default user.
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]), bulk("default"));
}

#[test]
fn read_write_key_patterns_and_selectors() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "rw", "on", "nopass", "+@all", "%R~r*", "%W~w*", "(+get ~sel*)"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "rw", "x"]), ok());
    assert_eq!(c.cmd(&["GET", "r1"]), Frame::Null);
    assert!(error_text(&c.cmd(&["SET", "r1", "v"])).starts_with("NOPERM"));
    assert_eq!(c.cmd(&["SET", "w1", "v"]), ok());
    assert!(error_text(&c.cmd(&["GET", "w1"])).starts_with("NOPERM"));
    // The selector allows GET on sel*, nothing else there.
    assert_eq!(c.cmd(&["GET", "sel1"]), Frame::Null);
    assert!(error_text(&c.cmd(&["SET", "sel1", "v"])).starts_with("NOPERM"));
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "rw", "GET", "w1"]),
        bulk("This user has no permissions to access the 'w1' key")
    );
    assert_eq!(admin.cmd(&["ACL", "DRYRUN", "rw", "GET", "sel2"]), ok());
    let Frame::Array(user) = admin.cmd(&["ACL", "GETUSER", "rw"]) else { panic!() };
    assert_eq!(user[7], bulk("%R~r* %W~w*"));
    assert_eq!(user[11], array(vec![bulks(&["commands", "-@all +get", "keys", "~sel*", "channels", ""])]));
}

#[test]
fn acl_log_records_denials_with_context() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "lu", "on", ">p", "~k*", "+get", "+multi", "+exec", "+discard", "+eval"]),
        ok()
    );
    let mut c = Conn::open(&srv);
    assert!(error_text(&c.cmd(&["AUTH", "lu", "bad"])).starts_with("WRONGPASS"));
    let e = log_entry(&admin.cmd(&["ACL", "LOG", "1"]), 0);
    assert_eq!(field(&e, "reason"), bulk("auth"));
    assert_eq!(field(&e, "object"), bulk("AUTH"));
    assert_eq!(field(&e, "username"), bulk("lu"));
    assert_eq!(field(&e, "context"), bulk("toplevel"));
    assert_eq!(c.cmd(&["AUTH", "lu", "p"]), ok());
    assert!(error_text(&c.cmd(&["GET", "zz"])).starts_with("NOPERM"));
    let e = log_entry(&admin.cmd(&["ACL", "LOG", "1"]), 0);
    assert_eq!((field(&e, "reason"), field(&e, "object")), (bulk("key"), bulk("zz")));
    let Frame::Bulk(info) = field(&e, "client-info") else { panic!() };
    assert!(String::from_utf8_lossy(&info).contains("cmd=get user=lu"));
    // Denied while queueing: context multi.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert!(error_text(&c.cmd(&["INCR", "k1"])).starts_with("NOPERM"));
    let e = log_entry(&admin.cmd(&["ACL", "LOG", "1"]), 0);
    assert_eq!((field(&e, "context"), field(&e, "object")), (bulk("multi"), bulk("incr")));
    c.cmd(&["DISCARD"]);
    // Denied in a script: context lua, and the script's error text.
    let r = c.cmd(&["EVAL", "return redis.call('incr','k1')", "0"]);
    assert!(error_text(&r).starts_with("ERR The user executing the script can't run this command or subcommand"));
    let e = log_entry(&admin.cmd(&["ACL", "LOG", "1"]), 0);
    assert_eq!((field(&e, "context"), field(&e, "object")), (bulk("lua"), bulk("incr")));
    // Repeated denials are grouped.
    c.cmd(&["GET", "zz"]);
    c.cmd(&["GET", "zz"]);
    let e = log_entry(&admin.cmd(&["ACL", "LOG", "1"]), 0);
    assert_eq!(field(&e, "count"), int(3));
    assert_eq!(admin.cmd(&["ACL", "LOG", "RESET"]), ok());
    assert_eq!(admin.cmd(&["ACL", "LOG"]), array(vec![]));
}

#[test]
fn exec_rechecks_permissions_changed_after_queueing() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "tx", "on", "nopass", "~*", "+multi", "+exec", "+set", "+get"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "tx", "x"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["GET", "a"]), simple("QUEUED"));
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "tx", "-set"]), ok());
    let Frame::Array(replies) = c.cmd(&["EXEC"]) else { panic!() };
    assert_eq!(
        error_text(&replies[0]),
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand"
    );
    assert_eq!(replies[1], Frame::Null);
}

#[test]
fn scripts_run_as_their_caller() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "bob", "on", ">123", "+@scripting", "+set", "~x*"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "bob", "123"]), ok());
    assert_eq!(c.cmd(&["EVAL", "return redis.acl_check_cmd('set','xx',1)", "1", "xx"]), int(1));
    assert_eq!(c.cmd(&["EVAL", "return redis.acl_check_cmd('hset','xx','f',1)", "1", "xx"]), Frame::Null);
    assert_eq!(c.cmd(&["EVAL", "return redis.acl_check_cmd('set','yy',1)", "0"]), Frame::Null);
    assert!(error_text(&c.cmd(&["EVAL", "return redis.acl_check_cmd('nosuch')", "0"]))
        .contains("Invalid command passed to redis.acl_check_cmd()"));
    let r = c.cmd(&["EVAL", "return redis.call('set','yy',1)", "0"]);
    assert!(error_text(&r).starts_with(
        "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
    ));
    assert_eq!(c.cmd(&["EVAL", "return redis.call('set','xy',1)", "0"]), ok());
    // A key the script declares is checked before it runs.
    assert!(error_text(&c.cmd(&["EVAL", "return 1", "1", "yy"])).starts_with("NOPERM"));
}

#[test]
fn deleted_user_clients_are_disconnected() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "gone", "x"]), ok());
    assert_eq!(error_text(&admin.cmd(&["CLIENT", "KILL", "USER", "nosuch"])), "ERR No such user 'nosuch'");
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "gone"]), int(1));
    assert!(c.read_to_close().is_empty());
}

#[test]
fn client_kill_user() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "k", "on", "nopass", "+@all", "~*"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "k", "x"]), ok());
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "USER", "k"]), int(1));
    assert!(c.read_to_close().is_empty());
}

#[test]
fn pubsub_clients_losing_their_channels_are_disconnected() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "ps", "on", "nopass", "+@all", "resetchannels", "&news*"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["AUTH", "ps", "x"]), ok());
    assert!(error_text(&c.cmd(&["SUBSCRIBE", "sport"])).starts_with("NOPERM"));
    c.cmd(&["SUBSCRIBE", "news1"]);
    // Adding channels keeps it; taking its channel away disconnects it.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "ps", "&weather"]), ok());
    assert_eq!(admin.cmd(&["PUBLISH", "news1", "m"]), int(1));
    assert_eq!(c.read(), array(vec![bulk("message"), bulk("news1"), bulk("m")]));
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "ps", "resetchannels", "&weather"]), ok());
    assert!(c.read_to_close().is_empty());
}

#[test]
fn requirepass_is_the_default_users_password() {
    let srv = server();
    let mut admin = Conn::open(&srv);
    assert_eq!(admin.cmd(&["CONFIG", "SET", "requirepass", "secret"]), ok());
    let mut c = Conn::open(&srv);
    assert_eq!(error_text(&c.cmd(&["GET", "k"])), "NOAUTH Authentication required.");
    assert_eq!(c.cmd(&["AUTH", "default", "secret"]), ok());
    let Frame::Array(user) = c.cmd(&["ACL", "GETUSER", "default"]) else { panic!() };
    assert_eq!(user[3], bulks(&["2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"]));
    // A disabled default user means every new connection must authenticate.
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), ok());
    assert_eq!(c.cmd(&["ACL", "SETUSER", "default", "off"]), ok());
    let mut d = Conn::open(&srv);
    assert_eq!(error_text(&d.cmd(&["PING"])), "NOAUTH Authentication required.");
    assert!(error_text(&d.cmd(&["HELLO", "3", "AUTH", "default", "x"])).starts_with("WRONGPASS"));
    assert_eq!(c.cmd(&["ACL", "SETUSER", "default", "on"]), ok());
}

#[test]
fn users_from_the_config_file() {
    let srv = server_with("user alice on >pw ~a* +get\nuser default on nopass ~* &* +@all -flushdb");
    let mut c = Conn::open(&srv);
    assert_eq!(
        c.cmd(&["ACL", "LIST"]),
        bulks(&[
            "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get",
            "user default on nopass sanitize-payload ~* &* +@all -flushdb",
        ])
    );
    assert!(error_text(&c.cmd(&["FLUSHDB"])).starts_with("NOPERM"));
    assert_eq!(c.cmd(&["AUTH", "alice", "pw"]), ok());
    assert_eq!(c.cmd(&["GET", "a1"]), Frame::Null);
}

#[test]
fn aclfile_save_and_load() {
    let dir = std::env::temp_dir().join(format!("spinel-acl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.acl");
    std::fs::write(&path, "user default on nopass ~* &* +@all\nuser carol on nopass ~c* +@read\n").unwrap();
    let srv = server_with(&format!("aclfile {}", path.display()));
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["ACL", "USERS"]), bulks(&["carol", "default"]));
    assert_eq!(c.cmd(&["ACL", "SETUSER", "dave", "on", "nopass", "+ping"]), ok());
    assert_eq!(c.cmd(&["ACL", "SAVE"]), ok());
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("user dave on nopass resetchannels -@all +ping\n"), "{saved}");
    // A broken file changes nothing.
    std::fs::write(&path, "user erin on +nosuch\nbogus\n").unwrap();
    let Frame::Error(e) = c.cmd(&["ACL", "LOAD"]) else { panic!() };
    let e = String::from_utf8_lossy(&e).into_owned();
    assert!(e.contains(":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. "), "{e}");
    assert!(e.contains(":2 should start with user keyword followed by the username. "), "{e}");
    assert!(e.ends_with("WARNING: ACL errors detected, no change to the previously active ACL rules was performed"));
    assert_eq!(c.cmd(&["ACL", "USERS"]), bulks(&["carol", "dave", "default"]));
    std::fs::write(&path, "user frank on nopass +@all ~*\n").unwrap();
    assert_eq!(c.cmd(&["ACL", "LOAD"]), ok());
    assert_eq!(c.cmd(&["ACL", "USERS"]), bulks(&["default", "frank"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acl_cat_and_genpass() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let Frame::Array(cats) = c.cmd(&["ACL", "CAT"]) else { panic!() };
    assert_eq!(cats.len(), 21);
    assert_eq!(cats[0], bulk("keyspace"));
    let Frame::Array(cmds) = c.cmd(&["ACL", "CAT", "transaction"]) else { panic!() };
    assert!(cmds.contains(&bulk("multi")) && cmds.contains(&bulk("watch")));
    assert_eq!(error_text(&c.cmd(&["ACL", "CAT", "nosuch"])), "ERR Unknown category 'nosuch'");
    let Frame::Bulk(p) = c.cmd(&["ACL", "GENPASS"]) else { panic!() };
    assert_eq!(p.len(), 64);
    let Frame::Bulk(p) = c.cmd(&["ACL", "GENPASS", "5"]) else { panic!() };
    assert_eq!(p.len(), 2);
    assert_eq!(
        error_text(&c.cmd(&["ACL", "GENPASS", "0"])),
        "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
    );
}
