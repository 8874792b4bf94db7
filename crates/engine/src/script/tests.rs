//! Engine-level tests of the scripting engine: a Server without sockets, commands through
//! the dispatcher, and a small Lua memory limit where the bound itself is under test.

use crate::config::Config;
use crate::reply::Reply;
use crate::server::Server;

fn server(limit: Option<usize>) -> (Server, usize) {
    let mut srv = Server::new(Config::new());
    if let Some(limit) = limit {
        srv.set_lua_memory_limit(limit);
    }
    let (slot, _) = srv.add_client("127.0.0.1:1".into(), "127.0.0.1:2".into(), -1, None);
    (srv, slot)
}

fn eval(srv: &mut Server, slot: usize, script: &str) -> Reply {
    crate::dispatch::process(srv, slot, &[b"EVAL", script.as_bytes(), b"0"])
}

fn error(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.message().into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn lua_memory_is_bounded() {
    let (mut srv, slot) = server(Some(16 << 20));
    let e = error(&eval(&mut srv, slot, "local t = {} for i = 1, 1e7 do t[i] = i end return #t"));
    assert!(e.contains("not enough memory"), "{e}");
    let e = error(&eval(&mut srv, slot, "return #string.rep('x', 64*1024*1024)"));
    assert!(e.contains("not enough memory"), "{e}");
    // The VM recovers: memory goes back and scripts run again.
    assert_eq!(eval(&mut srv, slot, "collectgarbage() return 1"), Reply::Int(1));
    // Well under the 16 MB limit: what is left is the VM's own tables (string table, stack),
    // whose size after the failed allocations depends on the allocator.
    let left = srv.scripts.eval_vm_memory();
    assert!(left < 4 << 20, "{left} bytes still held after collectgarbage");
}

#[test]
fn cve_2022_24834_library_buffers_stay_within_the_budget() {
    let (mut srv, slot) = server(Some(16 << 20));
    for script in [
        "local s = string.rep('\\1', 4*1024*1024) return #cjson.encode(s)",
        "local s = string.rep('x', 4*1024*1024) return #cmsgpack.pack(s, s, s, s)",
        "local s = string.rep('x', 4*1024*1024) return #struct.pack('c0c0c0c0', s, s, s, s)",
    ] {
        let e = error(&eval(&mut srv, slot, script));
        assert!(e.contains("not enough memory"), "{script}: {e}");
    }
    assert_eq!(eval(&mut srv, slot, "return #cmsgpack.pack(string.rep('x', 1000))"), Reply::Int(1003));
}

#[test]
fn used_memory_lua_is_reported_and_small() {
    let (mut srv, slot) = server(None);
    for i in 0..200 {
        eval(&mut srv, slot, &format!("return redis.call('incr', 'x') + {i}"));
    }
    let info = crate::info::generate(&srv, &crate::info::Selection::from_args(&[b"memory".as_slice()]));
    let line = info.lines().find(|l| l.starts_with("used_memory_lua:")).unwrap_or_default().to_string();
    let n: u64 = line.trim_start_matches("used_memory_lua:").trim().parse().unwrap_or(0);
    assert!(n > 0 && n < 1024 * 1024, "{line}");
    assert!(info.contains("number_of_cached_scripts:200"), "{info}");
}
