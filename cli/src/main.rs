//! `paych`: Lotus/Venus payment-channel commands over a persistent local FVM
//! devnet. A thin shell: [`cli`] parses, [`commands`] calls the devnet or the
//! payment-channel manager, [`output`] prints each typed result as text
//! ([`render`]) or JSON (its serialization), and every error becomes one line
//! on stderr with a non-zero exit code. [`walkthrough`] runs the whole story
//! through the same commands.

/// `println!` that treats a closed stdout (`paych list | head -1`) as the
/// reader having seen enough: the process ends quietly instead of panicking.
macro_rules! out {
    () => { $crate::write_stdout(format_args!("")) };
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

mod cli;
mod commands;
mod daemon;
mod inspect;
mod output;
mod render;
mod walkthrough;

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    execute(&cli)
}

/// Runs a parsed command and prints its output or its error.
fn execute(cli: &Cli) -> ExitCode {
    let mut notes = Vec::new();
    let result = match &cli.command {
        Command::Walkthrough { keep } => walkthrough::run(cli.json, *keep),
        Command::Daemon(args) => {
            return match daemon::run(cli, args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Auth(cmd) => {
            return match daemon::auth(cli, cmd) {
                Ok(line) => {
                    out!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            };
        }
        _ => run_command(cli, &mut notes),
    };
    match result {
        Ok(output) => {
            if cli.json {
                let mut value = output.json;
                if !notes.is_empty()
                    && let Some(object) = value.as_object_mut()
                {
                    object.insert("notes".into(), json!(notes));
                }
                out!(
                    "{}",
                    serde_json::to_string_pretty(&value).expect("JSON always serializes")
                );
            } else {
                for note in notes {
                    out!("{note}");
                }
                if !output.text.is_empty() {
                    out!("{}", output.text);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if cli.json {
                out!(
                    "{}",
                    json!({"error": {"kind": e.kind().name(), "message": e.message()}})
                );
            }
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Runs a command on the repo directly, or through the daemon holding it
/// (or the node `--api` names), with the same output either way.
fn run_command(cli: &Cli, notes: &mut Vec<String>) -> commands::Result<output::Output> {
    match daemon::place(cli)? {
        daemon::Place::Repo(_held) => commands::run(cli, notes),
        daemon::Place::Node(info) => {
            let (output, remote_notes) = daemon::run_remote(cli, info)?;
            notes.extend(remote_notes);
            Ok(output)
        }
    }
}

fn write_stdout(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write output: {e}");
        std::process::exit(1);
    }
}

/// Help and version print as usual; usage errors become one line.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            eprintln!("{}", one_line(&e.render().to_string()));
            ExitCode::from(2)
        }
    }
}

/// The first paragraph of clap's message, on one line.
fn one_line(message: &str) -> String {
    let first: Vec<&str> = message
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let mut line = first.join(" ");
    if !line.starts_with("error:") {
        line = format!("error: {line}");
    }
    format!("{line} (see `paych --help`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_fold_to_one_line() {
        let text = "error: the following required arguments were not provided:\n  <AMOUNT>\n\nUsage: paych add-funds <FROM> <TO> <AMOUNT>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(text),
            "error: the following required arguments were not provided: <AMOUNT> (see `paych --help`)"
        );
    }
}
