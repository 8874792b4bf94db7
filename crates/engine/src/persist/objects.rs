//! RDB encodings of collection values and function libraries. Each value type contributes
//! its encoder and decoders here as it gains persistence.

use std::io::{self, Write};

use super::rdb::read::RdbReader;
use super::rdb::write::RdbWriter;
use super::rdb::{corrupt, RdbError, TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK};
use crate::config::Config;
use crate::keyspace::Value;
use crate::server::Server;
use crate::types::Object;

/// Writes a collection's type byte and payload.
pub fn write_object<W: Write>(w: &mut RdbWriter<W>, o: &Object) -> io::Result<()> {
    match o {
        Object::ZSet(z) => super::objects_zset::write(w, z),
        _ => Err(io::Error::other(format!("saving {} values is not supported yet", o.type_name()))),
    }
}

/// Reads a collection of RDB type `kind`; `config` holds the encoding thresholds.
pub fn read_object(r: &mut RdbReader<'_>, kind: u8, config: &Config) -> Result<Value<'static>, RdbError> {
    match kind {
        TYPE_ZSET | TYPE_ZSET_2 | TYPE_ZSET_LISTPACK => super::objects_zset::read(r, kind, config),
        _ => corrupt(format!("Unknown RDB encoding type {kind}")),
    }
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
