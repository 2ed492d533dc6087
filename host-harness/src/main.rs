//! `harness`: run SmartModule chains locally, as the broker would, and decode origin tags.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};

use host_harness::chain_file::parse_duration;
use host_harness::input::{self, InputFormat, InputRecord};
use host_harness::report::{self, OutputFormat};
use host_harness::tag::{decode_tag, Carrier, TagState};
use host_harness::{
    Batch, Chain, ChainFile, ChainOptions, Engine, Limits, Lookback, ModuleResolver, ModuleSpec,
    Outcome, DEFAULT_FUEL,
};

/// `DEFAULT_TIMEOUT` and `DEFAULT_MEMORY` as the flags write them (checked by a test).
const DEFAULT_TIMEOUT_TEXT: &str = "10s";
const DEFAULT_MEMORY_TEXT: &str = "1GB";

const EXIT_OK: u8 = 0;
const EXIT_OTHER: u8 = 1;
const EXIT_REFUSED: u8 = 2;
const EXIT_LOAD: u8 = 3;

const TEST_EXIT_CODES: &str = "\
Exit codes:
  0  every batch ran without a runtime error (records may still be dropped)
  2  a write was refused: a module returned a runtime error, or a call trapped or hit a limit
  3  the chain could not be loaded: bad chain file, module not found or not valid,
     init refused its params, look_back failed
  1  usage or other error (bad arguments, unreadable input)";

const INSPECT_EXIT_CODES: &str = "\
Exit codes:
  0  every record was read (tagged or untagged)
  2  a record starts like an origin tag but is not a valid one
  1  usage or other error (bad arguments, unreadable input)";

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Run Fluvio SmartModules locally, exactly as the broker runs them in the produce path",
    after_help = "Run `harness <COMMAND> --help` for the options and exit codes of a command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run records through a chain (or one module) and show what became of each
    Test(Box<TestArgs>),
    /// Decode origin tags carried in records
    Inspect(InspectArgs),
    /// Tell a short story on the built policy modules: tag on edge, mirror to home, local
    /// write refused, duplicate and loop stopped
    Demo(DemoArgs),
    /// Simulate clusters, links, producers and faults on the real modules and check that no
    /// record loops, is lost or is stored twice
    Simulate(Box<host_harness::simulate::cli::SimulateArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormatArg {
    /// One record value per line
    Text,
    /// One JSON object per line: {"key":..,"value":..,"timestamp":..,"encoding":"base64"}
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum CarrierArg {
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

#[derive(Args)]
#[command(after_help = TEST_EXIT_CODES)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["chain", "module"]))]
struct TestArgs {
    /// Chain file: Fluvio's transforms YAML (`transforms: [{uses: NAME, with: {k: v}}]`)
    #[arg(long, value_name = "FILE")]
    chain: Option<PathBuf>,

    /// A single module: a .wasm path, or a name in the modules dir
    #[arg(long, short = 'm', value_name = "WASM")]
    module: Option<String>,

    /// Param for --module's init, repeatable
    #[arg(
        short = 'e',
        long = "param",
        value_name = "KEY=VALUE",
        requires = "module"
    )]
    params: Vec<String>,

    #[command(flatten)]
    io: IoArgs,

    /// Key given to every input record that has none
    #[arg(long, value_name = "K")]
    key: Option<String>,

    /// SmartModule API version to encode with (the broker uses 22)
    #[arg(long, value_name = "N", default_value_t = 22,
          value_parser = clap::value_parser!(i16).range(16..=25))]
    version: i16,

    /// Folder searched for modules named in the chain [default: this workspace's
    /// target/wasm32-unknown-unknown/wasm, found from the current dir or the binary]
    #[arg(long, value_name = "DIR")]
    modules_dir: Option<PathBuf>,

    /// Records fed to look_back of modules with a lookback window (same formats as --input)
    #[arg(long, value_name = "FILE")]
    lookback: Option<String>,

    /// Lookback window of --module: how many records it reads back [default with
    /// --lookback: all of them]
    #[arg(long, value_name = "N", requires = "module")]
    lookback_last: Option<u64>,

    /// Lookback window of --module: how old records it reads back may be (e.g. 1h)
    #[arg(long, value_name = "DURATION", requires = "module")]
    lookback_age: Option<String>,

    /// Records per batch (one produce request); 0 puts all records in one batch
    #[arg(long, value_name = "N", default_value_t = 1)]
    batch_size: usize,

    /// Offset of the first input record
    #[arg(long, value_name = "N", default_value_t = 0)]
    base_offset: i64,

    /// Fuel per call (about one unit per wasm instruction), or `none`
    #[arg(long, value_name = "N|none", default_value_t = DEFAULT_FUEL.to_string())]
    fuel: String,

    /// Wall time per call (e.g. 500ms, 10s), or `none`
    #[arg(long, value_name = "DURATION|none", default_value = DEFAULT_TIMEOUT_TEXT)]
    timeout: String,

    /// Largest linear memory of a module (bytes, or with KiB/MiB/GiB/KB/MB/GB), or `none`
    #[arg(long, value_name = "SIZE|none", default_value = DEFAULT_MEMORY_TEXT)]
    memory: String,

    /// Initial accumulator of an aggregate module
    #[arg(long, value_name = "VALUE")]
    aggregate_initial: Option<String>,

    /// Where output records carry their origin tag
    #[arg(long, value_enum, default_value = "value")]
    carrier: CarrierArg,
}

