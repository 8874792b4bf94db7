//! The boundary between persistence and the value types: for each collection type, which
//! RDB encoding it is saved in and how its elements are handed to the writers in
//! `collections.rs`, and how a value read in neutral form ([`Loaded`]) becomes a typed value
//! again (each type choosing its own encoding from the `*-max-*` settings, as Redis converts
//! on load). This is the only file that knows both sides.

use std::io::{self, Write};

use super::rdb::write::RdbWriter;
use super::rdb::RdbError;
use super::value::Loaded;
use crate::config::Config;
use crate::keyspace::Value;
use crate::server::Server;
use crate::types::Object;

/// The RDB type byte a collection is saved with.
pub fn rdb_type(o: &Object) -> u8 {
    match o {
        Object::List(_) | Object::Hash(_) | Object::Set(_) | Object::ZSet(_) | Object::Stream(_) => 0,
    }
}

/// Writes a collection's payload.
pub fn write_payload<W: Write>(_w: &mut RdbWriter<W>, o: &Object) -> io::Result<()> {
    Err(io::Error::other(format!("saving {} values is not supported yet", o.type_name())))
}

/// Builds a typed value from a neutral one read from an RDB image or DUMP payload.
pub fn build_value(v: Loaded, _config: &Config) -> Result<Value<'static>, RdbError> {
    match v {
        Loaded::Str(s) => Ok(Value::StrOwned(s)),
        other => Err(RdbError::new(format!("{} values are not supported by this build yet", other.type_name()))),
    }
}

/// A key's value in neutral form (AOF rewrites without an RDB preamble, tests).
pub fn to_loaded(o: &Object) -> io::Result<Loaded> {
    Err(io::Error::other(format!("rewriting {} values is not supported yet", o.type_name())))
}

/// Writes the function libraries (RDB_OPCODE_FUNCTION2 records).
pub fn write_functions<W: Write>(_w: &mut RdbWriter<W>, _srv: &Server) -> io::Result<()> {
    Ok(())
}

/// The source of every function library (AOF rewrites as FUNCTION LOAD).
pub fn function_sources(_srv: &Server) -> Vec<Vec<u8>> {
    Vec::new()
}

/// Loads one function library from its source code.
pub fn load_function(_srv: &mut Server, _code: Vec<u8>) -> Result<(), String> {
    Err("function libraries need the scripting engine, which this build does not have yet".into())
}
