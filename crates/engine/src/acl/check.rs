//! Permission checks: the command bitmap, the keys the command's key specs find, and the
//! Pub/Sub channels it names (Redis's ACLCheckAllUserCommandPerm), in the three places Redis
//! checks them: processCommand, EXEC (rules may change while a transaction is queued) and a
//! script's redis.call. AUTH and HELLO AUTH are here too: their failures go to the ACL log.

use super::log::{Context, Entry};
use super::selector::{Denied, Selector};
use super::user::User;
use crate::client::flags;
use crate::cmd::command_cmd::command_keys;
use crate::cmd::spec;
use crate::cmd::table::Command;
use crate::error::{err, Error};
use crate::server::Server;

/// (first argument, count or None for all the rest, pattern) of the channels a command names
/// for publishing or subscribing (Redis's commands_with_channels; unsubscribing is never
/// denied).
fn channel_args(cmd: &Command) -> Option<(usize, Option<usize>, bool)> {
    match cmd.fullname {
        "subscribe" | "ssubscribe" => Some((1, None, false)),
        "psubscribe" => Some((1, None, true)),
        "publish" | "spublish" => Some((1, Some(1), false)),
        _ => None,
    }
}

fn has_keys(cmd: &Command) -> bool {
    cmd.spec.getkeys.is_some() || cmd.spec.key_specs.iter().any(|k| k.flags & spec::key::NOT_KEY == 0)
}

/// Redis's ACLSelectorCheckCmd. `keys` caches the command's keys between selectors.
fn check_selector(
    s: &Selector,
    cmd: &Command,
    args: &[&[u8]],
    keys: &mut Option<Vec<(usize, u64)>>,
) -> Result<(), (Denied, usize)> {
    if !s.command_allowed(cmd, args) {
        return Err((Denied::Command, 0));
    }
    if !s.all_keys && has_keys(cmd) {
        let keys = keys.get_or_insert_with(|| command_keys(cmd, args).unwrap_or_default());
        for &(pos, flags) in keys.iter() {
            if let Some(key) = args.get(pos) {
                if !s.key_allowed(key, flags) {
                    return Err((Denied::Key, pos));
                }
            }
        }
    }
    if !s.all_channels {
        if let Some((start, count, is_pattern)) = channel_args(cmd) {
            let stop = count.map_or(args.len(), |n| (start + n).min(args.len()));
            for (pos, channel) in args.iter().enumerate().take(stop).skip(start) {
                if !s.channel_allowed(channel, is_pattern) {
                    return Err((Denied::Channel, pos));
                }
            }
        }
    }
    Ok(())
}

/// Whether `user` may run the command: Ok, or the reason and the argument at fault. When no
/// selector allows it, the most specific failure is reported (a channel over a key over the
/// command; the last argument among equals), as Redis does.
pub fn check_user(user: &User, cmd: &Command, args: &[&[u8]]) -> Result<(), (Denied, usize)> {
    if user.unrestricted {
        return Ok(());
    }
    let mut keys = None;
    let (mut relevant, mut last) = (Denied::Command, 0);
    for s in &user.selectors {
        match check_selector(s, cmd, args, &mut keys) {
            Ok(()) => return Ok(()),
            Err((reason, pos)) => {
                if reason > relevant || (reason == relevant && pos > last) {
                    relevant = reason;
                    last = pos;
                }
            }
        }
    }
    Err((relevant, last))
}

/// Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess: the command is allowed by a selector
/// that also reaches every key with the access in `spec_flags` (SORT BY/GET patterns).
pub fn user_has_unrestricted_key_access(user: &User, cmd: &Command, args: &[&[u8]], spec_flags: u64) -> bool {
    if user.unrestricted {
        return true;
    }
    let mut keys = None;
    user.selectors.iter().any(|s| check_selector(s, cmd, args, &mut keys).is_ok() && s.all_keys_allowed(spec_flags))
}

/// [`user_has_unrestricted_key_access`] for the user of the client at `slot`.
pub fn client_has_unrestricted_key_access(
    srv: &Server,
    slot: usize,
    cmd: &Command,
    args: &[&[u8]],
    spec_flags: u64,
) -> bool {
    if srv.acl.all_unrestricted {
        return true;
    }
    let Some(client) = srv.clients.get(slot) else { return true };
    srv.acl
        .users
        .get(client.user.as_bytes())
        .is_some_and(|u| user_has_unrestricted_key_access(u, cmd, args, spec_flags))
}

/// Records a denial in the ACL log (Redis's addACLLogEntry). `info_slot` is the client shown
/// in `client-info` (a script's caller, not the script's own client).
pub fn log_denial(
    srv: &mut Server,
    info_slot: usize,
    username: Vec<u8>,
    reason: Denied,
    object: Vec<u8>,
    context: Context,
) {
    let client_info = match srv.clients.get(info_slot) {
        Some(c) => crate::cmd::client_cmd::info_line(srv, c),
        None => String::new(),
    };
    let entry =
        Entry { count: 1, reason, context, object, username, ctime_ms: crate::util::time::now_ms(), client_info };
    let max = srv.config.int("acllog-max-len").max(0) as usize;
    srv.acl.log.add(entry, max);
}

