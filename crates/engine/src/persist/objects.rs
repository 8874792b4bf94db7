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

/// Writes the function libraries: one RDB_OPCODE_FUNCTION2 record (the library's code) each.
pub fn write_functions<W: Write>(w: &mut RdbWriter<W>, srv: &Server) -> io::Result<()> {
    for lib in srv.scripts.functions.libraries.values() {
        w.byte(super::rdb::OPCODE_FUNCTION2)?;
        w.string(&lib.code)?;
    }
    Ok(())
}

/// Reads one function library record and loads the library (compiling it). With
/// `allow_dup` (DEBUG RELOAD MERGE) a library of the same name is replaced.
pub fn read_function(srv: &mut Server, r: &mut RdbReader<'_>, kind: u8, allow_dup: bool) -> Result<(), RdbError> {
    let code = crate::script::functions::read_function_record(r, kind)?;
    match srv.scripts.functions.load(&code, allow_dup, 0) {
        Ok(_) => Ok(()),
        Err(e) => corrupt(format!("Failed loading library: {e}")),
    }
}
