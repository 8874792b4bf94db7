//! RDB encodings of collection values and function libraries. Each value type contributes
//! its encoder and decoders here as it gains persistence.

use std::io::{self, Write};

use super::rdb::read::RdbReader;
use super::rdb::write::RdbWriter;
use super::rdb::{corrupt, RdbError};
use crate::keyspace::Value;
use crate::server::Server;
use crate::types::Object;

/// Writes a collection's type byte and payload.
pub fn write_object<W: Write>(_w: &mut RdbWriter<W>, o: &Object) -> io::Result<()> {
    Err(io::Error::other(format!("saving {} values is not supported yet", o.type_name())))
}

/// Reads a collection of RDB type `kind`.
pub fn read_object(_r: &mut RdbReader<'_>, kind: u8) -> Result<Value<'static>, RdbError> {
    corrupt(format!("Unknown RDB encoding type {kind}"))
}

/// Writes the function libraries (RDB_OPCODE_FUNCTION2 records).
pub fn write_functions<W: Write>(_w: &mut RdbWriter<W>, _srv: &Server) -> io::Result<()> {
    Ok(())
}

/// Reads one function library record.
pub fn read_function(_srv: &mut Server, _r: &mut RdbReader<'_>, _kind: u8) -> Result<(), RdbError> {
    corrupt("The RDB file contains function libraries, which this build cannot load yet")
}