#[derive(Args)]
#[command(after_help = INSPECT_EXIT_CODES)]
struct InspectArgs {
    /// Which part of the records carries the tag
    #[arg(long, value_enum, default_value = "value")]
    carrier: CarrierArg,

    #[command(flatten)]
    io: IoArgs,
}

#[derive(Args)]
#[command(
    after_help = "Exit codes:\n  0  the story ran\n  3  the policy modules are not built (the message says how)"
)]
struct DemoArgs {
    /// Directory of built modules [default: this workspace's target/wasm32-unknown-unknown/wasm]
    #[arg(long, value_name = "DIR")]
    modules_dir: Option<PathBuf>,
}

fn demo(args: DemoArgs) -> u8 {
    let dir = args
        .modules_dir
        .unwrap_or_else(host_harness::default_modules_dir);
    let missing: Vec<&str> = host_harness::demo::MODULES
        .into_iter()
        .filter(|m| ModuleResolver::new(&dir).resolve(m).is_err())
        .collect();
    if !missing.is_empty() {
        return fail(
            EXIT_LOAD,
            format!(
                "the policy modules are not built ({} missing in {}); build them first:\n  \
                 rustup target add wasm32-unknown-unknown && cargo build-modules",
                missing.join(", "),
                dir.display()
            ),
        );
    }
    match host_harness::demo::run(&dir) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => fail(EXIT_LOAD, e),
    }
}

/// Where records come from and how the report is written, for `test` and `inspect`.
#[derive(Args)]
struct IoArgs {
    /// Input records: a file, or - for stdin
    #[arg(long, short = 'i', value_name = "FILE|-", default_value = "-")]
    input: String,

    /// How the input is written [default: jsonl for .jsonl/.ndjson/.json files, else text]
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<InputFormatArg>,

    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_OTHER } else { EXIT_OK });
        }
    };
    let code = match cli.command {
        Command::Test(args) => test(*args),
        Command::Inspect(args) => inspect(args),
        Command::Demo(args) => demo(args),
        Command::Simulate(args) => host_harness::simulate::cli::run(*args),
    };
    ExitCode::from(code)
}

/// Prints an error and gives the exit code.
fn fail(code: u8, message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    code
}

fn input_format(arg: Option<InputFormatArg>, path: &str) -> InputFormat {
    match arg {
        Some(InputFormatArg::Text) => InputFormat::Text,
        Some(InputFormatArg::Jsonl) => InputFormat::Jsonl,
        None => InputFormat::guess(path),
    }
}

fn parse_limits(args: &TestArgs) -> Result<Limits, String> {
    let none = |s: &str| s.eq_ignore_ascii_case("none");
    let fuel = if none(&args.fuel) {
        None
    } else {
        Some(
            args.fuel
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("--fuel {:?}: expected a number or `none`", args.fuel))?,
        )
    };
    let timeout = if none(&args.timeout) {
        None
    } else {
        Some(parse_duration(&args.timeout).map_err(|e| {
            format!(
                "--timeout {:?}: {e} (use e.g. 500ms, 10s or `none`)",
                args.timeout
            )
        })?)
    };
    let memory = if none(&args.memory) {
        None
    } else {
        Some(parse_size(&args.memory).ok_or_else(|| {
            format!(
                "--memory {:?}: expected bytes, e.g. 1000000, 64MiB, 1GB or `none`",
                args.memory
            )
        })?)
    };
    Ok(Limits {
        fuel,
        timeout,
        memory,
        ..Limits::default()
    })
}

fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `lookback_count`: number of --lookback records, the default window of --module.
fn module_specs(
    args: &TestArgs,
    resolver: &ModuleResolver,
    lookback_count: Option<u64>,
) -> Result<Vec<ModuleSpec>, String> {
    if let Some(path) = &args.chain {
        let file = ChainFile::load(path).map_err(|e| e.to_string())?;
        for w in &file.warnings {
            eprintln!("warning: {w}");
        }
        let mut specs = file.resolve(resolver).map_err(|e| e.to_string())?;
        if let Some(acc) = &args.aggregate_initial {
            for s in &mut specs {
                s.initial_accumulator = acc.clone().into_bytes();
            }
        }
        return Ok(specs);
    }
    let uses = args.module.as_deref().unwrap_or_default();
    let path = resolver.resolve(uses).map_err(|e| e.to_string())?;
    let mut spec = ModuleSpec::from_file(&path).map_err(|e| e.to_string())?;
    spec.name = host_harness::chain_file::module_name(uses)
        .trim_end_matches(".wasm")
        .to_string();
    if spec.name.contains(std::path::MAIN_SEPARATOR) || spec.name.is_empty() {
        spec.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    for p in &args.params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!("-e {p:?}: expected KEY=VALUE"));
        };
        spec.params.insert(k.to_string(), v.to_string());
    }
    if let Some(acc) = &args.aggregate_initial {
        spec.initial_accumulator = acc.clone().into_bytes();
    }
    let age = match &args.lookback_age {
        Some(text) => Some(
            parse_duration(text)
                .map_err(|e| format!("--lookback-age {text:?}: {e} (use e.g. 30s, 15m, 1h)"))?,
        ),
        None => None,
    };
    if args.lookback_last.is_some() || age.is_some() || lookback_count.is_some() {
        let last = args
            .lookback_last
            .or(if age.is_some() {
                Some(0)
            } else {
                lookback_count
            })
            .unwrap_or(0);
        spec.lookback = Some(Lookback { last, age });
    }
    Ok(vec![spec])
}

struct Counts {
    by_label: BTreeMap<&'static str, usize>,
    outputs: usize,
}

