//! Loading redis.conf text: `loadServerConfig` / `loadServerConfigFromString`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::parse::{self, cstr, lossy};
use super::table::{self, MULTI_ARG};
use super::{Config, REDIS_VERSION};

/// A fatal configuration error, as redis-server prints it before exiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// (1-based line number, the trimmed line) when the error is about a line.
    line: Option<(usize, String)>,
    message: String,
    /// A file could not be opened: Redis logs this one instead of the FATAL banner.
    open_failure: bool,
}

impl ConfigError {
    fn at(line: usize, text: &[u8], message: impl Into<String>) -> ConfigError {
        ConfigError { line: Some((line, lossy(cstr(text)))), message: message.into(), open_failure: false }
    }

    fn global(message: impl Into<String>) -> ConfigError {
        ConfigError { line: None, message: message.into(), open_failure: false }
    }

    fn open(path: &[u8], err: &std::io::Error) -> ConfigError {
        let message =
            format!("Fatal error, can't open config file '{}': {}", lossy(path), parse::strerror(parse::errno_of(err)));
        ConfigError { line: None, message, open_failure: true }
    }

    /// The 1-based line number the error is about.
    pub fn line_number(&self) -> Option<usize> {
        self.line.as_ref().map(|(n, _)| *n)
    }

    /// The (trimmed) line the error is about.
    pub fn line_text(&self) -> Option<&str> {
        self.line.as_ref().map(|(_, t)| t.as_str())
    }

    /// The error message alone.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is a "can't open config file" error (logged, not bannered, by Redis).
    pub fn is_open_failure(&self) -> bool {
        self.open_failure
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.open_failure {
            return f.write_str(&self.message);
        }
        write!(f, "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n")?;
        if let Some((n, text)) = &self.line {
            write!(f, "Reading the configuration file, at line {n}\n>>> '{text}'\n")?;
        }
        writeln!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Validates a `user` line's rules: Err((argument index, message)).
pub type UserCheck = fn(&[Vec<u8>]) -> Result<(), (usize, String)>;

/// Checks the loader cannot make by itself, supplied by the rest of the server.
#[derive(Clone, Copy, Default)]
pub struct LoadHooks {
    /// Whether a command exists in the command table (`rename-command` refuses unknown ones,
    /// and targets that already exist). Without it, rename-command is recorded unchecked.
    pub command_exists: Option<fn(&[u8]) -> bool>,
    /// Validates a `user` line's ACL rules (the arguments after the user name). Err is
    /// (index of the offending argument in the whole line, counting "user" as 0, message).
    pub check_user: Option<UserCheck>,
}

/// Deprecated directives accepted and ignored (name, min argc, max argc).
const DEPRECATED: [(&str, usize, usize); 3] =
    [("list-max-ziplist-entries", 2, 2), ("list-max-ziplist-value", 2, 2), ("lua-replicate-commands", 2, 2)];

/// Reads a file as Redis does (fgets in 1024-byte chunks appended as C strings).
fn read_config_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let data = std::fs::read(path)?;
    let mut out = Vec::with_capacity(data.len());
    let mut rest = &data[..];
    while !rest.is_empty() {
        let len = memchr::memchr(b'\n', &rest[..rest.len().min(1024)]).map_or(rest.len().min(1024), |p| p + 1);
        out.extend_from_slice(cstr(&rest[..len]));
        rest = &rest[len..];
    }
    Ok(out)
}

/// Redis's `getAbsolutePath`.
pub(super) fn absolute_path(name: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut rel = parse::trim(name, b" \r\n\t");
    if rel.first() == Some(&b'/') {
        return Some(PathBuf::from(std::ffi::OsStr::from_bytes(rel)));
    }
    let mut abs = super::value::current_dir();
    if abs.is_empty() {
        return None;
    }
    if abs.last() != Some(&b'/') {
        abs.push(b'/');
    }
    while rel.len() >= 3 && rel.starts_with(b"../") {
        rel = &rel[3..];
        if abs.len() > 1 {
            // Drop the last path element (abs ends with '/').
            let cut = abs[..abs.len() - 1].iter().rposition(|&c| c == b'/').map_or(0, |p| p + 1);
            abs.truncate(cut);
        }
    }
    abs.extend_from_slice(rel);
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&abs)))
}

