//! Lua scripting (EVAL family, SCRIPT), functions (FUNCTION, FCALL), the sandbox and its
//! known escapes (one regression test per CVE), busy scripts and propagation. Expected
//! replies are redis-server 7.0.15's.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::*;

fn eval(c: &mut Conn, script: &str) -> Frame {
    c.cmd(&["EVAL", script, "0"])
}

#[test]
fn lua_values_become_redis_replies() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(eval(&mut c, "return 'hello'"), bulk("hello"));
    assert_eq!(eval(&mut c, "return 100.5"), int(100));
    assert_eq!(eval(&mut c, "return -1.9"), int(-1));
    assert_eq!(eval(&mut c, "return 1e300"), int(i64::MIN));
    assert_eq!(eval(&mut c, "return true"), int(1));
    assert_eq!(eval(&mut c, "return false"), Frame::Null);
    assert_eq!(eval(&mut c, "return nil"), Frame::Null);
    assert_eq!(eval(&mut c, "return {ok='fine'}"), simple("fine"));
    assert_eq!(eval(&mut c, "return {ok='a\\r\\nb'}"), simple("a  b"));
    assert_eq!(eval(&mut c, "return {err='ERR this is an error'}"), err("ERR this is an error"));
    assert_eq!(
        eval(&mut c, "return {1,2,3,'ciao',{1,2}}"),
        array(vec![int(1), int(2), int(3), bulk("ciao"), array(vec![int(1), int(2)])])
    );
    assert_eq!(eval(&mut c, "return {1,nil,3}"), array(vec![int(1)]));
    assert_eq!(eval(&mut c, "return _G"), array(vec![]));
    // Metamethods are not called while converting (raw access).
    assert_eq!(eval(&mut c, "local a = {}; setmetatable(a,{__index=function() foo() end}) return a"), array(vec![]));
    assert_eq!(
        c.cmd(&["EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "a", "b", "c", "d"]),
        bulks(&["a", "b", "c", "d"])
    );
    assert_eq!(
        eval(&mut c, "return redis.sha1hex('Pizza & Mandolino')"),
        bulk("74822d82031af7493c20eefa13bd07ec4fada82f")
    );
    assert_eq!(eval(&mut c, "return redis.error_reply('MY_ERR_CODE custom msg')"), err("MY_ERR_CODE custom msg"));
    assert_eq!(eval(&mut c, "return redis.error_reply('')"), err("ERR "));
    assert_eq!(eval(&mut c, "return redis.status_reply('MY_OK_CODE custom msg')"), simple("MY_OK_CODE custom msg"));
    assert_eq!(eval(&mut c, "return redis.error_reply(1)"), err("ERR wrong number or type of arguments"));
    assert_eq!(eval(&mut c, "return redis.REDIS_VERSION"), bulk("7.0.15"));
    assert_eq!(eval(&mut c, "return redis.REDIS_VERSION_NUM"), int(0x07000f));
    assert_eq!(eval(&mut c, "return redis.replicate_commands()"), int(1));
    assert_eq!(eval(&mut c, "return {redis.breakpoint()}"), array(vec![Frame::Null]));
    assert_eq!(
        eval(&mut c, "return {redis.LOG_DEBUG, redis.LOG_WARNING, redis.REPL_ALL, redis.REPL_SLAVE}"),
        array(vec![int(0), int(3), int(3), int(2)])
    );
}

#[test]
fn redis_replies_become_lua_values() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "x", "0"]);
    assert_eq!(
        c.cmd(&["EVAL", "local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo}", "1", "x"]),
        array(vec![bulk("number"), int(1)])
    );
    assert_eq!(
        c.cmd(&["EVAL", "local foo = redis.pcall('set',KEYS[1],'v') return {type(foo),foo['ok']}", "1", "k"]),
        bulks(&["table", "OK"])
    );
    c.cmd(&["SET", "s", "str"]);
    assert_eq!(
        c.cmd(&["EVAL", "local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo['err']}", "1", "s"]),
        bulks(&["table", "ERR value is not an integer or out of range"])
    );
    assert_eq!(
        c.cmd(&["EVAL", "local foo = redis.pcall('get',KEYS[1]) return {type(foo),foo == false}", "1", "nokey"]),
        array(vec![bulk("boolean"), int(1)])
    );
    // Numbers go to commands as %.17g, so integers keep their precision.
    assert_eq!(
        eval(&mut c, "redis.call('set','foo',9007199254740991) return redis.call('get','foo')"),
        bulk("9007199254740991")
    );
    // RESP3 inside the script: doubles, maps, booleans as tables.
    assert_eq!(eval(&mut c, "redis.setresp(3) return redis.call('incrbyfloat','fl','1.5')"), bulk("1.5"));
    assert_eq!(eval(&mut c, "return {double=3.5}"), bulk("3.5"));
    assert_eq!(eval(&mut c, "return {big_number='123\\r\\n4'}"), bulk("123  4"));
    c.cmd(&["HELLO", "3"]);
    assert_eq!(eval(&mut c, "return {double=3.5}"), Frame::Double(b"3.5".to_vec()));
    assert_eq!(eval(&mut c, "return {big_number='1234'}"), Frame::BigNumber(b"1234".to_vec()));
    assert_eq!(eval(&mut c, "return {map={a=1}}"), Frame::Map(vec![(bulk("a"), int(1))]));
    assert_eq!(eval(&mut c, "return {set={a=true}}"), Frame::Set(vec![bulk("a")]));
    assert_eq!(eval(&mut c, "return false"), Frame::Null);
    assert_eq!(eval(&mut c, "redis.setresp(3) return false"), Frame::Boolean(false));
    assert_eq!(
        eval(&mut c, "return {verbatim_string={format='mkd', string='# hi'}}"),
        Frame::Verbatim { format: *b"mkd", text: b"# hi".to_vec() }
    );
    assert_eq!(
        eval(&mut c, "redis.setresp(3) return redis.call('command','docs','get')['map']['get']['map']['since']"),
        bulk("1.0.0")
    );
    assert_eq!(
        error_text(&eval(&mut c, "redis.setresp(4)")),
        format!("ERR RESP version must be 2 or 3. script: {}, on @user_script:1.", sha("redis.setresp(4)"))
    );
}

