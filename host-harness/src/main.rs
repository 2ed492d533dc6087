//! `harness`: run SmartModule chains locally, as the broker would, and decode origin tags.
//!
//! The commands live in `cli/` (the binary's own modules, not part of the library).

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Cli, Command, EXIT_OK, EXIT_OTHER};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_OTHER } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Test(args) => cli::test::test(*args),
        Command::Inspect(args) => cli::inspect::inspect(args),
        Command::Demo(args) => cli::demo::demo(args),
        Command::Simulate(args) => cli::simulate::simulate(*args),
    };
    ExitCode::from(result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    }))
}
