//! Users from outside: `user` lines of the config file (loaded at start-up), and the ACL file
//! (`aclfile`: loaded at start-up and by ACL LOAD, written by ACL SAVE). Loading is all or
//! nothing: on any error the previous users stay as they were.

use std::collections::BTreeMap;

use super::selector::{has_spaces, RuleError};
use super::user::{merge_selector_args, User};
use crate::server::Server;

const CRITICAL: &str = "Critical error while loading ACLs. Exiting.";

/// Validates a config file `user` line's rules (the arguments after the user name), for the
/// config loader. Unknown commands are accepted here and reported when users are loaded, as
/// Redis does. Err is (argument index, message).
pub fn check_config_user(rules: &[Vec<u8>]) -> Result<(), (usize, String)> {
    let refs: Vec<&[u8]> = rules.iter().map(|r| r.as_slice()).collect();
    let merged = merge_selector_args(&refs).map_err(|at| (at, RuleError::Syntax.message().to_string()))?;
    let mut fake = User::new(b"__fakeuser__", false);
    for (j, op) in merged.iter().enumerate() {
        match fake.apply(op, false) {
            Ok(()) | Err(RuleError::UnknownCommand) => {}
            Err(e) => return Err((j, e.message().to_string())),
        }
    }
    Ok(())
}

/// Redis's ACLLoadUsersAtStartup: the config's `user` lines, then the ACL file. Err is what
/// to log (one line each) before exiting.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let aclfile = aclfile(srv);
    let lines: Vec<Vec<Vec<u8>>> = srv.config.user_lines().to_vec();
    if aclfile.is_some() && !lines.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let pubsub_all = srv.acl.pubsub_all;
    for line in &lines {
        let Some((name, rules)) = line.split_first() else { continue };
        if has_spaces(name) {
            return Err(format!("Spaces not allowed in ACL usernames\n{CRITICAL}"));
        }
        let user = srv.acl.users.entry(name.clone()).or_insert_with(|| User::new(name, pubsub_all));
        if name == b"default" {
            let _ = user.apply(b"reset", pubsub_all);
        }
        let refs: Vec<&[u8]> = rules.iter().map(|r| r.as_slice()).collect();
        let merged =
            merge_selector_args(&refs).map_err(|_| format!("Unmatched parenthesis in acl selector\n{CRITICAL}"))?;
        for op in &merged {
            if let Err(e) = user.apply(op, pubsub_all) {
                return Err(format!(
                    "Error loading ACL rule '{}' for the user named '{}': {}\n{CRITICAL}",
                    String::from_utf8_lossy(op),
                    String::from_utf8_lossy(name),
                    e.message()
                ));
            }
        }
        if !user.enabled {
            crate::log::notice(&format!(
                "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                String::from_utf8_lossy(name)
            ));
        }
    }
    super::users_changed(srv);
    if let Some(path) = aclfile {
        load_file(srv, &path, usize::MAX).map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
    }
    Ok(())
}

/// The configured `aclfile`, if any.
pub fn aclfile(srv: &Server) -> Option<String> {
    srv.config.string("aclfile").filter(|f| !f.is_empty()).map(str::to_string)
}

/// Redis's ACLLoadFromFile: replaces every user by the file's (the default user keeps its
/// place, with the file's rules or the built-in ones). Clients of the replaced users are
/// disconnected (the current one after its reply). Err is the list of problems found.
pub fn load_file(srv: &mut Server, path: &str, current: usize) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            crate::config::parse::strerror(crate::config::parse::errno_of(&e))
        )
    })?;
    let pubsub_all = srv.acl.pubsub_all;
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors = String::new();
    for (i, raw) in data.split(|&c| c == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(raw, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!("{path}:{linenum} should start with user keyword followed by the username. "));
            continue;
        }
        let name = argv[1];
        if has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut user = User::new(name, pubsub_all);
        let Ok(merged) = merge_selector_args(&argv[2..]) else {
            errors.push_str(&format!("{path}:{linenum}: Unmatched parenthesis in selector definition."));
            continue;
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            match user.apply(op, pubsub_all) {
                Ok(()) => {}
                Err(RuleError::UnknownCommand) => errors.push_str(&format!(
                    "{path}:{linenum}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(op),
                    RuleError::UnknownCommand.message()
                )),
                Err(e) if !syntax_error => {
                    errors.push_str(&format!("{path}:{linenum}: {}. ", e.message()));
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.insert(name.to_vec(), user);
    }
    if !errors.is_empty() {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return Err(errors);
    }
    if !users.contains_key(&b"default"[..]) {
        users.insert(b"default".to_vec(), User::default_user(pubsub_all));
    }
    let old = std::mem::replace(&mut srv.acl.users, users);
    for name in old.keys().filter(|n| n.as_slice() != b"default") {
        super::kill_clients_of(srv, name, current);
    }
    super::users_changed(srv);
    Ok(())
}

/// Redis's ACLSaveToFile: every user as a `user` line, written to a temporary file renamed
/// over the ACL file.
pub fn save_file(srv: &Server, path: &str) -> Result<(), String> {
    let mut content = Vec::new();
    for line in super::config_lines(srv) {
        content.extend_from_slice(&line);
        content.push(b'\n');
    }
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), crate::util::time::now_ms());
    let result = std::fs::write(&tmp, &content).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        crate::log::warning(&format!("Writing ACL file for ACL SAVE: {e}"));
        return Err(e.to_string());
    }
    Ok(())
}

fn trim<'a>(s: &'a [u8], chars: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !chars.contains(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !chars.contains(c)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}
