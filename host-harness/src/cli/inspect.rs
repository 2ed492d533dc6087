//! `harness inspect`: the provenance of each record of a dump, or with `--summary` the summary
//! of them all, with the code of origin-inspect and origin-stats (`host_harness::inspect`).

use clap::Args;

use host_harness::input;
use host_harness::inspect::Inspection;
use observe::Stats;

use super::{render, CarrierArg, CommandError, InputFormatArg, IoArgs, EXIT_OK, EXIT_REFUSED};

const INSPECT_EXIT_CODES: &str = "\
Exit codes:
  0  every record was read (tagged or untagged) and, with --secret, every tag verifies
  2  a record starts like an origin tag but is not a valid one, or with --secret a tag's
     MAC does not verify
  1  usage or other error (bad arguments, a secret under 16 bytes, unreadable input)";

#[derive(Args)]
#[command(after_help = INSPECT_EXIT_CODES)]
pub struct InspectArgs {
    /// Which part of the records carries the tag
    #[arg(long, value_enum, default_value = "value")]
    pub carrier: CarrierArg,

    /// The secret the clusters share: tells whether each tag's MAC verifies (at least 16
    /// bytes, as the modules' `secret` param)
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,

    /// The data set tags are sealed for (the modules' `scope` param)
    #[arg(long, value_name = "SCOPE", requires = "secret")]
    pub scope: Option<String>,

    /// Sum up the records as origin-stats does: a table, or with --format json the
    /// origin-stats/1 document the module would print
    #[arg(long)]
    pub summary: bool,

    /// Entries of each table of --summary (origins, paths, violations), as origin-stats' `top`
    #[arg(long, value_name = "N", default_value_t = 10, requires = "summary",
          value_parser = clap::value_parser!(u8).range(1..=observe::MAX_TOP as i64))]
    pub top: u8,

    #[command(flatten)]
    pub io: IoArgs,
}

/// Everything `harness inspect` found.
pub struct InspectReport {
    pub inspection: Inspection,
    /// With `--summary`: the summary of every record.
    pub summary: Option<Stats>,
    pub exit: u8,
}

/// Runs `harness inspect`: prints the report and gives the exit code.
pub fn inspect(args: InspectArgs) -> Result<u8, CommandError> {
    let secret = match &args.secret {
        None => None,
        Some(s) => Some(
            origin::SealKey::new(s.as_bytes(), args.scope.as_deref().unwrap_or_default()).map_err(
                |e| {
                    CommandError::Usage(format!(
                        "--secret: {e}; the clusters' secret (the modules' `secret` param) is \
                         at least 16 bytes"
                    ))
                },
            )?,
        ),
    };
    let format = InputFormatArg::or_guess(args.io.input_format, &args.io.input);
    let records = input::read_path(&args.io.input, format, None)?;
    let inspection = Inspection::new(records, args.carrier.into(), secret, input::now_ms());
    let invalid = inspection.any_invalid();
    let summary = args
        .summary
        .then(|| inspection.summary(usize::from(args.top)));
    let report = InspectReport {
        inspection,
        summary,
        exit: if invalid { EXIT_REFUSED } else { EXIT_OK },
    };
    print!("{}", render::inspect_report(&report, args.io.format));
    Ok(report.exit)
}
