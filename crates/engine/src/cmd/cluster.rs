//! CLUSTER (with every subcommand), READONLY, READWRITE and ASKING, as a redis-server started
//! without `cluster-enabled` has them.
//!
//! Spinel runs standalone only. Redis still registers these commands in that mode, so they
//! appear in COMMAND INFO/DOCS/LIST and go through dispatch like any command (arity errors,
//! unknown-subcommand errors, ACL checks), and then every one of them answers that cluster
//! support is disabled. The specs are complete so that introspection matches Redis exactly.

use crate::cmd::spec::{acl, CommandSpec, Group, ADMIN, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};

/// The reply of every cluster command on a standalone server.
const DISABLED: &str = "ERR This instance has cluster support disabled";

/// CLUSTER's subcommands, READONLY, READWRITE and ASKING all answer this in standalone mode.
fn cluster_disabled(_ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Err(err(DISABLED))
}

/// The flags of the subcommands that change the cluster configuration.
const CONFIGURE: u64 = NO_ASYNC_LOADING | ADMIN | STALE;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        handler: Some(cluster_disabled),
        group: Group::Cluster,
        since,
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const SLOTS_RANGE: &str =
    "O(N) where N is the total number of the slots between the start slot and end slot arguments.";

static SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "addslots",
        -3,
        CONFIGURE,
        "3.0.0",
        "Assign new hash slots to receiving node",
        "O(N) where N is the total number of hash slot arguments",
        "slot:integer...",
    ),
    sub(
        "addslotsrange",
        -4,
        CONFIGURE,
        "7.0.0",
        "Assign new hash slots to receiving node",
        SLOTS_RANGE,
        "start-slot_end-slot=(start-slot:integer end-slot:integer)...",
    ),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub("bumpepoch", 2, CONFIGURE, "3.0.0", "Advance the cluster config epoch", "O(1)", "")
    },
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "count-failure-reports",
            3,
            ADMIN | STALE,
            "3.0.0",
            "Return the number of failure reports active for a given node",
            "O(N) where N is the number of failure reports",
            "node-id",
        )
    },
    sub(
        "countkeysinslot",
        3,
        STALE,
        "3.0.0",
        "Return the number of local keys in the specified hash slot",
        "O(1)",
        "slot:integer",
    ),
    sub(
        "delslots",
        -3,
        CONFIGURE,
        "3.0.0",
        "Set hash slots as unbound in receiving node",
        "O(N) where N is the total number of hash slot arguments",
        "slot:integer...",
    ),
    sub(
        "delslotsrange",
        -4,
        CONFIGURE,
        "7.0.0",
        "Set hash slots as unbound in receiving node",
        SLOTS_RANGE,
        "start-slot_end-slot=(start-slot:integer end-slot:integer)...",
    ),
    sub(
        "failover",
        -2,
        CONFIGURE,
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
        "O(1)",
        "options=[FORCE|TAKEOVER]",
    ),
    sub("flushslots", 2, CONFIGURE, "3.0.0", "Delete a node's own slots information", "O(1)", ""),
    sub("forget", 3, CONFIGURE, "3.0.0", "Remove a node from the nodes table", "O(1)", "node-id"),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "getkeysinslot",
            4,
            STALE,
            "3.0.0",
            "Return local key names in the specified hash slot",
            "O(log(N)) where N is the number of requested keys",
            "slot:integer count:integer",
        )
    },
    sub("help", 2, LOADING | STALE, "5.0.0", "Show helpful text about the different subcommands", "O(1)", ""),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub("info", 2, STALE, "3.0.0", "Provides info about Redis Cluster node state", "O(1)", "")
    },
    sub(
        "keyslot",
        3,
        STALE,
        "3.0.0",
        "Returns the hash slot of the specified key",
        "O(N) where N is the number of bytes in the key",
        "key",
    ),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "links",
            2,
            STALE,
            "7.0.0",
            "Returns a list of all TCP links to and from peer nodes in cluster",
            "O(N) where N is the total number of Cluster nodes",
            "",
        )
    },
    CommandSpec {
        history: &[("4.0.0", "Added the optional `cluster_bus_port` argument.")],
        ..sub(
            "meet",
            -4,
            CONFIGURE,
            "3.0.0",
            "Force a node cluster to handshake with another node",
            "O(1)",
            "ip port:integer [cluster_bus_port:integer]{4.0.0}",
        )
    },
    sub("myid", 2, STALE, "3.0.0", "Return the node id", "O(1)", ""),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "nodes",
            2,
            STALE,
            "3.0.0",
            "Get Cluster config for the node",
            "O(N) where N is the total number of Cluster nodes",
            "",
        )
    },
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "replicas",
            3,
            ADMIN | STALE,
            "5.0.0",
            "List replica nodes of the specified master node",
            "O(1)",
            "node-id",
        )
    },
    sub(
        "replicate",
        3,
        CONFIGURE,
        "3.0.0",
        "Reconfigure a node as a replica of the specified master node",
        "O(1)",
        "node-id",
    ),
    sub(
        "reset",
        -2,
        ADMIN | STALE | NOSCRIPT,
        "3.0.0",
        "Reset a Redis Cluster node",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
        "hard_soft=[HARD|SOFT]",
    ),
    sub("saveconfig", 2, CONFIGURE, "3.0.0", "Forces the node to save cluster state on disk", "O(1)", ""),
    sub(
        "set-config-epoch",
        3,
        CONFIGURE,
        "3.0.0",
        "Set the configuration epoch in a new node",
        "O(1)",
        "config-epoch:integer",
    ),
    sub(
        "setslot",
        -4,
        CONFIGURE,
        "3.0.0",
        "Bind a hash slot to a specific node",
        "O(1)",
        "slot:integer subcommand=((IMPORTING node-id)|(MIGRATING node-id)|(NODE node-id)|STABLE)",
    ),
    CommandSpec {
        tips: NONDETERMINISTIC,
        ..sub(
            "shards",
            2,
            STALE,
            "7.0.0",
            "Get array of cluster slots to node mappings",
            "O(N) where N is the total number of cluster nodes",
            "",
        )
    },
    CommandSpec {
        tips: NONDETERMINISTIC,
        deprecated_since: Some("5.0.0"),
        replaced_by: Some("`CLUSTER REPLICAS`"),
        ..sub("slaves", 3, ADMIN | STALE, "3.0.0", "List replica nodes of the specified master node", "O(1)", "node-id")
    },
    CommandSpec {
        tips: NONDETERMINISTIC,
        deprecated_since: Some("7.0.0"),
        replaced_by: Some("`CLUSTER SHARDS`"),
        history: &[("4.0.0", "Added node IDs."), ("7.0.0", "Added additional networking metadata field.")],
        ..sub(
            "slots",
            2,
            STALE,
            "3.0.0",
            "Get array of Cluster slot to node mappings",
            "O(N) where N is the total number of Cluster nodes",
            "",
        )
    },
];

/// READONLY, READWRITE and ASKING: connection-level cluster switches.
const fn conn_switch(name: &'static str, flags: u64, summary: &'static str) -> CommandSpec {
    CommandSpec {
        name,
        arity: 1,
        flags,
        acl: acl::CONNECTION,
        handler: Some(cluster_disabled),
        group: Group::Cluster,
        since: "3.0.0",
        summary,
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "cluster",
        arity: -2,
        group: Group::Cluster,
        since: "3.0.0",
        summary: "A container for cluster commands",
        complexity: "Depends on subcommand.",
        subcommands: SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    conn_switch("readonly", FAST | LOADING | STALE, "Enables read queries for a connection to a cluster replica node"),
    conn_switch(
        "readwrite",
        FAST | LOADING | STALE,
        "Disables read queries for a connection to a cluster replica node",
    ),
    conn_switch("asking", FAST, "Sent by cluster clients after an -ASK redirect"),
];
