//! Access control lists (Redis 7.0 ACL): users, their passwords and permissions, the checks
//! every command goes through, the ACL log, and the ACL file.
//!
//! * [`user`]: a user's flags, password hashes and selectors; the rules that change them and
//!   the description ACL LIST prints.
//! * [`selector`]: one set of permissions: a command bitmap indexed by command id, key
//!   patterns with read/write permissions, channel patterns.
//! * [`check`]: the permission checks of the dispatcher, EXEC, scripts, and AUTH.
//! * [`log`]: ACL LOG entries.
//! * [`file`]: users from the config file, the `aclfile` (ACL LOAD / ACL SAVE).
//!
//! Keeping the check cheap: [`Acl::all_unrestricted`] is true while every user may run every
//! command on every key and channel (the default user alone is `+@all ~* &*`); the dispatcher
//! tests that one flag and skips everything else. Otherwise the client's user is looked up by
//! name and its cached `unrestricted` flag is tested before any selector is.
//!
//! Clients name their user (`Client::user`); a deleted user's clients are disconnected, as
//! are the pub/sub clients of a user that loses access to their channels.

pub mod check;
pub mod file;
pub mod log;
pub mod selector;
pub mod sha256;
pub mod user;

use std::collections::BTreeMap;

use crate::client::flags;
use crate::server::Server;
use selector::channel_in_list;
use user::User;

pub use check::{authenticate, check_command};

pub struct Acl {
    /// Users by name, in byte order (ACL LIST / USERS / SAVE order, as Redis's radix tree).
    pub users: BTreeMap<Vec<u8>, User>,
    pub log: log::AclLog,
    /// `acl-pubsub-default allchannels`: new selectors start with `&*`.
    pub pubsub_all: bool,
    /// Every user is unrestricted: permission checks can be skipped.
    pub all_unrestricted: bool,
    /// The `requirepass` value last applied to the default user.
    synced_requirepass: Option<Option<Vec<u8>>>,
}

impl Default for Acl {
    fn default() -> Acl {
        Acl::new()
    }
}

impl Acl {
    pub fn new() -> Acl {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), User::default_user(false));
        Acl { users, log: Default::default(), pubsub_all: false, all_unrestricted: true, synced_requirepass: None }
    }

    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    fn default_user(&self) -> Option<&User> {
        self.users.get(&b"default"[..])
    }

    /// The default user is `nopass` (AUTH <password> is then an error).
    pub fn default_nopass(&self) -> bool {
        self.default_user().is_some_and(|u| u.nopass)
    }

    /// New connections must authenticate (Redis's authRequired without the client part).
    pub fn default_requires_auth(&self) -> bool {
        self.default_user().is_none_or(|u| !u.nopass || !u.enabled)
    }

    fn refresh(&mut self) {
        self.all_unrestricted = self.users.values().all(|u| u.unrestricted);
    }
}

/// Copies what ACL reads from the configuration: `acl-pubsub-default`, and `requirepass`,
/// which sets the default user's password when its value changes (ACLUpdateDefaultUserPassword;
/// like Redis, setting the same value again leaves passwords added by ACL SETUSER alone).
pub fn apply_config(srv: &mut Server) {
    srv.acl.pubsub_all = srv.config.enum_name("acl-pubsub-default") == "allchannels";
    let pass = srv.config.string_bytes("requirepass").filter(|p| !p.is_empty()).map(|p| p.to_vec());
    if srv.acl.synced_requirepass.as_ref() != Some(&pass) {
        let pubsub_all = srv.acl.pubsub_all;
        if let Some(d) = srv.acl.users.get_mut(&b"default"[..]) {
            let _ = d.apply(b"resetpass", pubsub_all);
            match &pass {
                Some(p) => {
                    let mut op = b">".to_vec();
                    op.extend_from_slice(p);
                    let _ = d.apply(&op, pubsub_all);
                }
                None => {
                    let _ = d.apply(b"nopass", pubsub_all);
                }
            }
        }
        srv.acl.synced_requirepass = Some(pass);
    }
    srv.acl.refresh();
}

