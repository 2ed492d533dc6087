//! `harness simulate`: the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::report::Report;
use super::sim::Progress;
use super::topology::Topology;
use crate::chain_file::{default_modules_dir, ModuleResolver};
use crate::engine::Engine;

/// Every invariant holds.
pub const EXIT_OK: u8 = 0;
/// Usage errors, unwritable output files, an engine that cannot start.
pub const EXIT_OTHER: u8 = 1;
/// The topology file is bad: unreadable, invalid, a module not found, a chain refusing its
/// params at init.
pub const EXIT_TOPOLOGY: u8 = 3;
/// An invariant failed.
pub const EXIT_INVARIANT: u8 = 4;

const AFTER_HELP: &str = "\
The topology file (YAML) lists clusters (id, secret, topics, each topic's write path as a
transforms list: uses/with/lookback), links (from, to, topic, kind: bridge | native-mirror),
producers (cluster, topic, records, size, rate; forge: true writes forged tags;
local_writes_to_mirror: true writes to a mirror topic) and faults (link-down, restart,
reorder). Every write goes through the target topic's real chain. See host-harness/SIMULATE.md
and examples/topologies/.

Invariants checked at the end (each with counts and the first counter-examples):
  no-loop                  no stored record passed through a cluster twice; the run came to rest
  no-duplicate             no topic stored the same record (origin + record id) twice
  no-loss                  every record a producer stored reached every topic the links make
                           reachable within max_hops
  mirror-protection        local writes to mirror topics refused (reject mode, native mirrors),
                           dropped (drop) or flagged (audit); mirror writes accepted
  native-mirror-alignment  a native mirror's target stored what its source stored, in order
  forged-tags-refused      forged tags refused wherever the write path has a secret

Long runs of random topologies (2 to 8 clusters, cycles, diamonds, faults):
  harness simulate --random --seeds 0..10000
  harness simulate --random --seed 42 --print-topology > t.yaml   # reproduce one seed

The same seed gives the same run. A progress bar is drawn on stderr when it is a terminal.

Exit codes:
  0  every invariant holds
  4  an invariant failed (the output names it, with counter-examples)
  3  bad topology file: unreadable, invalid, module not found, params refused at init
  1  usage or other error (bad arguments, output file not writable)";

/// `harness simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct SimulateArgs {
    /// Topology file (YAML)
    #[arg(value_name = "TOPOLOGY", required_unless_present = "random")]
    pub topology: Option<PathBuf>,

    /// Seed of the run's random choices (jitter, sizes, reordering) [default: the file's
    /// `seed`, else 0]; with --random, the topology's seed too
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Simulate random topologies instead of a file
    #[arg(long, conflicts_with = "topology")]
    pub random: bool,

    /// With --random: the seeds to run, `A..B` (B excluded), `A..=B` or `N`
    #[arg(
        long,
        value_name = "A..B",
        requires = "random",
        conflicts_with = "seed"
    )]
    pub seeds: Option<String>,

    /// With --random and one seed: print the generated topology file and stop
    #[arg(long, requires = "random")]
    pub print_topology: bool,

    /// Write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write the topology with its flow counts as Graphviz DOT to FILE
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,

    /// Write the topology with its flow counts as SVG to FILE (drawn here, no Graphviz)
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Folder searched for modules named in the chains [default: this workspace's
    /// target/wasm32-unknown-unknown/wasm]
    #[arg(long, value_name = "DIR")]
    pub modules_dir: Option<PathBuf>,

    /// Print only the header and the verdicts, not the tables
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn fail(code: u8, message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    code
}

/// Parses `A..B`, `A..=B` or `N` into a half-open range.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("--seeds {text:?}: expected A..B, A..=B or N (e.g. 0..10000)");
    let num = |s: &str| s.trim().replace('_', "").parse::<u64>().map_err(|_| bad());
    let range = if let Some((a, b)) = text.split_once("..=") {
        num(a)?..num(b)?.checked_add(1).ok_or_else(bad)?
    } else if let Some((a, b)) = text.split_once("..") {
        num(a)?..num(b)?
    } else {
        let n = num(text)?;
        n..n + 1
    };
    if range.is_empty() {
        return Err(format!("--seeds {text:?} is empty"));
    }
    Ok(range)
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn progress_bar(len: u64, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} {{msg}}"
    ))
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    Some(bar)
}

/// Runs `harness simulate` and gives the exit code.
pub fn run(args: SimulateArgs) -> u8 {
    let resolver =
        ModuleResolver::new(args.modules_dir.clone().unwrap_or_else(default_modules_dir));
    let engine = match Engine::shared() {
        Ok(e) => e,
        Err(e) => return fail(EXIT_OTHER, e),
    };
    if args.random {
        let seeds = match (&args.seeds, args.seed) {
            (Some(text), _) => match parse_seeds(text) {
                Ok(r) => r,
                Err(e) => return fail(EXIT_OTHER, e),
            },
            (None, Some(s)) => s..s + 1,
            (None, None) => 0..1,
        };
        if seeds.end - seeds.start == 1 {
            let seed = seeds.start;
            if args.print_topology {
                print!("{}", super::random::topology(seed).to_yaml());
                return EXIT_OK;
            }
            let topology = match super::random_topology(seed, &resolver) {
                Ok(t) => t,
                Err(e) => return fail(EXIT_TOPOLOGY, module_hint(&e.message, &resolver)),
            };
            return one(&engine, &topology, seed, &args);
        }
        if args.print_topology || args.dot.is_some() || args.svg.is_some() {
            return fail(
                EXIT_OTHER,
                "--print-topology, --dot and --svg take one seed (--seed N)",
            );
        }
        return many(&engine, &resolver, seeds, &args);
    }
    let Some(path) = &args.topology else {
        return fail(EXIT_OTHER, "give a topology file, or --random");
    };
    let topology = match Topology::load(path, &resolver) {
        Ok(t) => t,
        Err(e) => return fail(EXIT_TOPOLOGY, module_hint(&e.message, &resolver)),
    };
    let seed = args.seed.unwrap_or(topology.seed);
    one(&engine, &topology, seed, &args)
}