#[test]
fn script_cache_and_evalsha() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "mykey", "myval"]);
    assert_eq!(c.cmd(&["EVAL", "return redis.call('get',KEYS[1])", "1", "mykey"]), bulk("myval"));
    let sha = "fd758d1589d044dd850a6f05d52f2eefd27f033f";
    assert_eq!(c.cmd(&["EVALSHA", sha, "1", "mykey"]), bulk("myval"));
    assert_eq!(c.cmd(&["EVALSHA", &sha.to_uppercase(), "1", "mykey"]), bulk("myval"));
    assert_eq!(c.cmd(&["EVALSHA", "NotValidShaSUM", "0"]), err("NOSCRIPT No matching script. Please use EVAL."));
    assert_eq!(
        c.cmd(&["SCRIPT", "EXISTS", sha, "ffffffffffffffffffffffffffffffffffffffff"]),
        array(vec![int(1), int(0)])
    );
    assert_eq!(c.cmd(&["SCRIPT", "LOAD", "return 'loaded'"]), bulk("b534286061d4b9e4026607613b95c06c06015ae8"));
    assert_eq!(c.cmd(&["EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"]), bulk("loaded"));
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH", "BOGUS"]), err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["EVALSHA", sha, "1", "mykey"]), err("NOSCRIPT No matching script. Please use EVAL."));
    assert_eq!(c.cmd(&["SCRIPT", "KILL"]), err("NOTBUSY No scripts in execution right now."));
    assert_eq!(
        c.cmd(&["SCRIPT", "LOAD", "return 1 +"]),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    );
    assert_eq!(c.cmd(&["EVAL", "return 1", "-1"]), err("ERR Number of keys can't be negative"));
    assert_eq!(c.cmd(&["EVAL", "return 1", "2", "a"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(c.cmd(&["EVAL", "return 1", "x"]), err("ERR value is not an integer or out of range"));
    let Frame::Array(help) = c.cmd(&["SCRIPT", "HELP"]) else { panic!() };
    assert_eq!(help.len(), 17);
}

#[test]
fn script_errors_name_the_script_and_line() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(
        error_text(&eval(&mut c, "return a")),
        "ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1."
    );
    assert_eq!(
        error_text(&eval(&mut c, "redis.call('nosuch')")),
        "ERR Unknown Redis command called from script script: 430a4c08007a56d804d36fb3892501d47c06f338, on @user_script:1."
    );
    assert_eq!(eval(&mut c, "return redis.pcall('nosuch')"), err("ERR Unknown Redis command called from script"));
    assert_eq!(
        eval(&mut c, "local ok, e = pcall(redis.call,'nosuch') return e"),
        bulk("ERR Unknown Redis command called from script")
    );
    assert_eq!(
        error_text(&eval(&mut c, "redis.call('get','a','b','c')")),
        "ERR Wrong number of args calling Redis command from script script: 4a2e5d5c6dbd9a8e5f4e3a3d4a1e1e73e68c5b89, on @user_script:1.".replace("4a2e5d5c6dbd9a8e5f4e3a3d4a1e1e73e68c5b89", &sha("redis.call('get','a','b','c')"))
    );
    assert!(error_text(&eval(&mut c, "return redis.call()"))
        .contains("Please specify at least one argument for this redis lib call"));
    assert!(error_text(&eval(&mut c, "redis.call('ping', {})"))
        .starts_with("ERR Lua redis lib command arguments must be strings or integers"));
    assert!(error_text(&eval(&mut c, "redis.call('blpop','x',0)"))
        .starts_with("ERR This Redis command is not allowed from script"));
    assert!(error_text(&eval(&mut c, "error('x')")).starts_with("ERR user_script:1: x script: "));
    assert!(error_text(&eval(&mut c, "error({err='FOO bar'})")).starts_with("FOO bar script: "));
    assert_eq!(
        eval(&mut c, "local status, res = pcall(function() return foo end); return res"),
        bulk("user_script:1: Script attempted to access nonexistent global variable 'foo'")
    );
    // Shebangs.
    assert_eq!(c.cmd(&["EVAL", "#!not-lua\nreturn 1", "0"]), err("ERR Unexpected engine in script shebang: #!not-lua"));
    assert_eq!(
        c.cmd(&["EVAL", "#!lua badger=data\nreturn 1", "0"]),
        err("ERR Unknown lua shebang option: badger=data")
    );
    assert_eq!(
        c.cmd(&["EVAL", "#!lua flags=allow-oom,what?\nreturn 1", "0"]),
        err("ERR Unexpected flag in script shebang: what?")
    );
    assert_eq!(c.cmd(&["EVAL", "#!lua", "0"]), err("ERR Invalid script shebang"));
    assert_eq!(c.cmd(&["EVAL", "#!lua\nreturn 1", "0"]), int(1));
}

fn sha(s: &str) -> String {
    spinel_engine::script::sha1_hex(s.as_bytes())
}

#[test]
fn read_only_scripts_refuse_writes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "foo", "bar"]);
    assert_eq!(c.cmd(&["EVAL_RO", "return redis.call('get', KEYS[1]);", "1", "foo"]), bulk("bar"));
    assert!(error_text(&c.cmd(&["EVAL_RO", "redis.call('del', KEYS[1]);", "1", "foo"]))
        .starts_with("ERR Write commands are not allowed from read-only scripts. script: "));
    assert!(error_text(&c.cmd(&["EVAL", "#!lua flags=no-writes\nredis.call('set','x',1)", "0"]))
        .starts_with("ERR Write commands are not allowed from read-only scripts."));
    assert_eq!(
        c.cmd(&["EVAL_RO", "#!lua\nreturn 1", "0"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(c.cmd(&["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"]), int(1));
    // Keys that were not declared are allowed, as in Redis.
    assert_eq!(c.cmd(&["EVAL", "return redis.call('get','foo')", "0"]), bulk("bar"));
}

#[test]
fn deny_oom_for_scripts() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "x", "123"]);
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    assert!(error_text(&c.cmd(&["EVAL", "redis.call('set','x',1)", "1", "x"]))
        .starts_with("OOM command not allowed when used memory > 'maxmemory'."));
    assert_eq!(c.cmd(&["EVAL", "return redis.call('get','x')", "1", "x"]), bulk("123"));
    assert_eq!(
        c.cmd(&["EVAL", "#!lua flags=\nreturn 1", "0"]),
        err("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(c.cmd(&["EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1) return 1", "1", "x"]), int(1));
    assert_eq!(c.cmd(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"]), bulk("1"));
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn script_errors_are_counted_once() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert!(error_text(&eval(&mut c, "return redis.call('select',99)")).starts_with("ERR DB index is out of range"));
    let info = match c.cmd(&["INFO", "stats"]) {
        Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("total_error_replies:1\r\n"), "{info}");
    let stats = match c.cmd(&["INFO", "commandstats"]) {
        Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(stats.contains("cmdstat_eval:calls=1,") && stats.contains("rejected_calls=0,failed_calls=1"), "{stats}");
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(eval(&mut c, "return redis.error_reply('MY_ERR_CODE custom msg')"), err("MY_ERR_CODE custom msg"));
    let errs = match c.cmd(&["INFO", "errorstats"]) {
        Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(errs.contains("errorstat_MY_ERR_CODE:count=1"), "{errs}");
}

#[test]
fn scripts_use_the_callers_db_and_select_does_not_leak() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SELECT", "10"]);
    c.cmd(&["SET", "mykey", "this is DB 10"]);
    assert_eq!(c.cmd(&["EVAL", "return redis.pcall('get',KEYS[1])", "1", "mykey"]), bulk("this is DB 10"));
    assert_eq!(eval(&mut c, "return redis.pcall('select','9')"), ok());
    assert_eq!(c.cmd(&["GET", "mykey"]), bulk("this is DB 10"));
}

// --- The sandbox and its known escapes ---------------------------------------------------

#[test]
fn globals_are_read_only() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for script in [
        "a = 10",
        "setmetatable(_G, {})",
        "local g = getmetatable(_G) g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "rawset(_G, 'x', 1)",
        "rawset(redis, 'call', 1)",
        "table.insert(redis, 1)",
        "string.upper = nil",
    ] {
        let e = error_text(&eval(&mut c, script));
        assert!(e.contains("Attempt to modify a readonly table"), "{script}: {e}");
    }
    assert_eq!(eval(&mut c, "return {rawget(_G,'redis') ~= nil}"), array(vec![int(1)]));
    assert_eq!(eval(&mut c, "local n=0 for k,v in pairs(_G) do n=n+1 end return n"), int(35));
    for name in
        ["loadfile", "dofile", "print", "getfenv", "setfenv", "newproxy", "debug", "io", "os", "require", "module"]
    {
        let e = error_text(&eval(&mut c, &format!("return {name}")));
        assert!(e.contains(&format!("Script attempted to access nonexistent global variable '{name}'")), "{e}");
    }
}

#[test]
fn cve_2022_0543_package_loadlib() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let e = error_text(&eval(
        &mut c,
        "local f = package.loadlib('/usr/lib/x86_64-linux-gnu/liblua5.1.so.0', 'luaopen_io') return 1",
    ));
    assert!(e.contains("Script attempted to access nonexistent global variable 'package'"), "{e}");
    let e = error_text(&eval(&mut c, "return _G.package"));
    assert!(e.contains("nonexistent global variable 'package'"), "{e}");
}

#[test]
fn cve_2022_24735_metatable_writes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    // The string metatable (shared by every string) and the libraries it points to.
    for script in [
        "getmetatable('').__index = {}",
        "getmetatable('').__index.upper = function() return 'hacked' end",
        "getmetatable('').__newindex = function() end",
        "setmetatable(getmetatable(''), {})",
        "rawset(getmetatable(''), '__index', {})",
        "local mt = getmetatable(redis) if mt then mt.x = 1 else error('Attempt to modify a readonly table') end",
    ] {
        let e = error_text(&eval(&mut c, script));
        assert!(e.contains("Attempt to modify a readonly table"), "{script}: {e}");
    }
    // Nothing changed for the next script.
    assert_eq!(eval(&mut c, "return ('abc'):upper()"), bulk("ABC"));
    assert_eq!(eval(&mut c, "return redis.call('ping')"), simple("PONG"));
}

