//! `cargo run --release -p bench -- [--quick] [--reps N] [--only M,..] [--records N,..]
//! [--values BYTES,..] [--svg FILE] [--markdown FILE]`
//!
//! Measures the policy modules, the baselines and the floors in the official engine and the
//! harness, prints the report (markdown) on stdout and progress on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use bench::{chart, report, Config};

const USAGE: &str = "\
usage: bench [--quick] [--reps N] [--only M,..] [--records N,..] [--values BYTES,..]
             [--svg FILE] [--markdown FILE]

Benchmarks the policy SmartModules against the official SDK's hello-world filter
(sdk-hello), a pass-through filter (the engine's floor) and the append floors (the
floor of a module that grows the records by as many bytes), in fluvio-smartengine and
in the harness: cold start, throughput, module size, envelope overhead. Prints a
markdown report on stdout.

  --quick          a tiny configuration that runs in seconds
  --reps N         repetitions per figure (median reported)
  --only M,..      only these modules (names as in the tables, e.g. 'origin-tag+secret')
                   besides the baselines and floors, which always run
  --records N,..   records per batch (default 1,100,10000)
  --values B,..    bytes per record value (default 64,1024,16384)
  --svg FILE       also write a chart of throughput against batch size (SVG)
  --markdown FILE  also write the report to FILE
";

struct Args {
    quick: bool,
    reps: Option<usize>,
    only: Vec<String>,
    records: Option<Vec<usize>>,
    values: Option<Vec<usize>>,
    svg: Option<PathBuf>,
    markdown: Option<PathBuf>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        reps: None,
        only: Vec::new(),
        records: None,
        values: None,
        svg: None,
        markdown: None,
    };
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--quick" => args.quick = true,
            "--svg" => args.svg = Some(value("--svg")?.into()),
            "--markdown" => args.markdown = Some(value("--markdown")?.into()),
            "--reps" => {
                let v = value("--reps")?;
                args.reps = Some(
                    v.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("--reps wants a positive number, not {v:?}"))?,
                );
            }
            "--only" => {
                args.only = value("--only")?
                    .split(',')
                    .map(|m| m.trim().to_string())
                    .collect();
                if let Some(unknown) = args.only.iter().find(|m| {
                    !bench::subject_specs(true)
                        .iter()
                        .any(|s| s.name == m.as_str())
                }) {
                    let names: Vec<_> = bench::subject_specs(true).iter().map(|s| s.name).collect();
                    return Err(format!(
                        "--only: no module {unknown:?}; the modules are {}",
                        names.join(", ")
                    ));
                }
            }
            "--records" => args.records = Some(numbers("--records", &value("--records")?)?),
            "--values" => args.values = Some(numbers("--values", &value("--values")?)?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// A comma-separated list of positive numbers.
fn numbers(flag: &str, text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|n| {
            n.trim()
                .parse()
                .ok()
                .filter(|n: &usize| *n > 0)
                .ok_or_else(|| {
                    format!("{flag} wants positive numbers, comma-separated, not {text:?}")
                })
        })
        .collect()
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut config = if args.quick {
        Config::quick()
    } else {
        Config::full()
    };
    if let Some(reps) = args.reps {
        config.reps = reps;
    }
    config.only = args.only;
    if let Some(records) = args.records {
        config.batch_sizes = records;
    }
    if let Some(values) = args.values {
        config.value_sizes = values;
    }
    if cfg!(debug_assertions) && !args.quick {
        eprintln!(
            "bench: warning: a debug build; run `cargo run --release -p bench` for real figures"
        );
    }
    let results = match bench::run(&config, &mut |line| eprintln!("bench: {line}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = report::markdown(&results);
    print!("{text}");
    if let Some(path) = &args.markdown {
        if let Err(e) = std::fs::write(path, &text) {
            eprintln!("bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("bench: wrote {}", path.display());
    }
    if let Some(path) = &args.svg {
        let written = chart::svg(&results)
            .and_then(|svg| std::fs::write(path, svg).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("bench: wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