/// Whether the user of the client at `slot` is flagged `skip-sanitize-payload`.
pub fn skips_payload_sanitization(srv: &Server, slot: usize) -> bool {
    let Some(client) = srv.clients.get(slot) else { return false };
    srv.acl.users.get(client.user.as_bytes()).is_some_and(|u| u.sanitize == Some(false))
}

/// After users changed: the fast-path flag and whether new connections must authenticate.
pub fn users_changed(srv: &mut Server) {
    srv.acl.refresh();
    srv.tunables.requirepass_set = srv.acl.default_requires_auth();
}

/// ACL SETUSER: creates or changes a user; nothing changes if a rule is invalid. Err is the
/// message without "ERR ".
pub fn set_user(srv: &mut Server, name: &[u8], rules: &[&[u8]], current: usize) -> Result<(), String> {
    let pubsub_all = srv.acl.pubsub_all;
    let old = srv.acl.users.get(name).cloned();
    let mut user = old.clone().unwrap_or_else(|| User::new(name, pubsub_all));
    user.apply_all(rules, pubsub_all)?;
    if let Some(old) = &old {
        kill_pubsub_clients_if_needed(srv, &user, old, current);
    }
    srv.acl.users.insert(name.to_vec(), user);
    users_changed(srv);
    Ok(())
}

/// ACL DELUSER of one user: removes it and disconnects its clients. False if it did not exist.
pub fn delete_user(srv: &mut Server, name: &[u8], current: usize) -> bool {
    if srv.acl.users.remove(name).is_none() {
        return false;
    }
    kill_clients_of(srv, name, current);
    users_changed(srv);
    true
}

/// Redis's ACLFreeUserAndKillClients: the user's clients go back to the default user,
/// unauthenticated, and are closed (the current one after its reply).
fn kill_clients_of(srv: &mut Server, name: &[u8], current: usize) {
    let victims: Vec<usize> =
        srv.clients.iter().filter(|c| !c.has(flags::INTERNAL) && c.user.as_bytes() == name).map(|c| c.slot).collect();
    for slot in victims {
        let c = &mut srv.clients[slot];
        c.user = "default".into();
        c.authenticated = false;
        if slot == current {
            c.set(flags::CLOSE_AFTER_REPLY, true);
        } else {
            srv.free_client(slot);
        }
    }
}

/// Redis's ACLKillPubsubClientsIfNeeded: when a user's channel permissions shrink, its
/// subscribed clients holding a channel or pattern no longer allowed are disconnected.
fn kill_pubsub_clients_if_needed(srv: &mut Server, new: &User, old: &User, current: usize) {
    if new.selectors.iter().any(|s| s.all_channels) {
        return;
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let superset = old.selectors.iter().all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    if superset {
        return;
    }
    let victims: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| !c.has(flags::INTERNAL) && c.user.as_bytes() == old.name.as_slice() && c.subscriptions() > 0)
        .filter(|c| {
            c.patterns.iter().any(|p| !channel_in_list(&upcoming, p, true))
                || c.channels.keys().any(|ch| !channel_in_list(&upcoming, ch, false))
                || c.shard_channels.keys().any(|ch| !channel_in_list(&upcoming, ch, false))
        })
        .map(|c| c.slot)
        .collect();
    for slot in victims {
        if slot == current {
            srv.clients[slot].set(flags::CLOSE_AFTER_REPLY, true);
        } else {
            srv.free_client(slot);
        }
    }
}

/// `user <name> <rules>` for every user (CONFIG REWRITE without an aclfile, ACL SAVE).
pub fn config_lines(srv: &Server) -> Vec<Vec<u8>> {
    srv.acl.users.values().map(|u| u.config_line()).collect()
}