#[test]
fn bytecode_is_refused_by_loadstring() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let e = error_text(&eval(&mut c, "return loadstring(string.dump(function() return 1 end))()"));
    assert!(e.contains("attempt to call a nil value"), "{e}");
    assert_eq!(
        eval(&mut c, "local f, e = loadstring(string.dump(function() return 1 end)) return e"),
        bulk("[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'")
    );
    assert_eq!(eval(&mut c, "return loadstring('return 1 + 1')()"), int(2));
    assert_eq!(
        c.cmd(&["EVAL", "\x1bLuaQ", "0"]),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'")
    );
}

#[test]
fn cve_2022_24834_cjson_cmsgpack_overflow() {
    // Huge outputs fail within the VM's memory budget instead of overflowing a length.
    let srv = server();
    let mut c = Conn::open(&srv);
    // 190 MB of control characters escape to 1.1 GB: refused before anything is built
    // (the engine's unit tests cover cmsgpack and struct with a small VM).
    let e = error_text(&eval(&mut c, "local s = string.rep('\\1', 190*1024*1024) return #cjson.encode(s)"));
    assert!(e.contains("not enough memory"), "{e}");
    // Normal sizes work, with lua-cmsgpack's encodings.
    assert_eq!(eval(&mut c, "return #cjson.encode(string.rep('\\1', 100000))"), int(600002));
    let hex = "local e = cmsgpack.pack(...) local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h";
    assert_eq!(c.cmd(&["EVAL", &hex.replace("...", "0.1"), "0"]), bulk("cb3fb999999999999a"));
    assert_eq!(c.cmd(&["EVAL", &hex.replace("...", "-1099511627776"), "0"]), bulk("d3ffffff0000000000"));
    assert_eq!(eval(&mut c, "return redis.call('ping')"), simple("PONG"));
}

