//! `harness simulate`'s runs: one topology, or many random seeds, printed as the command
//! prints them, with the report and the pictures written where asked. The flags are the
//! binary's (`src/cli/simulate.rs`); failures come back typed, and the binary picks the exit
//! code by variant.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::report::Report;
use super::sim::{Progress, SimError};
use super::topology::{Topology, TopologyError};
use crate::chain_file::ModuleResolver;
use crate::engine::Engine;

/// Where a run writes its report and pictures, and how much it prints.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The report as JSON.
    pub report: Option<PathBuf>,
    /// The topology with its flow counts as Graphviz DOT.
    pub dot: Option<PathBuf>,
    /// The same picture as SVG.
    pub svg: Option<PathBuf>,
    /// Only the header and the verdicts, not the tables.
    pub quiet: bool,
}

/// Why a simulation gives no verdict.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The topology cannot be simulated.
    #[error(transparent)]
    Topology(TopologyError),

    /// A step names a module that is not there, and no module is built at all.
    #[error(
        "{source}\nthe policy modules are not built in {}; build them with `cargo build-modules` \
         (rustup target add wasm32-unknown-unknown first), or give --modules-dir",
        modules_dir.display()
    )]
    NotBuilt {
        #[source]
        source: Box<TopologyError>,
        modules_dir: PathBuf,
    },

    /// A write path cannot be built: a module does not load, or refuses its params at init.
    #[error(transparent)]
    Simulation(#[from] SimError),

    /// The report or a picture cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SimulateError {
    /// A topology error, saying how to build the modules when a missing one is missing
    /// because none is built.
    fn topology(error: TopologyError, resolver: &ModuleResolver) -> Self {
        if error.is_module_not_found() && resolver.available().is_empty() {
            SimulateError::NotBuilt {
                source: Box::new(error),
                modules_dir: resolver.modules_dir.clone(),
            }
        } else {
            SimulateError::Topology(error)
        }
    }

    /// Whether a step names a module that is not there: every other seed would fail alike.
    pub fn is_module_not_found(&self) -> bool {
        match self {
            SimulateError::Topology(e) => e.is_module_not_found(),
            SimulateError::NotBuilt { .. } => true,
            SimulateError::Simulation(_) | SimulateError::Write { .. } => false,
        }
    }
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

fn write_file(path: &Path, text: &str) -> Result<(), SimulateError> {
    std::fs::write(path, text).map_err(|source| SimulateError::Write {
        path: path.to_path_buf(),
        source,
    })
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

/// Reads and checks a topology file.
pub fn load(path: &Path, resolver: &ModuleResolver) -> Result<Topology, SimulateError> {
    Topology::load(path, resolver).map_err(|e| SimulateError::topology(e, resolver))
}

/// The random topology of `seed`, checked.
pub fn random(seed: u64, resolver: &ModuleResolver) -> Result<Topology, SimulateError> {
    super::random_topology(seed, resolver).map_err(|e| SimulateError::topology(e, resolver))
}

/// Simulates `topology` with `seed`, prints the report and writes the outputs; whether every
/// invariant holds.
pub fn one(
    engine: &Engine,
    topology: &Topology,
    seed: u64,
    outputs: &Outputs,
) -> Result<bool, SimulateError> {
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
    let report = super::run(engine, topology, seed, &mut on_progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report?;
    print!("{}", report.text(topology, outputs.quiet));
    write_outputs(topology, &report, outputs)?;
    Ok(report.passed)
}

fn write_outputs(
    topology: &Topology,
    report: &Report,
    outputs: &Outputs,
) -> Result<(), SimulateError> {
    if let Some(p) = &outputs.report {
        write_file(p, &(report.json() + "\n"))?;
    }
    if let Some(p) = &outputs.dot {
        write_file(p, &super::picture::dot(topology, report))?;
    }
    if let Some(p) = &outputs.svg {
        write_file(p, &super::picture::svg(topology, report))?;
    }
    Ok(())
}

/// Simulates the random topology of every seed, prints a line per failing seed and a
/// summary, and writes the report; whether every seed passed. A module that is missing from
/// the first seed on ends the run with that error.
pub fn many(
    engine: &Engine,
    resolver: &ModuleResolver,
    seeds: std::ops::Range<u64>,
    outputs: &Outputs,
) -> Result<bool, SimulateError> {
    let started = Instant::now();
    let count = seeds.end - seeds.start;
    let bar = progress_bar(count, "seeds");
    let mut failures = Vec::new();
    let mut records = 0u64;
    let mut checked = 0u64;
    for seed in seeds.clone() {
        let outcome =
            random(seed, resolver).and_then(|t| Ok(super::run(engine, &t, seed, &mut |_| {})?));
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
                if failures.is_empty() && e.is_module_not_found() {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    return Err(e);
                }
                let line = format!("seed {seed}: ERROR: {e}");
                match &bar {
                    Some(b) => b.println(&line),
                    None => println!("{line}"),
                }
                failures.push(json!({ "seed": seed, "error": e.to_string() }));
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
    if let Some(p) = &outputs.report {
        let doc = json!({
            "seeds": format!("{}..{}", seeds.start, seeds.end),
            "runs": count,
            "passed": count - failed_seeds.len() as u64,
            "failed": failures,
            "records_produced": records,
        });
        write_file(
            p,
            &(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"),
        )?;
    }
    Ok(failed_seeds.is_empty())
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
