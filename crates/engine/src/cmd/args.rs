//! Argument parsing shared by command families, with Redis's error replies.

use crate::error::{err, CmdResult, Error};
use crate::util::num::{parse_f64, parse_i64};

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// An integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> CmdResult<i64> {
    parse_i64(arg).ok_or(Error::NotInteger)
}

/// An integer argument with a custom error message (full text, code first).
pub fn int_or(arg: &[u8], msg: &'static str) -> CmdResult<i64> {
    parse_i64(arg).ok_or_else(|| err(msg))
}

/// A non-negative integer (`ERR value is out of range, must be positive`).
pub fn non_negative(arg: &[u8]) -> CmdResult<i64> {
    let n = int(arg)?;
    if n < 0 {
        return Err(Error::NotPositive);
    }
    Ok(n)
}

/// A float argument (`ERR value is not a valid float`).
pub fn float(arg: &[u8]) -> CmdResult<f64> {
    parse_f64(arg).ok_or(Error::NotFloat)
}

/// Redis's getTimeoutFromObjectOrReply: a timeout in seconds (may be fractional) or ms,
/// returned as an absolute deadline in ms (0 = block forever). Redis adds the timeout to the
/// clock without a range check; a deadline past i64 saturates (blocks for good).
pub fn timeout_deadline(arg: &[u8], now_ms: i64, unit_seconds: bool) -> CmdResult<i64> {
    let tval: i64 = if unit_seconds {
        seconds_to_ms(arg).ok_or_else(|| err("ERR timeout is not a float or out of range"))?
    } else {
        parse_i64(arg).ok_or_else(|| err("ERR timeout is not an integer or out of range"))?
    };
    if tval < 0 {
        return Err(err("ERR timeout is negative"));
    }
    if tval == 0 {
        return Ok(0);
    }
    Ok(now_ms.saturating_add(tval))
}

/// Redis 7.0's `(long long) ceill(seconds * 1000.0)` over a long double (string2ld): 0.0001
/// is 1 ms, and on x86 a value out of the i64 range (infinity included) becomes i64::MIN,
/// which callers report as a negative timeout. Values beyond a double's range are still
/// numbers to Redis: huge ones overflow, tiny positive ones are 1 ms, tiny negative ones 0.
fn seconds_to_ms(arg: &[u8]) -> Option<i64> {
    let ld = crate::util::num::LongDouble::parse(arg)?;
    let secs = match parse_f64(arg) {
        Some(s) => s,
        None => {
            let text = ld.to_auto();
            let zero = !text.iter().any(|c| (b'1'..=b'9').contains(c));
            let huge = text.windows(2).any(|w| w == b"e+");
            return Some(match (zero, huge, text.first() == Some(&b'-')) {
                (true, _, _) => 0,
                (false, true, _) => i64::MIN,
                (false, false, true) => 0,
                (false, false, false) => 1,
            });
        }
    };
    let ms = (secs * 1000.0).ceil();
    if ms.is_finite() && (-9.223_372_036_854_775_808e18..9.223_372_036_854_775_808e18).contains(&ms) {
        Some(ms as i64)
    } else {
        Some(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_and_numbers() {
        assert!(is(b"wItHsCoReS", "WITHSCORES"));
        assert_eq!(int(b"12").unwrap(), 12);
        assert_eq!(int(b"1.5").unwrap_err(), Error::NotInteger);
        assert_eq!(non_negative(b"-1").unwrap_err(), Error::NotPositive);
        assert_eq!(timeout_deadline(b"0", 1000, true).unwrap(), 0);
        assert_eq!(timeout_deadline(b"1.5", 1000, true).unwrap(), 2500);
        assert_eq!(timeout_deadline(b"0.0019", 1000, true).unwrap(), 1002);
        assert_eq!(timeout_deadline(b"0x10", 0, true).unwrap(), 16000);
        assert_eq!(timeout_deadline(b"-0.0001", 0, true).unwrap(), 0);
        assert!(timeout_deadline(b"1e300", 0, true).is_err());
        assert!(timeout_deadline(b"inf", 0, true).is_err());
        assert!(timeout_deadline(b"nan", 0, true).is_err());
        assert!(timeout_deadline(b"-1", 1000, true).is_err());
        // As Redis on x86: overflowing or infinite timeouts are "negative".
        let negative = Err(err("ERR timeout is negative"));
        assert_eq!(timeout_deadline(b"inf", 1000, true), negative);
        assert_eq!(timeout_deadline(b"1e400", 1000, true), negative);
        // ceill: a tiny positive timeout is 1 ms (0 would block forever), a tiny negative 0.
        assert_eq!(timeout_deadline(b"1e-400", 1000, true), Ok(1001));
        assert_eq!(timeout_deadline(b"0.0001", 1000, true), Ok(1001));
        assert_eq!(timeout_deadline(b"-1e-400", 1000, true), Ok(0));
        assert!(timeout_deadline(b"nan", 1000, true).is_err());
    }
}

/// Redis's getIntFromObjectOrReply: an i32, with `msg` (full error text) for both a bad
/// number and an out-of-range one, or Redis's default messages.
pub fn int32(arg: &[u8], msg: Option<&'static str>) -> CmdResult<i32> {
    let n = match parse_i64(arg) {
        Some(n) => n,
        None => return Err(msg.map(err).unwrap_or(Error::NotInteger)),
    };
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(msg.map(err).unwrap_or_else(|| {
            err(format!("ERR value is out of range, value must between {} and {}", i32::MIN, i32::MAX))
        }));
    }
    Ok(n as i32)
}

/// Redis's addReplyHelp: the header line, the help lines, and the HELP footer.
pub fn help_reply(command: &[u8], lines: &[&str]) -> crate::reply::Reply {
    use crate::reply::Reply;
    let name = String::from_utf8_lossy(command).to_uppercase();
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::status_owned(format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")));
    out.extend(lines.iter().map(|l| Reply::status_owned(l.to_string())));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

/// Redis's addReplySubcommandSyntaxError.
pub fn subcommand_syntax_error(command: &[u8], sub: &[u8]) -> Error {
    err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(command).to_uppercase()
    ))
}