#[test]
fn cve_2024_31449_bit_tohex() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(eval(&mut c, "return bit.tohex(65535, -2147483648)"), bulk("0000FFFF"));
    assert_eq!(eval(&mut c, "return bit.tohex(65535, 2147483647)"), bulk("0000ffff"));
    assert_eq!(eval(&mut c, "return bit.tohex(-1, -8)"), bulk("FFFFFFFF"));
    assert_eq!(eval(&mut c, "return bit.tohex(255, 2)"), bulk("ff"));
    assert_eq!(
        eval(&mut c, "return {bit.tobit(1), bit.band(1), bit.bxor(1,2), bit.bor(1,2,4,8,16,32,64,128)}"),
        array(vec![int(1), int(1), int(3), int(255)])
    );
}

#[test]
fn huge_unpack_ranges() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for range in ["1, 1e8", "-2147483648, 2147483647", "1, 2147483647", "0, 2147483647"] {
        let e = error_text(&eval(&mut c, &format!("return unpack({{}}, {range})")));
        assert!(e.starts_with("ERR user_script:1: too many results to unpack"), "{range}: {e}");
    }
    assert_eq!(
        eval(&mut c, "local a = {} for i=1,7999 do a[i] = 1 end return redis.call('rpush', 'l', unpack(a))"),
        int(7999)
    );
    assert_eq!(eval(&mut c, "return {unpack({1,2,3}, 2)}"), array(vec![int(2), int(3)]));
}