fn test(args: TestArgs) -> u8 {
    let limits = match parse_limits(&args) {
        Ok(l) => l,
        Err(e) => return fail(EXIT_OTHER, e),
    };
    let format = input_format(args.io.input_format, &args.io.input);
    let inputs = match input::read_path(
        &args.io.input,
        format,
        args.key.as_deref().map(str::as_bytes),
    ) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_OTHER, e),
    };
    let lookback_inputs = match &args.lookback {
        Some(path) => {
            match input::read_path(path, input_format(args.io.input_format, path), None) {
                Ok(r) => Some(r),
                Err(e) => return fail(EXIT_OTHER, e),
            }
        }
        None => None,
    };

    let resolver = ModuleResolver::new(
        args.modules_dir
            .clone()
            .unwrap_or_else(host_harness::default_modules_dir),
    );
    let specs = match module_specs(
        &args,
        &resolver,
        lookback_inputs.as_ref().map(|r| r.len() as u64),
    ) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_LOAD, e),
    };
    let engine = match Engine::shared() {
        Ok(e) => e,
        Err(e) => return fail(EXIT_OTHER, e),
    };
    let options = ChainOptions {
        version: args.version,
        limits,
    };
    let mut chain = match Chain::new(&engine, &specs, &options) {
        Ok(c) => c,
        Err(e) => return fail(EXIT_LOAD, e),
    };
    let now = input::now_ms();
    if let Some(lb) = &lookback_inputs {
        // Records read back from a partition: base offset and base timestamp 0.
        let records = input::to_records(
            &lb.iter()
                .map(|r| InputRecord {
                    timestamp: Some(r.timestamp.unwrap_or(now)),
                    ..r.clone()
                })
                .collect::<Vec<_>>(),
            0,
        );
        match chain.look_back(&records, now) {
            Ok(fed) if fed.is_empty() => eprintln!(
                "warning: --lookback given but no module has both a lookback window and a \
                 look_back function; nothing was fed"
            ),
            Ok(_) => {}
            Err(e) => return fail(EXIT_LOAD, e),
        }
    }

    let batch_size = if args.batch_size == 0 {
        inputs.len().max(1)
    } else {
        args.batch_size
    };
    let carrier: Carrier = args.carrier.into();
    let mut exit = EXIT_OK;
    let mut counts = Counts {
        by_label: BTreeMap::new(),
        outputs: 0,
    };
    let mut docs: Vec<Value> = Vec::new();
    let mut unattributed: Vec<Value> = Vec::new();
    let mut text = String::new();
    let modules_line = chain
        .modules()
        .iter()
        .map(|m| {
            let params: Vec<String> = m.params().iter().map(|(k, v)| format!("{k}={v}")).collect();
            if params.is_empty() {
                format!("{} ({})", m.name(), m.kind())
            } else {
                format!("{} ({}; {})", m.name(), m.kind(), params.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ");
    text.push_str(&format!(
        "chain: {modules_line}\napi version {}, {} record(s) in batches of {}\n",
        args.version,
        inputs.len(),
        batch_size
    ));

    for (b, chunk) in inputs.chunks(batch_size).enumerate() {
        let first = b * batch_size;
        let base_offset = args.base_offset + first as i64;
        let base_timestamp = chunk.first().and_then(|r| r.timestamp).unwrap_or(now);
        let batch = Batch {
            base_offset,
            base_timestamp,
            records: input::to_records(chunk, base_timestamp),
        };
        let run = chain.run(&batch);
        if !run.outcome.is_written() {
            exit = EXIT_REFUSED;
        }
        for (i, (rf, inp)) in run.fates.iter().zip(chunk).enumerate() {
            let index = first + i;
            let offset = base_offset + i as i64;
            *counts.by_label.entry(rf.fate.label()).or_default() += 1;
            counts.outputs += rf.outputs.len();
            let mut m = Map::new();
            m.insert("index".into(), json!(index));
            m.insert("offset".into(), json!(offset));
            m.insert("input".into(), report::input_json(inp));
            report::fate_fields(&rf.fate, &mut m);
            m.insert(
                "outputs".into(),
                Value::Array(
                    rf.outputs
                        .iter()
                        .map(|r| report::output_json(r, base_offset, base_timestamp, carrier))
                        .collect(),
                ),
            );
            docs.push(Value::Object(m));

            let mut line = format!("#{index} offset {offset}");
            if let Some(k) = &inp.key {
                line.push_str(&format!(" key={}", report::show_bytes(k)));
            }
            line.push_str(&format!(
                " value={}: {}",
                report::show_bytes(&inp.value),
                rf.fate
            ));
            text.push_str(&report::indent(&line, "    "));
            text.push('\n');
            for out in &rf.outputs {
                let l = format!("  -> {}", report::output_text(out, base_offset, carrier));
                text.push_str(&l);
                text.push('\n');
            }
        }
        counts.outputs += run.unattributed.len();
        for out in &run.unattributed {
            unattributed.push(report::output_json(
                out,
                base_offset,
                base_timestamp,
                carrier,
            ));
            text.push_str(&format!(
                "  -> (unattributed) {}\n",
                report::output_text(out, base_offset, carrier)
            ));
        }
        if let Outcome::Failed(e) = &run.outcome {
            if e.module().is_none() {
                text.push_str(&format!("  batch failed: {e}\n"));
            }
        }
    }

    let count = |l: &str| counts.by_label.get(l).copied().unwrap_or(0);
    let mut summary = format!(
        "summary: {} in, {} out: {} passed, {} changed, {} dropped, {} refused, {} failed",
        inputs.len(),
        counts.outputs,
        count("passed"),
        count("changed"),
        count("dropped"),
        count("refused"),
        count("failed"),
    );
    if count("unattributed") > 0 {
        summary.push_str(&format!(", {} unattributed", count("unattributed")));
    }
    text.push_str(&summary);
    text.push('\n');

    match args.io.format {
        OutputFormat::Text => print!("{text}"),
        OutputFormat::Jsonl => {
            for d in &docs {
                println!("{d}");
            }
        }
        OutputFormat::Json => {
            let chain_json: Vec<Value> = chain
                .modules()
                .iter()
                .zip(&specs)
                .map(|(m, s)| {
                    json!({
                        "name": m.name(),
                        "kind": m.kind().to_string(),
                        "path": s.path.as_ref().map(|p| p.display().to_string()),
                        "params": m.params(),
                    })
                })
                .collect();
            let mut summary = Map::new();
            summary.insert("records".into(), json!(inputs.len()));
            summary.insert("outputs".into(), json!(counts.outputs));
            for l in [
                "passed",
                "changed",
                "dropped",
                "refused",
                "failed",
                "unattributed",
            ] {
                summary.insert(l.into(), json!(count(l)));
            }
            let doc = json!({
                "chain": chain_json,
                "version": args.version,
                "records": docs,
                "unattributed": unattributed,
                "summary": summary,
                "exit_code": exit,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
            );
        }
    }
    exit
}

fn inspect(args: InspectArgs) -> u8 {
    let format = input_format(args.io.input_format, &args.io.input);
    let records = match input::read_path(&args.io.input, format, None) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_OTHER, e),
    };
    let carrier: Carrier = args.carrier.into();
    let mut exit = EXIT_OK;
    let mut docs = Vec::new();
    let (mut tagged, mut untagged, mut malformed, mut missing) = (0, 0, 0, 0);
    let mut text = String::new();
    for (i, r) in records.iter().enumerate() {
        let mut m = Map::new();
        m.insert("index".into(), json!(i));
        m.insert("carrier".into(), json!(carrier.as_str()));
        let line = match carrier.of(r.key.as_deref(), &r.value) {
            None => {
                missing += 1;
                m.insert("status".into(), json!("no-key"));
                format!("#{i} no key (nothing to inspect with --carrier key)")
            }
            Some(bytes) => match decode_tag(bytes) {
                TagState::Untagged => {
                    untagged += 1;
                    m.insert("status".into(), json!("untagged"));
                    m.insert("payload".into(), report::bytes_json(bytes));
                    format!("#{i} untagged {}", report::show_bytes(bytes))
                }
                TagState::Tagged { tag, payload } => {
                    tagged += 1;
                    m.insert("status".into(), json!("tagged"));
                    m.insert(
                        "tag".into(),
                        serde_json::to_value(&tag).unwrap_or(Value::Null),
                    );
                    m.insert("payload".into(), report::bytes_json(&payload));
                    format!("#{i} tagged {tag} payload={}", report::show_bytes(&payload))
                }
                TagState::Malformed { error } => {
                    malformed += 1;
                    exit = EXIT_REFUSED;
                    m.insert("status".into(), json!("malformed"));
                    m.insert("error".into(), json!(error));
                    format!("#{i} malformed tag: {error}")
                }
            },
        };
        text.push_str(&line);
        text.push('\n');
        docs.push(Value::Object(m));
    }
    text.push_str(&format!(
        "summary: {} records: {tagged} tagged, {untagged} untagged, {malformed} malformed{}\n",
        records.len(),
        if missing > 0 {
            format!(", {missing} without a key")
        } else {
            String::new()
        }
    ));
    match args.io.format {
        OutputFormat::Text => print!("{text}"),
        OutputFormat::Jsonl => {
            for d in &docs {
                println!("{d}");
            }
        }
        OutputFormat::Json => {
            let doc = json!({
                "records": docs,
                "summary": {
                    "records": records.len(),
                    "tagged": tagged,
                    "untagged": untagged,
                    "malformed": malformed,
                    "no_key": missing,
                },
                "exit_code": exit,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
            );
        }
    }
    exit
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_harness::{DEFAULT_MEMORY, DEFAULT_TIMEOUT};

    #[test]
    fn cli_defaults_are_the_library_defaults() {
        assert_eq!(parse_size("1GB"), Some(DEFAULT_MEMORY));
        assert_eq!(
            parse_duration(DEFAULT_TIMEOUT_TEXT).unwrap(),
            DEFAULT_TIMEOUT
        );
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("12xb"), None);
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
