//! Commands, one file per family with its specs beside its handlers, and the table built from
//! them. [`FAMILIES`] is the only list of families; the table is the only lookup.

pub mod args;
pub mod client_cmd;
pub mod command_cmd;
pub mod conn;
pub mod debug;
pub mod debug_extra;
pub mod docs;
pub mod dump_cmd;
pub mod function;
pub mod keys;
pub mod migrate;
pub mod persist_cmd;
pub mod replication;
pub mod server_cmd;
pub mod spec;
pub mod string;
pub mod table;
pub mod txn;

use spec::CommandSpec;

/// Every command family's specs.
pub const FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    dump_cmd::COMMANDS,
    migrate::COMMANDS,
    conn::COMMANDS,
    client_cmd::COMMANDS,
    server_cmd::COMMANDS,
    command_cmd::COMMANDS,
    txn::COMMANDS,
    function::COMMANDS,
    persist_cmd::COMMANDS,
    replication::COMMANDS,
    debug::COMMANDS,
];
