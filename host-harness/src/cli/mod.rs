//! The `harness` binary's commands (not part of the library): the clap definitions, each
//! command in its own module, split into loading, running and rendering, and the exit codes
//! of every command, chosen by the variant of the error.
//!
//! `test`: [`load`] (limits, records, modules, chain, look-back) -> [`run`] (batches through
//! the chain, into a [`run::TestReport`]) -> [`render`] (text, or JSON). `simulate`: the flags
//! here, the runs in the library's `simulate::command`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use host_harness::input::InputFormat;
use host_harness::report::OutputFormat;
use host_harness::simulate::command::SimulateError;
use host_harness::tag::Carrier;
use host_harness::{ChainFileError, EngineError, HarnessError, InputError};

pub mod demo;
pub mod inspect;
pub mod load;
pub mod render;
pub mod run;
pub mod simulate;
pub mod test;

/// The command did its job: every record written, every tag read, every invariant held.
pub const EXIT_OK: u8 = 0;
/// Bad arguments, unreadable input, an engine that cannot start, an output not writable.
pub const EXIT_OTHER: u8 = 1;
/// A module refused a write (`test`), or a tag is malformed (`inspect`).
pub const EXIT_REFUSED: u8 = 2;
/// What the command runs cannot be loaded: a chain or topology file, a module, its params.
pub const EXIT_LOAD: u8 = 3;
/// An invariant of `simulate` failed.
pub const EXIT_INVARIANT: u8 = 4;

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Run Fluvio SmartModules locally, exactly as the broker runs them in the produce path",
    after_help = "Run `harness <COMMAND> --help` for the options and exit codes of a command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run records through a chain (or one module) and show what became of each
    Test(Box<test::TestArgs>),
    /// Decode the origin tags records carry, one by one (as origin-inspect) or summed up
    /// (--summary, as origin-stats)
    Inspect(inspect::InspectArgs),
    /// Tell a short story on the built policy modules: tag on edge, mirror to home, local
    /// write refused, duplicate and loop stopped
    Demo(demo::DemoArgs),
    /// Simulate clusters, links, producers and faults on the real modules and check that no
    /// record loops, is lost or is stored twice
    Simulate(Box<simulate::SimulateArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InputFormatArg {
    /// One record value per line
    Text,
    /// One JSON object per line: {"key":..,"value":..,"timestamp":..,"encoding":"base64"}
    Jsonl,
}

impl InputFormatArg {
    /// The format of `path`: the flag's, else guessed from the extension.
    pub fn or_guess(arg: Option<Self>, path: &str) -> InputFormat {
        match arg {
            Some(InputFormatArg::Text) => InputFormat::Text,
            Some(InputFormatArg::Jsonl) => InputFormat::Jsonl,
            None => InputFormat::guess(path),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CarrierArg {
    Value,
    Key,
}

impl From<CarrierArg> for Carrier {
    fn from(c: CarrierArg) -> Self {
        match c {
            CarrierArg::Value => Carrier::Value,
            CarrierArg::Key => Carrier::Key,
        }
    }
}

/// Where records come from and how the report is written, for `test` and `inspect`.
#[derive(Args)]
pub struct IoArgs {
    /// Input records: a file, or - for stdin
    #[arg(long, short = 'i', value_name = "FILE|-", default_value = "-")]
    pub input: String,

    /// How the input is written [default: jsonl for .jsonl/.ndjson/.json files, else text]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

/// Why a command could not do its job. The exit code is chosen by the variant.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// Records that cannot be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The wasmtime engine could not start.
    #[error(transparent)]
    Setup(EngineError),
    /// A chain file that cannot be read, or a module that cannot be found.
    #[error(transparent)]
    ChainFile(#[from] ChainFileError),
    /// A module that cannot be loaded: it does not compile, lacks an export, or refused its
    /// params or its look-back records.
    #[error(transparent)]
    Load(EngineError),
    /// A module's setting given on the command line that does not parse.
    #[error("{0}")]
    ModuleSetting(String),
    /// Modules a command needs are not built.
    #[error("{0}")]
    NotBuilt(String),
    /// A simulation that gives no verdict.
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

impl CommandError {
    /// The exit code of the error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Usage(_) | CommandError::Input(_) | CommandError::Setup(_) => EXIT_OTHER,
            CommandError::ChainFile(_)
            | CommandError::Load(_)
            | CommandError::ModuleSetting(_)
            | CommandError::NotBuilt(_) => EXIT_LOAD,
            CommandError::Simulate(e) => match e {
                SimulateError::Topology(_)
                | SimulateError::NotBuilt { .. }
                | SimulateError::Simulation(_) => EXIT_LOAD,
                SimulateError::Write { .. } => EXIT_OTHER,
            },
        }
    }
}

impl From<HarnessError> for CommandError {
    fn from(e: HarnessError) -> Self {
        match e {
            HarnessError::ChainFile(e) => CommandError::ChainFile(e),
            HarnessError::Engine(e) => CommandError::Load(e),
            HarnessError::Input(e) => CommandError::Input(e),
        }
    }
}

/// Default modules dir of a command: the flag's, else this workspace's.
pub fn modules_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(host_harness::default_modules_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_variant() {
        let engine = EngineError::NoTransform { module: "m".into() };
        assert_eq!(CommandError::Usage("x".into()).exit_code(), EXIT_OTHER);
        assert_eq!(CommandError::Setup(engine.clone()).exit_code(), EXIT_OTHER);
        assert_eq!(CommandError::Load(engine.clone()).exit_code(), EXIT_LOAD);
        assert_eq!(
            CommandError::from(HarnessError::Engine(engine)).exit_code(),
            EXIT_LOAD
        );
        assert_eq!(
            CommandError::from(ChainFileError::Empty {
                path: "c.yaml".into()
            })
            .exit_code(),
            EXIT_LOAD
        );
    }

    #[test]
    fn simulate_exit_codes_follow_the_variant() {
        use host_harness::simulate::TopologyError;
        let topology = || TopologyError::Invalid("x".into());
        let code = |e: SimulateError| CommandError::from(e).exit_code();
        assert_eq!(code(SimulateError::Topology(topology())), EXIT_LOAD);
        assert_eq!(
            code(SimulateError::NotBuilt {
                source: Box::new(topology()),
                modules_dir: "m".into()
            }),
            EXIT_LOAD
        );
        assert_eq!(
            code(SimulateError::Write {
                path: "r.json".into(),
                source: std::io::ErrorKind::NotFound.into()
            }),
            EXIT_OTHER
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