#[test]
fn self_referencing_table_reached_lua_stack_limit() {
    let srv = server();
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let script = "local a = {}; local b = {a}; a[1] = b; return a";
    s.write_all(&Frame::command([b"EVAL".as_slice(), script.as_bytes(), b"0"])).unwrap();
    let mut got = Vec::new();
    let end = b"-ERR reached lua stack limit\r\n";
    while !got.ends_with(end) {
        let mut chunk = [0u8; 65536];
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&chunk[..n]);
    }
    let depth = (got.len() - end.len()) / 4;
    assert_eq!(&got[..got.len() - end.len()], b"*1\r\n".repeat(depth).as_slice());
    assert!(depth > 1000, "nesting stops at Lua's stack limit, not before ({depth})");
    // The connection still works.
    s.write_all(&Frame::command([b"PING".as_slice()])).unwrap();
    let mut pong = [0u8; 7];
    s.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
}

#[test]
fn cjson_2000_deep_nesting() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let json = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    let e = error_text(&c.cmd(&["EVAL", "return cjson.decode(ARGV[1])", "0", &json]));
    assert!(e.contains("Found too many nested data structures (1001) at character 1001"), "{e}");
    let e = error_text(&eval(
        &mut c,
        "local t = {} local cur = t for i = 1, 2000 do cur[1] = {} cur = cur[1] end return cjson.encode(t)",
    ));
    assert!(e.contains("Cannot serialise, excessive nesting (1001)"), "{e}");
    // Raising the limit is bounded by the Lua stack, never by our native stack.
    let e = error_text(&c.cmd(&["EVAL", "cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, ARGV[1]) cjson.decode_max_depth(1000) error(e)", "0", &"[".repeat(200000)]));
    assert!(e.contains("Found too many nested data structures"), "{e}");
    assert_eq!(
        eval(&mut c, "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')"),
        bulk("0 -5000 -1 0.0003 1023.2 0")
    );
    assert_eq!(eval(&mut c, "return cjson.encode({1,2,{a=1}})"), bulk("[1,2,{\"a\":1}]"));
    assert_eq!(eval(&mut c, "return cjson.encode('a/b\"\\n')"), bulk("\"a\\/b\\\"\\n\""));
    let e = error_text(&eval(&mut c, "return cjson.encode({[false]=1})"));
    assert!(e.contains("Cannot serialise boolean: table key must be a number or string"), "{e}");
}

#[test]
fn struct_and_cmsgpack_round_trips() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(eval(&mut c, "return {struct.unpack('>i2', struct.pack('>i2', -2))}"), array(vec![int(-2), int(3)]));
    assert_eq!(eval(&mut c, "return struct.size('>iI8d')"), int(20));
    assert_eq!(eval(&mut c, "return {struct.unpack('s', struct.pack('s', 'hi'))}"), array(vec![bulk("hi"), int(4)]));
    assert!(error_text(&eval(&mut c, "struct.pack('i33', 1)")).contains("integral size 33 is larger than limit of 32"));
    assert_eq!(
        eval(&mut c, "local o, v = cmsgpack.unpack_one(cmsgpack.pack({a=1}, 2), 0) return {o, v.a}"),
        array(vec![int(4), int(1)])
    );
    assert_eq!(
        eval(&mut c, "return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {1,2}))}"),
        array(vec![int(1), bulk("x"), array(vec![int(1), int(2)])])
    );
    assert!(error_text(&eval(&mut c, "return cmsgpack.unpack('\\145')")).contains("Missing bytes in input."));
}

// --- Busy scripts ------------------------------------------------------------------------