impl Config {
    /// Loads a config file and remembers its absolute path for CONFIG REWRITE.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        self.load_server_config(Some(path), None, None)
    }

    /// Loads redis.conf text.
    pub fn load_string(&mut self, text: &str) -> Result<(), ConfigError> {
        self.load_bytes(text.as_bytes())
    }

    /// Loads redis.conf text given as bytes.
    pub fn load_bytes(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        self.load_from_string(text)
    }

    /// redis-server's startup load (`loadServerConfig`): the config file (remembered as the
    /// config file, as an absolute path), then what was read from stdin, then the
    /// command-line options, as one text (so line numbers run on across them).
    pub fn load_server_config(
        &mut self,
        file: Option<&Path>,
        stdin: Option<&[u8]>,
        options: Option<&str>,
    ) -> Result<(), ConfigError> {
        use std::os::unix::ffi::OsStrExt;
        let mut text = Vec::new();
        if let Some(path) = file {
            let raw = path.as_os_str().as_bytes();
            self.config_file = absolute_path(raw).or_else(|| Some(path.to_path_buf()));
            text = read_config_file(path).map_err(|e| ConfigError::open(raw, &e))?;
        }
        if let Some(input) = stdin {
            text.extend_from_slice(input);
        }
        if let Some(options) = options {
            text.push(b'\n');
            text.extend_from_slice(options.as_bytes());
        }
        self.load_from_string(&text)
    }

    /// An `include`: one file, or every file a glob pattern matches (none is fine).
    fn include(&mut self, name: &[u8]) -> Result<(), ConfigError> {
        use std::os::unix::ffi::OsStrExt;
        let name = cstr(name);
        let mut text = Vec::new();
        if name.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            for path in glob(name) {
                let p = Path::new(std::ffi::OsStr::from_bytes(&path));
                text.extend(read_config_file(p).map_err(|e| ConfigError::open(&path, &e))?);
            }
        } else {
            let p = Path::new(std::ffi::OsStr::from_bytes(name));
            text = read_config_file(p).map_err(|e| ConfigError::open(name, &e))?;
        }
        self.load_from_string(&text)
    }

    /// `loadServerConfigFromString`.
    fn load_from_string(&mut self, config: &[u8]) -> Result<(), ConfigError> {
        self.reading_file = true;
        let result = self.load_lines(cstr(config));
        self.reading_file = false;
        result
    }

    fn load_lines(&mut self, config: &[u8]) -> Result<(), ConfigError> {
        let lines: Vec<&[u8]> = if config.is_empty() { Vec::new() } else { config.split(|&c| c == b'\n').collect() };
        for (i, raw) in lines.iter().enumerate() {
            let linenum = i + 1;
            let line = parse::trim(raw, b" \t\r\n");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let Some(mut argv) = spinel_resp::request::split_args(line) else {
                return Err(ConfigError::at(linenum, line, "Unbalanced quotes in configuration line"));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();
            match self.load_line(&argv) {
                Ok(()) => {}
                Err(LineError::Message(msg)) => return Err(ConfigError::at(linenum, line, msg)),
                // An error inside an included file is about that file's line.
                Err(LineError::Included(e)) => return Err(e),
            }
        }

        let logfile = self.string_bytes("logfile").unwrap_or(b"").to_vec();
        if !logfile.is_empty() {
            use std::os::unix::ffi::OsStrExt;
            let path = Path::new(std::ffi::OsStr::from_bytes(cstr(&logfile)));
            if let Err(e) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
                return Err(ConfigError::global(format!(
                    "Can't open the log file: {}",
                    parse::strerror(parse::errno_of(&e))
                )));
            }
        }
        if self.bool("cluster-enabled") && self.replicaof.is_some() {
            return Err(ConfigError::global("replicaof directive not allowed in cluster mode"));
        }
        self.clamp_hz();
        Ok(())
    }

    /// One parsed line (argv[0] lowercased).
    fn load_line(&mut self, argv: &[Vec<u8>]) -> Result<(), LineError> {
        let argc = argv.len();
        if let Some(entry) = table::lookup(&argv[0]) {
            let multi = entry.directive().flags & MULTI_ARG != 0;
            if !multi && argc != 2 {
                return Err("wrong number of arguments".into());
            }
            if multi && argc == 2 && !argv[1].is_empty() {
                // A single argument to a multi-arg config is split again ("save '3600 1'").
                let split = spinel_resp::request::split_args(&argv[1]).unwrap_or_default();
                return Ok(self.set_directive(entry.index, &split)?);
            }
            return Ok(self.set_directive(entry.index, &argv[1..])?);
        }
        if DEPRECATED.iter().any(|&(name, min, max)| parse::eq_nocase(&argv[0], name) && (min..=max).contains(&argc)) {
            return Ok(());
        }
        let name = cstr(&argv[0]);
        if name == b"include" && argc == 2 {
            self.include(&argv[1]).map_err(LineError::Included)
        } else if name == b"rename-command" && argc == 3 {
            Ok(self.rename_command(&argv[1], &argv[2])?)
        } else if name == b"user" && argc >= 2 {
            if self.users.iter().any(|u| u[0] == argv[1]) {
                let user = lossy(cstr(&argv[1]));
                let why = "Duplicate user found. A user can only be defined once in config files";
                return Err(format!("Error in user declaration '{user}': {why}").into());
            }
            if let Some(check) = self.hooks.check_user {
                if let Err((at, msg)) = check(&argv[2..]) {
                    let arg = argv.get(at).map_or(String::new(), |a| lossy(cstr(a)));
                    return Err(format!("Error in user declaration '{arg}': {msg}").into());
                }
            }
            self.users.push(argv[1..].to_vec());
            Ok(())
        } else if name == b"loadmodule" && argc >= 2 {
            Err(format!("Module {} failed to load: modules are not supported by this server", lossy(cstr(&argv[1])))
                .into())
        } else if name.contains(&b'.') {
            if argc < 2 {
                return Err("Module config specified without value".into());
            }
            Err("Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting".into())
        } else if name == b"sentinel" {
            if argc != 1 {
                return Err("sentinel directive while not in sentinel mode".into());
            }
            Ok(())
        } else {
            Err("Bad directive or wrong number of arguments".into())
        }
    }

    fn command_exists(&self, hook: fn(&[u8]) -> bool, name: &[u8]) -> bool {
        let lower = lossy(name).to_ascii_lowercase();
        if self.cmd_added.contains(&lower) {
            return true;
        }
        !self.cmd_removed.contains(&lower) && hook(name)
    }

    fn rename_command(&mut self, from: &[u8], to: &[u8]) -> Result<(), String> {
        if let Some(hook) = self.hooks.command_exists {
            if !self.command_exists(hook, from) {
                return Err("No such command in rename-command".into());
            }
            let lower = lossy(from).to_ascii_lowercase();
            if let Some(p) = self.cmd_added.iter().position(|c| *c == lower) {
                self.cmd_added.remove(p);
            } else {
                self.cmd_removed.push(lower);
            }
            if !to.is_empty() {
                if self.command_exists(hook, to) {
                    return Err("Target command name already exists".into());
                }
                let lower = lossy(to).to_ascii_lowercase();
                self.cmd_removed.retain(|c| *c != lower);
                self.cmd_added.push(lower);
            }
        }
        self.renamed.push((lossy(from), lossy(to)));
        Ok(())
    }
}

/// Why a line failed.
enum LineError {
    /// The message to report for the line.
    Message(String),
    /// An included file failed: its own error stands.
    Included(ConfigError),
}

impl From<String> for LineError {
    fn from(s: String) -> Self {
        LineError::Message(s)
    }
}

impl From<&str> for LineError {
    fn from(s: &str) -> Self {
        LineError::Message(s.to_string())
    }
}

/// glob(3) with no flags: the sorted matches, or nothing.
fn glob(pattern: &[u8]) -> Vec<Vec<u8>> {
    let Ok(c) = std::ffi::CString::new(pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // SAFETY: glob_t is plain data; glob fills it and globfree releases it.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        if libc::glob(c.as_ptr(), 0, None, &mut g) == 0 {
            for i in 0..g.gl_pathc {
                let p = *g.gl_pathv.add(i);
                if !p.is_null() {
                    out.push(std::ffi::CStr::from_ptr(p).to_bytes().to_vec());
                }
            }
        }
        libc::globfree(&mut g);
    }
    out
}
