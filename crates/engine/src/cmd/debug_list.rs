//! The list-specific DEBUG subcommand, for the DEBUG family to dispatch to (it registers no
//! command of its own).

use crate::cmd::args;
use crate::config::parse::memtoull;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

/// `DEBUG QUICKLIST-PACKED-THRESHOLD <size>`: elements at least this long get a plain
/// quicklist node of their own. `args` is the whole command (`debug`, the subcommand, the
/// size). A size of 0 restores the default (1 GiB); the limit is 4 GiB - 1 MiB. Like
/// Redis's, the threshold is process-wide.
pub fn quicklist_packed_threshold(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() != 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    match memtoull(args[2]) {
        Some(sz) if crate::types::quicklist::set_packed_threshold(sz) => Ok(Reply::Ok),
        _ => Err(err("ERR argument must be a memory value bigger than 1 and smaller than 4gb")),
    }
}
