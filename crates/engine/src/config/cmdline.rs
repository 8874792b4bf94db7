//! redis-server's command line, as `main()` in server.c turns it into config text.

use super::parse::repr_into;

/// What a redis-server command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    /// `-v` / `--version` as the first argument.
    Version,
    /// `-h` / `--help` as the first argument.
    Help,
    /// `--test-memory <megabytes>` (None: the megabytes are missing or extra arguments given).
    TestMemory(Option<String>),
    /// `--check-system`.
    CheckSystem,
    /// Start the server.
    Run {
        /// The config file, as given (make it absolute before any `dir` takes effect:
        /// [`super::Config::load_server_config`] does).
        config_file: Option<String>,
        /// Read more config from stdin (a "-" first or last argument).
        stdin: bool,
        /// The options turned into config lines, to load after the file and stdin.
        options: String,
    },
}

/// Parses redis-server's arguments (everything after the program name) as `main()` does.
pub fn parse_command_line(args: &[String]) -> CommandLine {
    let Some(first) = args.first() else {
        return CommandLine::Run { config_file: None, stdin: false, options: String::new() };
    };
    match first.as_str() {
        "-v" | "--version" => return CommandLine::Version,
        "--help" | "-h" => return CommandLine::Help,
        "--test-memory" => return CommandLine::TestMemory((args.len() == 2).then(|| args[1].clone())),
        "--check-system" => return CommandLine::CheckSystem,
        _ => {}
    }
    let mut j = 0;
    let mut config_file = None;
    if !first.starts_with('-') {
        config_file = Some(first.clone());
        j = 1;
    }
    let mut options: Vec<u8> = Vec::new();
    let mut stdin = false;
    let mut handled_last_config_arg = true;
    let last = args.len() - 1;
    while j < args.len() {
        let arg = args[j].as_bytes();
        if arg == b"-" && (j == 0 || j == last) {
            stdin = true;
        } else if handled_last_config_arg && arg.starts_with(b"--") {
            // An option name: starts a new line.
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&arg[2..]);
            options.push(b' ');
            let words = spinel_resp::request::split_args(arg).map_or(0, |v| v.len());
            if words == 1 {
                // Only a name ("--port"): its values follow, unless it is --save or --sentinel
                // followed by another option or nothing.
                handled_last_config_arg = false;
                let next_is_option = j != last && args[j + 1].starts_with("--");
                if arg.eq_ignore_ascii_case(b"--save") && (next_is_option || j == last) {
                    options.extend_from_slice(b"\"\"");
                    handled_last_config_arg = next_is_option;
                } else if arg.eq_ignore_ascii_case(b"--sentinel") && next_is_option {
                    handled_last_config_arg = true;
                }
            } else {
                // Name and value in one argument ("--port 6380").
                handled_last_config_arg = true;
            }
        } else {
            // An option value.
            repr_into(&mut options, arg);
            options.push(b' ');
            handled_last_config_arg = true;
        }
        j += 1;
    }
    CommandLine::Run { config_file, stdin, options: String::from_utf8_lossy(&options).into_owned() }
}

/// Turns redis-server's arguments into (config file, options text). A config file of "-"
/// means stdin (use [`parse_command_line`] to also learn about a trailing "-" after a file).
/// Err carries the first argument when it asks for something else than running the server:
/// "-v"/"--version", "-h"/"--help", "--test-memory", "--check-system".
pub fn command_line_to_config(args: &[String]) -> Result<(Option<String>, String), String> {
    match parse_command_line(args) {
        CommandLine::Run { config_file, stdin, options } => {
            let file = if stdin && config_file.is_none() { Some("-".to_string()) } else { config_file };
            Ok((file, options))
        }
        _ => Err(args[0].clone()),
    }
}
