//! `harness test`, first step: the limits, the records, the modules and the chain, with the
//! look-back records fed. Everything that can stop the command before a batch runs.

use host_harness::chain_file::{module_name, parse_duration};
use host_harness::input::{self, InputRecord};
use host_harness::{
    Chain, ChainFile, ChainOptions, Engine, Limits, Lookback, ModuleResolver, ModuleSpec,
};

use super::test::TestArgs;
use super::{modules_dir, CommandError, InputFormatArg};

/// A chain ready to run, and what it runs on.
pub struct Loaded {
    pub chain: Chain,
    pub specs: Vec<ModuleSpec>,
    pub inputs: Vec<InputRecord>,
    /// The time of the run (ms): timestamps of records that have none.
    pub now: i64,
}

pub fn load(args: &TestArgs) -> Result<Loaded, CommandError> {
    let limits = limits(args)?;
    let format = InputFormatArg::or_guess(args.io.input_format, &args.io.input);
    let inputs = input::read_path(
        &args.io.input,
        format,
        args.key.as_deref().map(str::as_bytes),
    )?;
    let lookback_inputs = match &args.lookback {
        Some(path) => Some(input::read_path(
            path,
            InputFormatArg::or_guess(args.io.input_format, path),
            None,
        )?),
        None => None,
    };
    let resolver = ModuleResolver::new(modules_dir(args.modules_dir.clone()));
    let specs = module_specs(
        args,
        &resolver,
        lookback_inputs.as_ref().map(|r| r.len() as u64),
    )?;
    let engine = Engine::shared().map_err(CommandError::Setup)?;
    let options = ChainOptions {
        version: args.version,
        limits,
    };
    let mut chain = Chain::new(&engine, &specs, &options).map_err(CommandError::Load)?;
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
        let fed = chain.look_back(&records, now).map_err(CommandError::Load)?;
        if fed.is_empty() {
            eprintln!(
                "warning: --lookback given but no module has both a lookback window and a \
                 look_back function; nothing was fed"
            );
        }
    }
    Ok(Loaded {
        chain,
        specs,
        inputs,
        now,
    })
}

/// The limits the flags set.
pub fn limits(args: &TestArgs) -> Result<Limits, CommandError> {
    let none = |s: &str| s.eq_ignore_ascii_case("none");
    let usage = CommandError::Usage;
    let fuel = if none(&args.fuel) {
        None
    } else {
        Some(args.fuel.replace('_', "").parse::<u64>().map_err(|_| {
            usage(format!(
                "--fuel {:?}: expected a number or `none`",
                args.fuel
            ))
        })?)
    };
    let timeout = if none(&args.timeout) {
        None
    } else {
        Some(parse_duration(&args.timeout).map_err(|e| {
            usage(format!(
                "--timeout {:?}: {e} (use e.g. 500ms, 10s or `none`)",
                args.timeout
            ))
        })?)
    };
    let memory = if none(&args.memory) {
        None
    } else {
        Some(parse_size(&args.memory).ok_or_else(|| {
            usage(format!(
                "--memory {:?}: expected bytes, e.g. 1000000, 64MiB, 1GB or `none`",
                args.memory
            ))
        })?)
    };
    let table_elements = if none(&args.table_elements) {
        None
    } else {
        Some(
            args.table_elements
                .replace('_', "")
                .parse::<usize>()
                .map_err(|_| {
                    usage(format!(
                        "--table-elements {:?}: expected a number or `none`",
                        args.table_elements
                    ))
                })?,
        )
    };
    Ok(Limits {
        fuel,
        timeout,
        memory,
        table_elements,
        memories: args.memories,
        tables: args.tables,
        ..Limits::default()
    })
}

/// Bytes, with an optional unit: `1000000`, `64MiB`, `1GB`.
pub fn parse_size(text: &str) -> Option<usize> {
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

/// The modules to run: the chain file's, or --module with its params and window.
/// `lookback_count`: number of --lookback records, the default window of --module.
fn module_specs(
    args: &TestArgs,
    resolver: &ModuleResolver,
    lookback_count: Option<u64>,
) -> Result<Vec<ModuleSpec>, CommandError> {
    if let Some(path) = &args.chain {
        let file = ChainFile::load(path)?;
        for w in &file.warnings {
            eprintln!("warning: {w}");
        }
        let mut specs = file.resolve(resolver)?;
        if let Some(acc) = &args.aggregate_initial {
            for s in &mut specs {
                s.initial_accumulator = acc.clone().into_bytes();
            }
        }
        return Ok(specs);
    }
    let uses = args.module.as_deref().unwrap_or_default();
    let path = resolver.resolve(uses)?;
    let mut spec = ModuleSpec::from_file(&path)?;
    let name = module_name(uses);
    spec.name = name
        .strip_suffix(".wasm")
        .or_else(|| name.strip_suffix(".wat"))
        .unwrap_or(name)
        .to_string();
    if spec.name.contains(std::path::MAIN_SEPARATOR) || spec.name.is_empty() {
        spec.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    for p in &args.params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(CommandError::ModuleSetting(format!(
                "-e {p:?}: expected KEY=VALUE"
            )));
        };
        spec.params.insert(k.to_string(), v.to_string());
    }
    if let Some(acc) = &args.aggregate_initial {
        spec.initial_accumulator = acc.clone().into_bytes();
    }
    let age = match &args.lookback_age {
        Some(text) => Some(parse_duration(text).map_err(|e| {
            CommandError::ModuleSetting(format!(
                "--lookback-age {text:?}: {e} (use e.g. 30s, 15m, 1h)"
            ))
        })?),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::test::{
        DEFAULT_MEMORY_TEXT, DEFAULT_TABLE_ELEMENTS_TEXT, DEFAULT_TIMEOUT_TEXT,
    };
    use host_harness::{DEFAULT_MEMORY, DEFAULT_TABLE_ELEMENTS, DEFAULT_TIMEOUT};

    #[test]
    fn cli_defaults_are_the_library_defaults() {
        assert_eq!(parse_size(DEFAULT_MEMORY_TEXT), Some(DEFAULT_MEMORY));
        assert_eq!(
            parse_duration(DEFAULT_TIMEOUT_TEXT).unwrap(),
            DEFAULT_TIMEOUT
        );
        assert_eq!(
            DEFAULT_TABLE_ELEMENTS_TEXT.parse::<usize>().unwrap(),
            DEFAULT_TABLE_ELEMENTS
        );
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("12xb"), None);
    }
}
