//! `harness test`: load, run, render.

use std::path::PathBuf;

use clap::Args;

use host_harness::{DEFAULT_FUEL, DEFAULT_MEMORIES, DEFAULT_TABLES};

use super::{load, render, run, CarrierArg, CommandError, IoArgs};

/// `DEFAULT_TIMEOUT`, `DEFAULT_MEMORY` and `DEFAULT_TABLE_ELEMENTS` as the flags write them
/// (checked by a test).
pub const DEFAULT_TIMEOUT_TEXT: &str = "10s";
pub const DEFAULT_MEMORY_TEXT: &str = "1GB";
pub const DEFAULT_TABLE_ELEMENTS_TEXT: &str = "1000000";

const TEST_EXIT_CODES: &str = "\
Exit codes:
  0  every batch ran without a runtime error (records may still be dropped)
  2  a write was refused: a module returned a runtime error, or a call trapped or hit a limit
  3  the chain could not be loaded: bad chain file, module not found or not valid,
     init refused its params, look_back failed
  1  usage or other error (bad arguments, unreadable input)";

#[derive(Args)]
#[command(after_help = TEST_EXIT_CODES)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["chain", "module"]))]
pub struct TestArgs {
    /// Chain file: Fluvio's transforms YAML (`transforms: [{uses: NAME, with: {k: v}}]`)
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,

    /// A single module: a .wasm or .wat path, or a name in the modules dir
    #[arg(long, short = 'm', value_name = "WASM")]
    pub module: Option<String>,

    /// Param for --module's init, repeatable
    #[arg(
        short = 'e',
        long = "param",
        value_name = "KEY=VALUE",
        requires = "module"
    )]
    pub params: Vec<String>,

    #[command(flatten)]
    pub io: IoArgs,

    /// Key given to every input record that has none
    #[arg(long, value_name = "K")]
    pub key: Option<String>,

    /// SmartModule API version to encode with (the broker uses 22)
    #[arg(long, value_name = "N", default_value_t = 22,
          value_parser = clap::value_parser!(i16).range(16..=25))]
    pub version: i16,

    /// Folder searched for modules named in the chain [default: this workspace's
    /// target/wasm32-unknown-unknown/wasm, found from the current dir or the binary]
    #[arg(long, value_name = "DIR")]
    pub modules_dir: Option<PathBuf>,

    /// Records fed to look_back of modules with a lookback window (same formats as --input)
    #[arg(long, value_name = "FILE")]
    pub lookback: Option<String>,

    /// Lookback window of --module: how many records it reads back [default with
    /// --lookback: all of them]
    #[arg(long, value_name = "N", requires = "module")]
    pub lookback_last: Option<u64>,

    /// Lookback window of --module: how old records it reads back may be (e.g. 1h)
    #[arg(long, value_name = "DURATION", requires = "module")]
    pub lookback_age: Option<String>,

    /// Records per batch (one produce request); 0 puts all records in one batch
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub batch_size: usize,

    /// Offset of the first input record
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub base_offset: i64,

    /// Fuel per call (about one unit per wasm instruction), or `none`
    #[arg(long, value_name = "N|none", default_value_t = DEFAULT_FUEL.to_string())]
    pub fuel: String,

    /// Wall time per call (e.g. 500ms, 10s), or `none`
    #[arg(long, value_name = "DURATION|none", default_value = DEFAULT_TIMEOUT_TEXT)]
    pub timeout: String,

    /// Memory of a module: all its linear memories together, plus the records a call hands
    /// back (bytes, or with KiB/MiB/GiB/KB/MB/GB), or `none`
    #[arg(long, value_name = "SIZE|none", default_value = DEFAULT_MEMORY_TEXT)]
    pub memory: String,

    /// Elements of all a module's tables together, or `none`
    #[arg(long, value_name = "N|none", default_value = DEFAULT_TABLE_ELEMENTS_TEXT)]
    pub table_elements: String,

    /// Linear memories a module may define
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MEMORIES)]
    pub memories: usize,

    /// Tables a module may define
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TABLES)]
    pub tables: usize,

    /// Initial accumulator of an aggregate module
    #[arg(long, value_name = "VALUE")]
    pub aggregate_initial: Option<String>,

    /// Where output records carry their origin tag
    #[arg(long, value_enum, default_value = "value")]
    pub carrier: CarrierArg,
}

/// Runs `harness test`: prints the report and gives the exit code of the run.
pub fn test(args: TestArgs) -> Result<u8, CommandError> {
    let loaded = load::load(&args)?;
    let report = run::run(loaded, &args);
    print!("{}", render::test_report(&report, args.io.format));
    Ok(report.exit)
}