/// Adds how to build the modules when one was not found.
fn module_hint(message: &str, resolver: &ModuleResolver) -> String {
    if message.contains("not found") && resolver.available().is_empty() {
        format!(
            "{message}\nthe policy modules are not built in {}; build them with \
             `cargo build-modules` (rustup target add wasm32-unknown-unknown first), or give \
             --modules-dir",
            resolver.modules_dir.display()
        )
    } else {
        message.to_string()
    }
}

fn one(engine: &Engine, topology: &Topology, seed: u64, args: &SimulateArgs) -> u8 {
    for w in &topology.warnings {
        eprintln!("warning: {w}");
    }
    let total: u64 = topology.producers.iter().map(|p| p.records).sum();
    let bar = progress_bar(total, "records produced");
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.produced);
            bar.set_message(format!("(t = {} ms)", p.now_ms));
        }
    };
    let report = match super::run(engine, topology, seed, &mut on_progress) {
        Ok(r) => r,
        Err(e) => {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            return fail(EXIT_TOPOLOGY, e);
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    print!("{}", report.text(topology, args.quiet));
    if let Err(e) = write_outputs(topology, &report, args) {
        return fail(EXIT_OTHER, e);
    }
    if report.passed {
        EXIT_OK
    } else {
        EXIT_INVARIANT
    }
}

fn write_outputs(topology: &Topology, report: &Report, args: &SimulateArgs) -> Result<(), String> {
    if let Some(p) = &args.report {
        write_file(p, &(report.json() + "\n"))?;
    }
    if let Some(p) = &args.dot {
        write_file(p, &super::picture::dot(topology, report))?;
    }
    if let Some(p) = &args.svg {
        write_file(p, &super::picture::svg(topology, report))?;
    }
    Ok(())
}

fn many(
    engine: &Engine,
    resolver: &ModuleResolver,
    seeds: std::ops::Range<u64>,
    args: &SimulateArgs,
) -> u8 {
    let started = Instant::now();
    let count = seeds.end - seeds.start;
    let bar = progress_bar(count, "seeds");
    let mut failures = Vec::new();
    let mut records = 0u64;
    let mut checked = 0u64;
    for seed in seeds.clone() {
        let outcome = super::random_topology(seed, resolver)
            .map_err(|e| module_hint(&e.message, resolver))
            .and_then(|t| super::run(engine, &t, seed, &mut |_| {}).map_err(|e| e.to_string()));
        match outcome {
            Ok(report) => {
                records += report.records_produced;
                checked += report.invariants.iter().map(|i| i.checked).sum::<u64>();
                if !report.passed {
                    let first = report
                        .invariants
                        .iter()
                        .find(|i| !i.holds())
                        .and_then(|i| i.examples.first().cloned())
                        .unwrap_or_default();
                    let line = format!(
                        "seed {seed}: FAIL ({}): {first}",
                        report.failed().join(", ")
                    );
                    match &bar {
                        Some(b) => b.println(&line),
                        None => println!("{line}"),
                    }
                    failures.push(json!({
                        "seed": seed,
                        "failed": report.failed(),
                        "invariants": report.invariants,
                    }));
                }
            }
            Err(e) => {
                if failures.is_empty() && e.contains("not found") {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    return fail(EXIT_TOPOLOGY, e);
                }
                let line = format!("seed {seed}: ERROR: {e}");
                match &bar {
                    Some(b) => b.println(&line),
                    None => println!("{line}"),
                }
                failures.push(json!({ "seed": seed, "error": e }));
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(format!("{} failed", failures.len()));
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let failed_seeds: Vec<u64> = failures.iter().filter_map(|f| f["seed"].as_u64()).collect();
    println!(
        "random topologies, seeds {}..{}: {} run(s), {} passed, {} failed; {records} records \
         produced, {checked} checks, {:.1} s",
        seeds.start,
        seeds.end,
        count,
        count - failed_seeds.len() as u64,
        failed_seeds.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(&first) = failed_seeds.first() {
        println!("reproduce: harness simulate --random --seed {first}");
    }
    if let Some(p) = &args.report {
        let doc = json!({
            "seeds": format!("{}..{}", seeds.start, seeds.end),
            "runs": count,
            "passed": count - failed_seeds.len() as u64,
            "failed": failures,
            "records_produced": records,
        });
        if let Err(e) = write_file(
            p,
            &(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"),
        ) {
            return fail(EXIT_OTHER, e);
        }
    }
    if failed_seeds.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVARIANT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse() {
        assert_eq!(parse_seeds("0..10").unwrap(), 0..10);
        assert_eq!(parse_seeds("3..=4").unwrap(), 3..5);
        assert_eq!(parse_seeds("7").unwrap(), 7..8);
        assert_eq!(parse_seeds("10_000..10_002").unwrap(), 10_000..10_002);
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("x").is_err());
    }
}
