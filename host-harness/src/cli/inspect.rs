//! `harness inspect`: decode the origin tag each record carries.

use clap::Args;

use host_harness::input;
use host_harness::tag::{decode_tag, Carrier, TagState};

use super::{render, CarrierArg, CommandError, InputFormatArg, IoArgs, EXIT_OK, EXIT_REFUSED};

const INSPECT_EXIT_CODES: &str = "\
Exit codes:
  0  every record was read (tagged or untagged)
  2  a record starts like an origin tag but is not a valid one
  1  usage or other error (bad arguments, unreadable input)";

#[derive(Args)]
#[command(after_help = INSPECT_EXIT_CODES)]
pub struct InspectArgs {
    /// Which part of the records carries the tag
    #[arg(long, value_enum, default_value = "value")]
    pub carrier: CarrierArg,

    #[command(flatten)]
    pub io: IoArgs,
}

/// One record: its carrier bytes (none when the carrier is a key it does not have) and what
/// they hold.
pub struct InspectRow {
    pub index: usize,
    pub carried: Option<(Vec<u8>, TagState)>,
}

/// Everything `harness inspect` found.
pub struct InspectReport {
    pub carrier: Carrier,
    pub rows: Vec<InspectRow>,
    pub exit: u8,
}

impl InspectReport {
    /// Rows whose carrier is untagged, tagged, malformed, or missing.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let (mut untagged, mut tagged, mut malformed, mut missing) = (0, 0, 0, 0);
        for row in &self.rows {
            match &row.carried {
                None => missing += 1,
                Some((_, TagState::Untagged)) => untagged += 1,
                Some((_, TagState::Tagged { .. })) => tagged += 1,
                Some((_, TagState::Malformed { .. })) => malformed += 1,
            }
        }
        (untagged, tagged, malformed, missing)
    }
}

/// Runs `harness inspect`: prints the report and gives the exit code.
pub fn inspect(args: InspectArgs) -> Result<u8, CommandError> {
    let format = InputFormatArg::or_guess(args.io.input_format, &args.io.input);
    let records = input::read_path(&args.io.input, format, None)?;
    let carrier: Carrier = args.carrier.into();
    let rows: Vec<InspectRow> = records
        .iter()
        .enumerate()
        .map(|(index, r)| InspectRow {
            index,
            carried: carrier
                .of(r.key.as_deref(), &r.value)
                .map(|bytes| (bytes.to_vec(), decode_tag(bytes))),
        })
        .collect();
    let malformed = rows
        .iter()
        .any(|r| matches!(r.carried, Some((_, TagState::Malformed { .. }))));
    let report = InspectReport {
        carrier,
        rows,
        exit: if malformed { EXIT_REFUSED } else { EXIT_OK },
    };
    print!("{}", render::inspect_report(&report, args.io.format));
    Ok(report.exit)
}
