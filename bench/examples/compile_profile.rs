//! Where a module's compile time goes: Cranelift's time for each function, as the official
//! engine configures wasmtime (default config, fuel metering on), one function at a time so
//! the figures add up. Build the module unstripped to get function names:
//!
//! ```text
//! cargo build --profile wasm --target wasm32-unknown-unknown -p mirror-policy \
//!     --config profile.wasm.strip=false --target-dir target/profile
//! cargo run --release -p bench --example compile_profile -- \
//!     target/profile/wasm32-unknown-unknown/wasm/mirror_policy.wasm --top 20
//! ```
//!
//! Options: `--reps N` (5; the median per function is printed), `--top N` (25).

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `FuncIndex(n) translated in 1.234ms`, as wasmtime-cranelift logs each function at debug.
static TIMES: Mutex<Vec<(u32, Duration)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target().starts_with("wasmtime_cranelift") && meta.level() <= log::Level::Debug
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        if let Some(found) = parse_line(&text) {
            TIMES.lock().unwrap_or_else(|e| e.into_inner()).push(found);
        }
    }

    fn flush(&self) {}
}

fn parse_line(text: &str) -> Option<(u32, Duration)> {
    let rest = text.strip_prefix("FuncIndex(")?;
    let (index, rest) = rest.split_once(')')?;
    let time = rest.trim().strip_prefix("translated in ")?;
    Some((index.parse().ok()?, parse_duration(time)?))
}

/// A `Duration`'s `Debug` text: `12ns`, `1.5µs`, `3.25ms`, `1.1s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let nanos = match unit {
        "ns" => number,
        "µs" | "us" => number * 1e3,
        "ms" => number * 1e6,
        "s" => number * 1e9,
        _ => return None,
    };
    Some(Duration::from_nanos(nanos as u64))
}

/// Names and body sizes of the module's defined functions, by function index.
fn functions(wasm: &[u8]) -> Result<BTreeMap<u32, (String, usize)>, Box<dyn Error>> {
    let mut imported = 0u32;
    let mut next = 0u32;
    let mut out: BTreeMap<u32, (String, usize)> = BTreeMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader {
                    if matches!(import?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
                next = imported;
            }
            wasmparser::Payload::CodeSectionEntry(body) => {
                out.insert(next, (String::new(), body.range().len()));
                next += 1;
            }
            wasmparser::Payload::CustomSection(section) if section.name() == "name" => {
                let reader = wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(
                    section.data(),
                    section.data_offset(),
                ));
                for name in reader {
                    if let wasmparser::Name::Function(map) = name? {
                        for naming in map {
                            let naming = naming?;
                            if let Some(entry) = out.get_mut(&naming.index) {
                                entry.0 = naming.name.to_string();
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Cranelift numbers defined functions from 0.
    Ok(out
        .into_iter()
        .map(|(index, entry)| (index - imported, entry))
        .collect())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut path = None;
    let mut reps = 5usize;
    let mut top = 25usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().ok_or("--reps needs a number")?.parse()?,
            "--top" => top = args.next().ok_or("--top needs a number")?.parse()?,
            _ => path = Some(arg),
        }
    }
    let path = path.ok_or("usage: compile_profile MODULE.wasm [--reps N] [--top N]")?;
    let wasm = std::fs::read(&path)?;
    let names = functions(&wasm)?;

    let mut config = wasmtime::Config::default();
    config.consume_fuel(true);
    let mut serial = config.clone();
    serial.parallel_compilation(false);
    let parallel_engine = wasmtime::Engine::new(&config)?;
    let serial_engine = wasmtime::Engine::new(&serial)?;

    // Totals first, with logging off: Cranelift does extra work when debug logs are on.
    let mut totals = (Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        let started = Instant::now();
        wasmtime::Module::new(&serial_engine, &wasm)?;
        totals.0.push(started.elapsed());
        let started = Instant::now();
        wasmtime::Module::new(&parallel_engine, &wasm)?;
        totals.1.push(started.elapsed());
    }

    log::set_logger(&Capture).map_err(|e| e.to_string())?;
    log::set_max_level(log::LevelFilter::Debug);
    let mut per_function: BTreeMap<u32, Vec<Duration>> = BTreeMap::new();
    for _ in 0..reps.max(1) {
        TIMES.lock().unwrap_or_else(|e| e.into_inner()).clear();
        wasmtime::Module::new(&serial_engine, &wasm)?;
        for (index, time) in TIMES.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            per_function.entry(index).or_default().push(time);
        }
    }
    log::set_max_level(log::LevelFilter::Off);

    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut rows: Vec<(Duration, u32)> = per_function
        .iter_mut()
        .map(|(index, times)| (median(times), *index))
        .collect();
    rows.sort_by(|a, b| b.cmp(a));
    let sum: Duration = rows.iter().map(|(t, _)| *t).sum();
    let code: usize = names.values().map(|(_, size)| size).sum();
    println!(
        "{path}: {} bytes, {} functions, {} bytes of code",
        wasm.len(),
        names.len(),
        code
    );
    println!(
        "Module::new, median of {}: {:?} one function at a time, {:?} in parallel (as the \
         broker); per function below, with debug logs on (slower, so compare shares): {:?}",
        reps.max(1),
        median(&mut totals.0),
        median(&mut totals.1),
        sum
    );
    println!("{:>10} {:>6} {:>7}  function", "time", "share", "bytes");
    for (time, index) in rows.iter().take(top) {
        let (name, size) = names
            .get(index)
            .cloned()
            .unwrap_or_else(|| (String::new(), 0));
        println!(
            "{:>10.1?} {:>5.1}% {:>7}  {}",
            time,
            time.as_secs_f64() * 100.0 / sum.as_secs_f64(),
            size,
            if name.is_empty() {
                format!("#{index}")
            } else {
                name
            }
        );
    }
    Ok(())
}