/// Waits until a new connection's PING gets `-BUSY` (the script timed out).
fn wait_busy(srv: &TestServer) -> Conn {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = Conn::open(srv);
        if let Frame::Error(e) = c.cmd(&["PING"]) {
            assert!(e.starts_with(b"BUSY"), "{}", String::from_utf8_lossy(&e));
            return c;
        }
        assert!(Instant::now() < deadline, "the script never became busy");
    }
}

#[test]
fn script_kill_stops_a_busy_script() {
    let srv = server_with("busy-reply-threshold 10");
    let mut runner = Conn::open(&srv);
    runner.send_cmd(&[
        "EVAL",
        "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
        "0",
    ]);
    runner.send_cmd(&["PING"]);
    let mut other = wait_busy(&srv);
    assert_eq!(
        other.cmd(&["PING"]),
        err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(
        other.cmd(&["FUNCTION", "KILL"]),
        err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(
        other.cmd(&["FUNCTION", "STATS"]),
        err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(other.cmd(&["NOSUCHCOMMAND"]), err("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: "));
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), ok());
    let e = error_text(&runner.read());
    assert!(e.starts_with("ERR Script killed by user with SCRIPT KILL... script: "), "{e}");
    assert_eq!(runner.read(), simple("PONG"));
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
    let stats = match other.cmd(&["INFO", "errorstats"]) {
        Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        f => panic!("{f:?}"),
    };
    assert!(stats.contains("errorstat_BUSY:count="), "{stats}");
}

#[test]
fn a_script_that_wrote_is_unkillable() {
    let srv = server_with("busy-reply-threshold 10");
    let mut runner = Conn::open(&srv);
    runner.send_cmd(&["EVAL", "redis.call('set','x','y') local n = 0 while true do n = n + 1 if redis.call('exists','stop') == 1 then break end end return n", "0"]);
    let mut other = wait_busy(&srv);
    let e = error_text(&other.cmd(&["SCRIPT", "KILL"]));
    assert!(e.starts_with("UNKILLABLE Sorry the script already executed write commands"), "{e}");
    assert_eq!(
        other.cmd(&["SHUTDOWN"]),
        err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    // SHUTDOWN NOSAVE stops it anyway and the server goes away.
    other.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    let _ = other.read_to_close();
    let _ = runner.read_to_close();
}

#[test]
fn function_kill_and_stats_during_a_busy_function() {
    let srv = server_with("busy-reply-threshold 10");
    let mut c = Conn::open(&srv);
    assert_eq!(
        c.cmd(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=test\nredis.register_function('test', function() local a = 1 while true do a = a + 1 end end)"
        ]),
        bulk("test")
    );
    c.send_cmd(&["FCALL", "test", "0"]);
    let mut other = wait_busy(&srv);
    assert_eq!(
        other.cmd(&["PING"]),
        err("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(
        other.cmd(&["SCRIPT", "KILL"]),
        err("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    );
    let Frame::Array(stats) = other.cmd(&["FUNCTION", "STATS"]) else { panic!() };
    assert_eq!(stats[0], bulk("running_script"));
    let Frame::Array(running) = &stats[1] else { panic!("{:?}", stats[1]) };
    assert_eq!(&running[..4], &[bulk("name"), bulk("test"), bulk("command"), bulks(&["FCALL", "test", "0"])]);
    assert_eq!(other.cmd(&["FUNCTION", "KILL"]), ok());
    assert!(error_text(&c.read()).contains("Script killed by user with SCRIPT KILL..."));
    assert_eq!(other.cmd(&["FUNCTION", "KILL"]), err("NOTBUSY No scripts in execution right now."));
}

// --- Functions ---------------------------------------------------------------------------

fn lib(name: &str, body: &str) -> String {
    format!("#!lua name={name}\nredis.register_function('{name}', function(KEYS, ARGV)\n {body} \nend)")
}

#[test]
fn function_load_list_call_delete() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &lib("test", "return 'hello'")]), bulk("test"));
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), bulk("hello"));
    assert_eq!(c.cmd(&["FCALL", "TEST", "0"]), bulk("hello"));
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &lib("test", "return 1")]), err("ERR Library 'test' already exists"));
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", "foo", "bar", &lib("x", "")]), err("ERR Unknown option given: foo"));
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", "REPLACE", &lib("test", "return 'hello1'")]), bulk("test"));
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), bulk("hello1"));
    assert_eq!(c.cmd(&["FCALL", "test", "bad"]), err("ERR Bad number of keys provided"));
    assert_eq!(c.cmd(&["FCALL", "nosuch", "0"]), err("ERR Function not found"));
    assert_eq!(
        c.cmd(&["FUNCTION", "LIST"]),
        array(vec![array(vec![
            bulk("library_name"),
            bulk("test"),
            bulk("engine"),
            bulk("LUA"),
            bulk("functions"),
            array(vec![array(vec![
                bulk("name"),
                bulk("test"),
                bulk("description"),
                Frame::Null,
                bulk("flags"),
                array(vec![])
            ])]),
        ])])
    );
    assert_eq!(c.cmd(&["FUNCTION", "LIST", "LIBRARYNAME"]), err("ERR library name argument was not given"));
    assert_eq!(c.cmd(&["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]), err("ERR Unknown argument WITHCODE"));
    assert_eq!(c.cmd(&["FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"]), array(vec![]));
    assert_eq!(c.cmd(&["FUNCTION", "DELETE", "test"]), ok());
    assert_eq!(c.cmd(&["FUNCTION", "DELETE", "test"]), err("ERR Library not found"));
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), err("ERR Function not found"));
    assert_eq!(
        c.cmd(&["FUNCTION", "STATS"]),
        array(vec![
            bulk("running_script"),
            Frame::Null,
            bulk("engines"),
            array(vec![bulk("LUA"), array(vec![bulk("libraries_count"), int(0), bulk("functions_count"), int(0)])]),
        ])
    );
}

