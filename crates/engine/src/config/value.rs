//! Setting and reading one directive: the `set` and `get` functions of each config type in
//! config.c (bool, string, sds, enum, numeric, and the special configs).

use super::parse::{self, cstr, eq_nocase, memtoull, strtoll_whole};
use super::table::{Kind, NumType, Special, DIRECTIVES, MEMORY, MULTI_ARG, OCTAL, PERCENT};
use super::{Config, ObufLimit, Value};

/// The maximum number of bind addresses (CONFIG_BINDADDR_MAX).
const BINDADDR_MAX: usize = 16;

/// Redis's `configEnumGetValue`: the value of one name, or (bitflags) the OR of several.
pub(super) fn enum_value(values: &[(&str, i32)], argv: &[Vec<u8>], bitflags: bool) -> Option<i32> {
    if argv.is_empty() || (!bitflags && argv.len() != 1) {
        return None;
    }
    let mut v = 0;
    for arg in argv {
        let mut matched = false;
        for &(name, val) in values {
            if eq_nocase(arg, name) {
                v |= val;
                matched = true;
            }
        }
        if !matched {
            return None;
        }
    }
    Some(v)
}

/// Redis's `configEnumGetName`: the name of a value, the names of its flags (bitflags), or
/// "unknown".
pub(super) fn enum_name(values: &[(&'static str, i32)], v: i32, bitflags: bool) -> String {
    let mut names: Option<String> = None;
    let mut unmatched = v;
    for &(name, val) in values {
        if v == val {
            return name.to_string();
        }
        if bitflags && val != 0 && val == (unmatched & val) {
            match &mut names {
                Some(s) => {
                    s.push(' ');
                    s.push_str(name);
                }
                None => names = Some(name.to_string()),
            }
            unmatched &= !val;
        }
    }
    match names {
        Some(s) if unmatched == 0 => s,
        _ => "unknown".to_string(),
    }
}

fn enum_error(values: &[(&str, i32)]) -> String {
    let mut s = String::from("argument(s) must be one of the following: ");
    s.push_str(&values.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "));
    s.truncate(255); // LOADBUF_SIZE - 1
    s
}

/// `numericParseString`.
pub(super) fn parse_numeric(fmt: u8, value: &[u8]) -> Result<i64, &'static str> {
    if fmt & MEMORY != 0 {
        if let Some(v) = memtoull(value) {
            return Ok(v as i64);
        }
    }
    if fmt & PERCENT != 0 && value.len() > 1 && value[value.len() - 1] == b'%' {
        if let Some(v) = parse::string2ll(&value[..value.len() - 1]) {
            if v >= 0 {
                return Ok(-v);
            }
        }
    }
    if fmt & OCTAL != 0 {
        let c = cstr(value);
        let (v, end, erange) = parse::strtoll(c, 8);
        if !erange && end == c.len() {
            return Ok(v);
        }
    }
    if fmt == 0 {
        if let Some(v) = parse::string2ll(value) {
            return Ok(v);
        }
    }
    Err(if fmt & MEMORY != 0 && fmt & PERCENT != 0 {
        "argument must be a memory or percent value"
    } else if fmt & MEMORY != 0 {
        "argument must be a memory value"
    } else if fmt & OCTAL != 0 {
        "argument couldn't be parsed as an octal number"
    } else {
        "argument couldn't be parsed into an integer"
    })
}

/// `numericBoundaryCheck`.
pub(super) fn check_bounds(ty: NumType, fmt: u8, lo: i64, hi: i64, v: i64) -> Result<(), String> {
    if ty.unsigned_check() {
        let (u, ulo, uhi) = (v as u64, lo as u64, hi as u64);
        if u > uhi || u < ulo {
            return Err(if fmt & OCTAL != 0 {
                format!("argument must be between {ulo:o} and {uhi:o} inclusive")
            } else {
                format!("argument must be between {ulo} and {uhi} inclusive")
            });
        }
    } else if fmt & PERCENT != 0 && v < 0 {
        if v < lo {
            return Err(format!("percentage argument must be less or equal to {}", lo.wrapping_neg()));
        }
    } else if v > hi || v < lo {
        return Err(format!("argument must be between {lo} and {hi} inclusive"));
    }
    Ok(())
}

/// `numericConfigGet` formatting of a stored value.
pub(super) fn format_numeric(fmt: u8, v: i64) -> String {
    if fmt & PERCENT != 0 && v < 0 {
        format!("{}%", v.wrapping_neg())
    } else if fmt & MEMORY != 0 {
        (v as u64).to_string()
    } else if fmt & OCTAL != 0 {
        format!("{:o}", v as u64)
    } else {
        v.to_string()
    }
}

impl Config {
    /// Sets directive `idx` from its arguments (the type's `set` function). Err is the error
    /// text Redis reports for it.
    pub(super) fn set_directive(&mut self, idx: usize, argv: &[Vec<u8>]) -> Result<(), String> {
        let d = &DIRECTIVES[idx];
        let arg0: &[u8] = argv.first().map(|a| a.as_slice()).unwrap_or(b"");
        match d.kind {
            Kind::Bool { .. } => {
                let yn = parse::yes_no(arg0).ok_or("argument must be 'yes' or 'no'")?;
                self.values[idx] = Value::Bool(yn);
            }
            Kind::Str { empty_is_null, sds, check, .. } => {
                let v = if sds { arg0 } else { cstr(arg0) };
                if let Some(check) = check {
                    check(self, v)?;
                }
                self.values[idx] = Value::Str(if empty_is_null && v.is_empty() { None } else { Some(v.to_vec()) });
            }
            Kind::Enum { values, check, .. } => {
                let v = enum_value(values, argv, d.flags & MULTI_ARG != 0).ok_or_else(|| enum_error(values))?;
                if let Some(check) = check {
                    check(v)?;
                }
                self.values[idx] = Value::Enum(v);
            }
            Kind::Num { ty, lo, hi, fmt, .. } => {
                let v = parse_numeric(fmt, arg0)?;
                check_bounds(ty, fmt, lo, hi, v)?;
                self.values[idx] = Value::Num(ty.store(v));
            }
            Kind::Special(s) => self.set_special(s, argv)?,
        }
        Ok(())
    }

    fn set_special(&mut self, which: Special, argv: &[Vec<u8>]) -> Result<(), String> {
        match which {
            Special::Dir => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                change_dir(&argv[0])?;
            }
            Special::Save => self.set_save(argv)?,
            Special::ClientOutputBufferLimit => self.set_obuf_limits(argv)?,
            Special::OomScoreAdjValues => {
                if argv.len() != 3 {
                    return Err("wrong number of arguments".into());
                }
                let mut values = [0i32; 3];
                for (slot, arg) in values.iter_mut().zip(argv) {
                    match strtoll_whole(arg) {
                        Some(v) if (-2000..=2000).contains(&v) => *slot = v as i32,
                        _ => {
                            return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into())
                        }
                    }
                }
                self.oom_values = values;
            }
            Special::NotifyKeyspaceEvents => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                self.notify = crate::keyspace::notify::parse_flags(cstr(&argv[0]))
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            }
            Special::Bind => {
                if argv.len() > BINDADDR_MAX {
                    return Err("Too many bind addresses specified.".into());
                }
                let argv = if argv.len() == 1 && argv[0].is_empty() { &[][..] } else { argv };
                self.bind = argv.iter().map(|a| parse::lossy(cstr(a))).collect();
            }
            Special::ReplicaOf => {
                if argv.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                self.replicaof = None;
                if eq_nocase(&argv[0], "no") && eq_nocase(&argv[1], "one") {
                    return Ok(());
                }
                // strtol into an int.
                let c = cstr(&argv[1]);
                let (v, end, _) = parse::strtoll(c, 10);
                let port = v as i32;
                if !(0..=65535).contains(&port) || end != c.len() {
                    return Err("Invalid master port".into());
                }
                self.replicaof = Some((parse::lossy(cstr(&argv[0])), port as u16));
            }
            Special::LatencyPercentiles => {
                let argv = if argv.len() == 1 && argv[0].is_empty() { &[][..] } else { argv };
                let mut out = Vec::with_capacity(argv.len());
                for arg in argv {
                    let p = parse::string2d(arg).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                    if !(0.0..=100.0).contains(&p) {
                        return Err(
                            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into()
                        );
                    }
                    out.push(p);
                }
                self.percentiles = out;
            }
        }
        Ok(())
    }

    fn set_save(&mut self, argv: &[Vec<u8>]) -> Result<(), String> {
        // A single "" means no save points.
        let argv = if argv.len() == 1 && cstr(&argv[0]).is_empty() {
            self.save.clear();
            &[][..]
        } else {
            argv
        };
        if !argv.len().is_multiple_of(2) {
            return Err("Invalid save parameters".into());
        }
        let mut points = Vec::with_capacity(argv.len() / 2);
        for pair in argv.chunks(2) {
            let seconds = strtoll_whole(&pair[0]).filter(|&v| v >= 1);
            let changes = strtoll_whole(&pair[1]).filter(|&v| v >= 0);
            match (seconds, changes) {
                (Some(s), Some(c)) => points.push((s, c as i32 as i64)),
                _ => return Err("Invalid save parameters".into()),
            }
        }
        // In a config file the first "save" line replaces the defaults and later ones append;
        // anywhere else the new list replaces the old one.
        if !self.reading_file || !self.save_loaded {
            self.save_loaded |= self.reading_file;
            self.save.clear();
        }
        self.save.extend(points);
        Ok(())
    }

    fn set_obuf_limits(&mut self, argv: &[Vec<u8>]) -> Result<(), String> {
        if !argv.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut new: [Option<ObufLimit>; 3] = [None; 3];
        for group in argv.chunks(4) {
            let class = match () {
                _ if eq_nocase(&group[0], "normal") => 0,
                _ if eq_nocase(&group[0], "slave") || eq_nocase(&group[0], "replica") => 1,
                _ if eq_nocase(&group[0], "pubsub") => 2,
                _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
            };
            let hard = memtoull(&group[1]);
            let soft = memtoull(&group[2]);
            // `int soft_seconds = strtoll(...)`: truncated to int before the sign check.
            let secs = strtoll_whole(&group[3]).map(|v| v as i32);
            match (hard, soft, secs) {
                (Some(hard), Some(soft), Some(secs)) if secs >= 0 => {
                    new[class] = Some(ObufLimit { hard, soft, soft_seconds: secs as u64 });
                }
                _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
            }
        }
        for (slot, v) in self.obuf.iter_mut().zip(new) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        Ok(())
    }

    /// The value CONFIG GET shows for directive `idx` (the type's `get` function).
    pub(super) fn get_directive(&self, idx: usize) -> Vec<u8> {
        let d = &DIRECTIVES[idx];
        match (&d.kind, &self.values[idx]) {
            (Kind::Bool { .. }, Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
            (Kind::Str { .. }, Value::Str(s)) => s.clone().unwrap_or_default(),
            (Kind::Enum { values, .. }, Value::Enum(v)) => enum_name(values, *v, d.flags & MULTI_ARG != 0).into(),
            (Kind::Num { fmt, .. }, Value::Num(v)) => format_numeric(*fmt, *v).into(),
            (Kind::Special(s), _) => self.get_special(*s),
            _ => unreachable!("value of {} does not match its type", d.name),
        }
    }

    fn get_special(&self, which: Special) -> Vec<u8> {
        match which {
            Special::Dir => current_dir(),
            Special::Save => {
                let parts: Vec<String> = self.save.iter().map(|(s, c)| format!("{s} {c}")).collect();
                parts.join(" ").into()
            }
            Special::ClientOutputBufferLimit => {
                let parts: Vec<String> = ["normal", "slave", "pubsub"]
                    .iter()
                    .zip(&self.obuf)
                    .map(|(name, l)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds))
                    .collect();
                parts.join(" ").into()
            }
            Special::OomScoreAdjValues => {
                let parts: Vec<String> = self.oom_values.iter().map(|v| v.to_string()).collect();
                parts.join(" ").into()
            }
            Special::NotifyKeyspaceEvents => crate::keyspace::notify::format_flags(self.notify).into(),
            Special::Bind => self.bind.join(" ").into(),
            Special::ReplicaOf => match &self.replicaof {
                Some((host, port)) => format!("{host} {port}").into(),
                None => Vec::new(),
            },
            Special::LatencyPercentiles => {
                let parts: Vec<String> = self.percentiles.iter().map(|&p| parse::format_double_trimmed(p)).collect();
                parts.join(" ").into()
            }
        }
    }

    /// Expands a `proc-title-template` as Redis does for `title` (the executable name, or ""
    /// to validate): `{title} {listen-addr} {server-mode} {config-file} {port} {tls-port}
    /// {unixsocket}`, trimmed of spaces. None if the template is malformed or names an unknown
    /// variable.
    pub fn expand_proc_title(&self, template: &[u8], title: &[u8]) -> Option<Vec<u8>> {
        let port = self.int("port");
        let tls_port = self.int("tls-port");
        let unixsocket = self.string_bytes("unixsocket");
        let res = parse::expand_template(template, |name| match name {
            b"title" => Some(title.to_vec()),
            b"listen-addr" => Some(if port != 0 || tls_port != 0 {
                let addr = self.bind.first().map(String::as_str).unwrap_or("*");
                format!("{addr}:{}", if port != 0 { port } else { tls_port }).into_bytes()
            } else {
                let mut v = b"unixsocket:".to_vec();
                v.extend_from_slice(unixsocket.unwrap_or(b"(null)"));
                v
            }),
            b"server-mode" => Some(if self.bool("cluster-enabled") { b"[cluster]".to_vec() } else { Vec::new() }),
            b"config-file" => {
                Some(self.config_file.as_ref().map_or(b"-".to_vec(), |p| p.as_os_str().as_encoded_bytes().to_vec()))
            }
            b"port" => Some(port.to_string().into_bytes()),
            b"tls-port" => Some(tls_port.to_string().into_bytes()),
            b"unixsocket" => Some(unixsocket.unwrap_or(b"").to_vec()),
            _ => None,
        })?;
        Some(parse::trim(&res, b" ").to_vec())
    }
}

/// `chdir`, with Redis's error text (strerror).
pub(super) fn change_dir(path: &[u8]) -> Result<(), String> {
    let c = std::ffi::CString::new(cstr(path)).expect("no NUL after cstr");
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::chdir(c.as_ptr()) } == -1 {
        return Err(parse::strerror(parse::errno_of(&std::io::Error::last_os_error())));
    }
    Ok(())
}

/// `getcwd` (empty on error), as `CONFIG GET dir` shows it.
pub(super) fn current_dir() -> Vec<u8> {
    std::env::current_dir().map(|p| p.into_os_string().into_encoded_bytes()).unwrap_or_default()
}