fn object_of(cmd: &Command, args: &[&[u8]], reason: Denied, pos: usize) -> Vec<u8> {
    match reason {
        Denied::Command | Denied::Auth => cmd.fullname.as_bytes().to_vec(),
        Denied::Key | Denied::Channel => args.get(pos).map(|a| a.to_vec()).unwrap_or_default(),
    }
}

/// Checks the user of the client at `slot`; on denial logs it and returns the reason.
fn check_and_log(
    srv: &mut Server,
    slot: usize,
    info_slot: usize,
    cmd: &Command,
    args: &[&[u8]],
    context: Context,
) -> Option<Denied> {
    let client = srv.clients.get(slot)?;
    // The master's stream runs as no user, as in Redis (its client has user NULL): the
    // master already checked each command.
    if client.has(crate::client::flags::MASTER) {
        return None;
    }
    // Every client names an existing user (deleting a user disconnects its clients); should
    // one not, it may run nothing.
    let Some(user) = srv.acl.users.get(client.user.as_bytes()) else {
        let username = client.user.as_bytes().to_vec();
        log_denial(srv, info_slot, username, Denied::Command, cmd.fullname.as_bytes().to_vec(), context);
        return Some(Denied::Command);
    };
    let (reason, pos) = check_user(user, cmd, args).err()?;
    let username = user.name.clone();
    log_denial(srv, info_slot, username, reason, object_of(cmd, args, reason, pos), context);
    Some(reason)
}

/// The dispatcher's check (processCommand): None when the command may run, else the NOPERM
/// error. Costs one flag test while every user is unrestricted.
#[inline]
pub fn check_command(srv: &mut Server, slot: usize, cmd: &Command, args: &[&[u8]], in_multi: bool) -> Option<Error> {
    if srv.acl.all_unrestricted {
        return None;
    }
    let context = if in_multi { Context::Multi } else { Context::Toplevel };
    Some(match check_and_log(srv, slot, slot, cmd, args, context)? {
        Denied::Command => err(format!("NOPERM this user has no permissions to run the '{}' command", cmd.fullname)),
        Denied::Key => err("NOPERM this user has no permissions to access one of the keys used as arguments"),
        Denied::Channel => err("NOPERM this user has no permissions to access one of the channels used as arguments"),
        Denied::Auth => err("ERR no permission"),
    })
}

/// EXEC's check of each queued command: the rules may have changed since it was queued.
pub fn check_exec(srv: &mut Server, slot: usize, cmd: &Command, args: &[&[u8]]) -> Option<Error> {
    if srv.acl.all_unrestricted {
        return None;
    }
    let reason = match check_and_log(srv, slot, slot, cmd, args, Context::Multi)? {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
        Denied::Auth => "no permission",
    };
    Some(err(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
    )))
}

/// Redis's getAclErrorMessage.
fn denial_message(reason: Denied) -> &'static str {
    match reason {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key => "can't access at least one of the keys mentioned in the command arguments",
        Denied::Channel => "can't publish to the channel mentioned in the command",
        Denied::Auth => "lacking the permissions for the command",
    }
}

/// A script's redis.call (scriptVerifyACL): the script runs as its caller's user. Err is the
/// script error text.
pub fn check_script(srv: &mut Server, caller: usize, cmd: &Command, args: &[&[u8]]) -> Result<(), String> {
    if srv.acl.all_unrestricted {
        return Ok(());
    }
    match check_and_log(srv, caller, caller, cmd, args, Context::Lua) {
        None => Ok(()),
        Some(reason) => Err(format!("The user executing the script {}", denial_message(reason))),
    }
}

/// redis.acl_check_cmd: whether the caller's user may run the command (nothing is logged).
pub fn user_allows(srv: &Server, slot: usize, cmd: &Command, args: &[&[u8]]) -> bool {
    let Some(client) = srv.clients.get(slot) else { return true };
    srv.acl.users.get(client.user.as_bytes()).is_some_and(|u| check_user(u, cmd, args).is_ok())
}

/// Redis's ACLAuthenticateUser: on success the client is authenticated as `username`; on
/// failure the attempt is logged (object: the command name as sent).
pub fn authenticate(srv: &mut Server, slot: usize, username: &[u8], pass: &[u8], command: &[u8]) -> bool {
    let ok = srv.acl.users.get(username).is_some_and(|u| u.check_password(pass));
    if ok {
        let client = &mut srv.clients[slot];
        client.authenticated = true;
        client.user = String::from_utf8_lossy(username).into_owned();
    } else {
        let context = if srv.clients[slot].has(flags::MULTI) { Context::Multi } else { Context::Toplevel };
        log_denial(srv, slot, username.to_vec(), Denied::Auth, command.to_vec(), context);
    }
    ok
}