#[test]
fn function_metadata_and_registration_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let cases: &[(&str, &str)] = &[
        ("return 1", "ERR Missing library metadata"),
        ("#!lua name=test", "ERR Invalid library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=a name=b\nreturn 1", "ERR Invalid metadata value, name argument was given multiple times"),
        ("#!lua name=test foo=bar\nreturn 1", "ERR Invalid metadata value given: foo=bar"),
        ("#! name=test\nreturn 1", "ERR Engine '' not found"),
        ("#!bad_engine name=test\nreturn 1", "ERR Engine 'bad_engine' not found"),
        ("#!lua name=bad-name\nreturn 1", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=lib\nreturn 1", "ERR No functions registered"),
        ("#!lua name=lib\nlocal x = 1 +", "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
        ("#!lua name=lib\na = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=lib\nreturn math.random()", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'"),
        ("#!lua name=lib\nreturn redis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=lib\nredis.register_function()", "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("#!lua name=lib\nredis.register_function('f1')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=lib\nredis.register_function(nil, function() end)", "ERR Error registering functions: ERR first argument to redis.register_function must be a string"),
        ("#!lua name=lib\nredis.register_function('f', 'x')", "ERR Error registering functions: ERR second argument to redis.register_function must be a function"),
        ("#!lua name=lib\nredis.register_function{function_name='f', callback=function() end, flags={'unknown'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=lib\nredis.register_function{function_name='f', callback=function() end, x=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("#!lua name=lib\nredis.register_function{callback=function() end}", "ERR Error registering functions: ERR redis.register_function must get a function name argument"),
        ("#!lua name=lib\nredis.register_function('f', function() end) redis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=lib\nlocal a = 1 while 1 do a = a + 1 end", "ERR Error registering functions: ERR FUNCTION LOAD timeout"),
    ];
    for (code, expected) in cases {
        assert_eq!(c.cmd(&["FUNCTION", "LOAD", code]), err(expected), "{code}");
    }
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=\"quoted\"\nredis.register_function('q', function() return 1 end)"]),
        bulk("quoted")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return redis.call('set','x',1) end, flags={'no-writes'}, description='d'}"]),
        bulk("lib")
    );
    assert!(error_text(&c.cmd(&["FCALL", "f1", "0"]))
        .starts_with("ERR Write commands are not allowed from read-only scripts."));
    assert_eq!(
        c.cmd(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib2\nredis.register_function('w', function() return redis.call('set','x',1) end)"
        ]),
        bulk("lib2")
    );
    assert_eq!(c.cmd(&["FCALL_RO", "w", "0"]), err("ERR Can not execute a script with write flag using *_ro command."));
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &lib("q", "return 1")]), err("ERR Function q already exists"));
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=inner\nredis.register_function('r', function() redis.register_function('x', function() end) end)"]),
        bulk("inner")
    );
}

#[test]
fn function_sandbox_separates_load_and_run() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib1\nlocal lib = redis\nlib.register_function('f1', function() lib.redis = redis return {ok='OK'} end)\nlib.register_function('f2', function() lib.register_function('f1', function() end) end)"]);
    assert!(error_text(&c.cmd(&["FCALL", "f1", "0"])).contains("Attempt to modify a readonly table"));
    assert!(error_text(&c.cmd(&["FCALL", "f2", "0"])).contains("can only be called on FUNCTION LOAD command"));
    c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('f3', function() return redis.register_function('x', function() end) end)"]);
    assert!(
        error_text(&c.cmd(&["FCALL", "f3", "0"])).contains("attempt to call field 'register_function' (a nil value)")
    );
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib4\nredis.register_function('f4', function() mt = getmetatable(_G) end)",
    ]);
    assert!(error_text(&c.cmd(&["FCALL", "f4", "0"])).contains("Attempt to modify a readonly table"));
    let e = error_text(&c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib5\nmt = getmetatable(_G)"]));
    assert!(e.contains("Script attempted to access nonexistent global variable 'getmetatable'"), "{e}");
    c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib6\nlocal function ping() return redis.call('ping') end\nredis.register_function('f6', function(keys, args) return ping() end)"]);
    assert_eq!(c.cmd(&["FCALL", "f6", "0"]), simple("PONG"));
}

