//! Commands, one file per family with its specs beside its handlers, and the table built from
//! them. [`FAMILIES`] is the only list of families; the table is the only lookup.

pub mod acl;
pub mod args;
pub mod bitfield;
pub mod bitmap;
pub mod client_cmd;
pub mod cluster;
pub mod command_cmd;
pub mod conn;
pub mod debug;
pub mod debug_extra;
pub mod debug_list;
pub mod docs;
pub mod dump_cmd;
pub mod function;
pub mod geo;
pub mod geo_search;
pub mod hash;
pub mod hll;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod list_blocking;
pub mod memory_cmd;
pub mod migrate;
pub mod persist_cmd;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server_cmd;
pub mod set;
pub mod sort;
pub mod spec;
pub mod stream;
pub mod stream_group;
pub mod stream_info;
pub mod stream_read;
#[cfg(test)]
mod stream_tests;
pub mod string;
pub mod table;
#[cfg(test)]
mod test_support;
pub mod txn;
pub mod zset;
pub mod zset_pop;
pub mod zset_range;
pub mod zset_setops;

use spec::CommandSpec;

/// Every command family's specs.
pub const FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    dump_cmd::COMMANDS,
    migrate::COMMANDS,
    conn::COMMANDS,
    client_cmd::COMMANDS,
    cluster::COMMANDS,
    server_cmd::COMMANDS,
    memory_cmd::COMMANDS,
    command_cmd::COMMANDS,
    acl::COMMANDS,
    txn::COMMANDS,
    function::COMMANDS,
    scripting::COMMANDS,
    persist_cmd::COMMANDS,
    replication::COMMANDS,
    debug::COMMANDS,
    list::COMMANDS,
    list_blocking::COMMANDS,
    pubsub::COMMANDS,
    introspection::COMMANDS,
    zset::COMMANDS,
    zset_range::COMMANDS,
    zset_pop::COMMANDS,
    zset_setops::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    stream::COMMANDS,
    stream_read::COMMANDS,
    stream_group::COMMANDS,
    stream_info::COMMANDS,
    geo::COMMANDS,
    geo_search::COMMANDS,
    sort::COMMANDS,
    bitmap::COMMANDS,
    bitfield::COMMANDS,
    hll::COMMANDS,
];
