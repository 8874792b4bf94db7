//! Command errors: typed where Redis has a shared error, rendered to `-CODE message` here and
//! nowhere else. The code (first word) is what INFO errorstats counts.

use std::borrow::Cow;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    Syntax,
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    DbIndexOutOfRange,
    /// `ERR value is out of range, must be positive`.
    NotPositive,
    /// `ERR invalid expire time in '<cmd>' command`.
    InvalidExpire(String),
    /// `ERR wrong number of arguments for '<cmd>' command`.
    WrongArity(String),
    /// `ERR unknown command '<cmd>', with args beginning with: <args>`.
    UnknownCommand {
        name: Vec<u8>,
        args: Vec<Vec<u8>>,
    },
    /// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
    UnknownSubcommand {
        sub: Vec<u8>,
        command: String,
    },
    NoAuth,
    /// `ERR Protocol error: …` (the connection closes after it).
    Protocol(Vec<u8>),
    /// Any other error, full text with its code (`ERR …`, `BUSYKEY …`).
    Msg(Cow<'static, str>),
    /// An error already counted in errorstats when it happened (a script returning the
    /// error of a command it ran): it still marks the command failed, but is not counted
    /// again (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE).
    Counted(Cow<'static, str>),
}

/// An error built from a full message, code first.
pub fn err(msg: impl Into<Cow<'static, str>>) -> Error {
    Error::Msg(msg.into())
}

/// A command result: replies or typed errors.
pub type CmdResult<T = crate::reply::Reply> = Result<T, Error>;

fn truncate_lossy(bytes: &[u8], max: usize) -> String {
    // Redis prints with "%.128s": at most 128 bytes, shown as they are.
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
}

impl Error {
    /// The full message without the leading `-`.
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            Error::Syntax => "ERR syntax error".into(),
            Error::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            Error::NotInteger => "ERR value is not an integer or out of range".into(),
            Error::NotFloat => "ERR value is not a valid float".into(),
            Error::Overflow => "ERR increment or decrement would overflow".into(),
            Error::NoSuchKey => "ERR no such key".into(),
            Error::DbIndexOutOfRange => "ERR DB index is out of range".into(),
            Error::NotPositive => "ERR value is out of range, must be positive".into(),
            Error::InvalidExpire(cmd) => format!("ERR invalid expire time in '{cmd}' command").into(),
            Error::WrongArity(cmd) => format!("ERR wrong number of arguments for '{cmd}' command").into(),
            Error::UnknownCommand { name, args } => {
                let mut shown = String::new();
                for a in args {
                    if shown.len() >= 128 {
                        break;
                    }
                    let room = 128 - shown.len();
                    shown.push('\'');
                    shown.push_str(&truncate_lossy(a, room));
                    shown.push_str("' ");
                }
                format!("ERR unknown command '{}', with args beginning with: {}", truncate_lossy(name, 128), shown)
                    .into()
            }
            Error::UnknownSubcommand { sub, command } => {
                format!("ERR unknown subcommand '{}'. Try {} HELP.", truncate_lossy(sub, 128), command.to_uppercase())
                    .into()
            }
            Error::NoAuth => "NOAUTH Authentication required.".into(),
            Error::Protocol(m) => format!("ERR {}", String::from_utf8_lossy(m)).into(),
            Error::Msg(m) | Error::Counted(m) => m.clone(),
        }
    }

    /// The error code counted by errorstats: the text before the first space, if one occurs
    /// within Redis's 32-byte window, else `ERR`.
    pub fn code(&self) -> String {
        let m = self.message();
        let window = &m.as_bytes()[..m.len().min(31)];
        match window.iter().position(|&c| c == b' ') {
            Some(pos) => m[..pos].to_string(),
            None => "ERR".to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_text_matches_redis() {
        let e = Error::UnknownCommand { name: b"foo".to_vec(), args: vec![b"a".to_vec(), b"b".to_vec()] };
        assert_eq!(e.message(), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
        let e = Error::UnknownCommand { name: b"foo".to_vec(), args: vec![] };
        assert_eq!(e.message(), "ERR unknown command 'foo', with args beginning with: ");
        assert_eq!(Error::WrongType.code(), "WRONGTYPE");
        assert_eq!(err("ERR x").code(), "ERR");
    }
}