#[test]
fn function_dump_restore_and_reload() {
    let srv = server_with("enable-debug-command yes\ndir /tmp\ndbfilename spinel-lua-test-reload.rdb");
    let mut c = Conn::open(&srv);
    c.cmd(&["FUNCTION", "LOAD", &lib("test", "return 'hello'")]);
    let Frame::Bulk(payload) = c.cmd(&["FUNCTION", "DUMP"]) else { panic!() };
    let restore = |c: &mut Conn, extra: &[&str]| {
        let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
        args.extend(extra.iter().map(|a| a.as_bytes()));
        c.send(&Frame::command(args));
        c.read()
    };
    assert_eq!(c.cmd(&["FUNCTION", "RESTORE", "bad_payload"]), err("ERR DUMP payload version or checksum are wrong"));
    assert_eq!(
        c.cmd(&["FUNCTION", "RESTORE", "a", "b", "c"]),
        err("ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.")
    );
    assert_eq!(
        restore(&mut c, &["bad"]),
        err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    );
    assert_eq!(restore(&mut c, &[]), err("ERR Library test already exists"));
    c.cmd(&["FUNCTION", "LOAD", "REPLACE", &lib("test", "return 'hello1'")]);
    assert_eq!(restore(&mut c, &["REPLACE"]), ok());
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), bulk("hello"));
    assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), ok());
    assert_eq!(restore(&mut c, &[]), ok());
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), bulk("hello"));
    // Libraries are saved in the RDB and come back with DEBUG RELOAD.
    c.cmd(&["FUNCTION", "LOAD", &lib("second", "return 2")]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), ok());
    assert_eq!(c.cmd(&["FCALL", "test", "0"]), bulk("hello"));
    assert_eq!(c.cmd(&["FCALL", "second", "0"]), int(2));
    assert!(error_text(&c.cmd(&["DEBUG", "RELOAD", "NOFLUSH"])).starts_with("ERR Error trying to load the RDB dump"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOFLUSH", "MERGE"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["FCALL", "second", "0"]), int(2));
    let _ = std::fs::remove_file("/tmp/spinel-lua-test-reload.rdb");
}

// --- Propagation -------------------------------------------------------------------------

/// Attaches a replica connection (SYNC) and returns it with the RDB payload consumed.
fn attach_replica(srv: &TestServer) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"SYNC\r\n").unwrap();
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    // SYNC answers +FULLRESYNC first here (as PSYNC does), then the payload.
    loop {
        header.clear();
        while !header.ends_with(b"\r\n") {
            s.read_exact(&mut byte).unwrap();
            if header.is_empty() && byte[0] == b'\n' {
                continue;
            }
            header.push(byte[0]);
        }
        if header.starts_with(b"$") {
            break;
        }
    }
    let len: usize = std::str::from_utf8(&header[1..header.len() - 2]).unwrap().parse().unwrap();
    let mut rdb = vec![0u8; len];
    s.read_exact(&mut rdb).unwrap();
    s
}

fn read_stream_until(s: &mut TcpStream, marker: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    while !got.windows(marker.len()).any(|w| w == marker) {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&chunk[..n]);
    }
    got
}

#[test]
fn script_effects_propagate_as_multi_exec_not_as_eval() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut replica = attach_replica(&srv);
    c.cmd(&[
        "EVAL",
        "redis.call('set','a','1') redis.call('select','3') redis.call('incr','b') redis.call('get','a') return 1",
        "0",
    ]);
    c.cmd(&["EVAL", "redis.call('set','c','1') redis.set_repl(redis.REPL_NONE) redis.call('set','d','2')", "0"]);
    c.cmd(&["SET", "trailing", "1"]);
    let stream = read_stream_until(&mut replica, b"trailing");
    let text = String::from_utf8_lossy(&stream);
    let expected = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nincr\r\n$1\r\nb\r\n*1\r\n$4\r\nEXEC\r\n";
    assert!(text.contains(expected), "{text:?}");
    assert!(!text.to_lowercase().contains("eval"), "{text:?}");
    assert!(text.contains("$1\r\nc\r\n") && !text.contains("$1\r\nd\r\n"), "{text:?}");
}
