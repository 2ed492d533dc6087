//! Profiles one module's transform under `perf`: a minimal wasmtime host that calls the
//! module the way the broker does (fuel metering on and topped up, input encoded with
//! fluvio-protocol, `alloc` + copy in, call, decode what `copy_records` points at), with
//! wasmtime's perf map on so that `perf report` names the module's functions. Build the
//! module unstripped to get those names:
//!
//! ```text
//! cargo build --profile wasm --target wasm32-unknown-unknown -p origin-tag \
//!     --config profile.wasm.strip=false --target-dir target/profile
//! cargo build --release -p bench --example profile
//! perf record -g target/release/examples/profile \
//!     target/profile/wasm32-unknown-unknown/wasm/origin_tag.wasm \
//!     --records 10000 --value 64 --seconds 5 cluster=bench
//! perf report --no-children --sort symbol
//! ```
//!
//! Options: `--records N` (10000), `--value BYTES` (64), `--tagged` (values tagged by the
//! upstream cluster), `--seconds S` (5), `--calls N` (stop after N calls: with
//! `perf stat -e instructions:u`, a count of instructions that does not depend on the clock);
//! `--fuel-profile STEP` (instead of timing: where one call's fuel goes, sampled every STEP
//! units by running the call again with that much fuel and reading where it ran out, so the
//! profile is exact and does not depend on the machine; functions are named from the
//! module's name section, `wasm-opt -g` keeps it);
//! then the module's params as `key=value`. An aggregate (origin-stats) starts from `{}` and
//! is handed back its accumulator each call.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::Cursor;
use std::time::{Duration, Instant};

use bench::inputs::{cell, Shape, Tagging, BASE_OFFSET, BASE_TIMESTAMP};
use bench::VERSION;
use fluvio_protocol::{Decoder, Encoder};
use fluvio_smartmodule::dataplane::smartmodule::{
    SmartModuleAggregateInput, SmartModuleAggregateOutput, SmartModuleExtraParams,
    SmartModuleInitInput, SmartModuleInput, SmartModuleOutput,
};
use wasmtime::{Caller, Config, Engine, Linker, Module, ProfilingStrategy, Store, TypedFunc};

type Abi = TypedFunc<(i32, i32, u32), i32>;
/// The transform export, and whether it is `aggregate`.
type Transform = (Abi, bool);

struct Host {
    store: Store<Option<(i32, i32)>>,
    memory: wasmtime::Memory,
    alloc: TypedFunc<i32, i32>,
    /// Fuel for the next call of the function alone (`alloc` and the copy-in excluded);
    /// after a call, the fuel it started with.
    budget: Option<u64>,
}

impl Host {
    /// Encodes `input`, copies it in, calls `f`, and returns the status and the output bytes.
    fn call<E: Encoder>(&mut self, f: &Abi, input: &E) -> wasmtime::Result<(i32, Vec<u8>)> {
        let mut bytes = Vec::new();
        input.encode(&mut bytes, VERSION)?;
        self.store.set_fuel(i64::MAX as u64 / 2)?;
        *self.store.data_mut() = None;
        let ptr = self.alloc.call(&mut self.store, bytes.len() as i32)?;
        self.memory.write(&mut self.store, ptr as usize, &bytes)?;
        if let Some(fuel) = self.budget {
            self.store.set_fuel(fuel)?;
        }
        self.budget = Some(self.store.get_fuel()?);
        let status = f.call(&mut self.store, (ptr, bytes.len() as i32, VERSION as u32))?;
        let mut out = Vec::new();
        if let Some((p, l)) = *self.store.data() {
            out = vec![0; l as usize];
            self.memory.read(&self.store, p as usize, &mut out)?;
        }
        Ok((status, out))
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: profile MODULE.wasm [options] [key=value...]")?;
    let (mut records, mut value, mut tagged, mut seconds) = (10_000usize, 64usize, false, 5.0f64);
    let mut max_calls = u64::MAX;
    let mut fuel_step: Option<u64> = None;
    let mut params = BTreeMap::new();
    while let Some(a) = args.next() {
        let mut next = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--records" => records = next()?.parse()?,
            "--value" => value = next()?.parse()?,
            "--seconds" => seconds = next()?.parse()?,
            "--calls" => max_calls = next()?.parse()?,
            "--fuel-profile" => fuel_step = Some(next()?.parse()?),
            "--tagged" => tagged = true,
            kv => {
                let (k, v) = kv.split_once('=').ok_or(format!("not key=value: {kv}"))?;
                params.insert(k.to_string(), v.to_string());
            }
        }
    }

    let mut config = Config::new();
    config.consume_fuel(true);
    config.profiler(ProfilingStrategy::PerfMap);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, &path)?;
    let batch = cell(Shape {
        records,
        value,
        tagging: if tagged {
            Tagging::Tagged
        } else {
            Tagging::Untagged
        },
    });
    if let Some(step) = fuel_step {
        return fuel_profile(&engine, &module, &params, &batch, step.max(1));
    }
    let (mut host, transform) = instantiate(&engine, &module, &params)?;
    let mut accumulator = b"{}".to_vec();

    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut calls = 0u64;
    while calls == 0 || (Instant::now() < deadline && calls < max_calls) {
        let output = call_once(&mut host, &transform, &batch, &mut accumulator)?;
        if let Some(e) = output.error {
            return Err(format!("the module refused the batch: {}", e.hint).into());
        }
        let expected = if transform.1 { records.min(1) } else { records };
        if output.successes.len() != expected {
            return Err(
                format!("{} records came back of {expected}", output.successes.len()).into(),
            );
        }
        calls += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{calls} calls of {records} x {value} B in {secs:.2} s: {:.0} records/s",
        (calls as f64 * records as f64) / secs
    );
    Ok(())
}

/// The module instantiated and initialised with `params`; its transform export.
fn instantiate(
    engine: &Engine,
    module: &Module,
    params: &BTreeMap<String, String>,
) -> Result<(Host, Transform), Box<dyn Error>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(
        "env",
        "copy_records",
        |mut caller: Caller<'_, Option<(i32, i32)>>, ptr: i32, len: i32| {
            *caller.data_mut() = Some((ptr, len));
        },
    )?;
    let mut store = Store::new(engine, None);
    store.set_fuel(i64::MAX as u64 / 2)?;
    let instance = linker.instantiate(&mut store, module)?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("no memory export")?;
    let alloc = instance.get_typed_func::<i32, i32>(&mut store, "alloc")?;
    let transform = ["filter", "map", "filter_map", "array_map", "aggregate"]
        .iter()
        .find_map(|name| {
            instance
                .get_typed_func::<(i32, i32, u32), i32>(&mut store, name)
                .ok()
                .map(|f| (f, *name == "aggregate"))
        })
        .ok_or("no transform export")?;
    let init = instance
        .get_typed_func::<(i32, i32, u32), i32>(&mut store, "init")
        .ok();
    let mut host = Host {
        store,
        memory,
        alloc,
        budget: None,
    };
    if let Some(init) = init {
        let input = SmartModuleInitInput {
            params: SmartModuleExtraParams::new(params.clone(), None),
        };
        let (status, _) = host.call(&init, &input)?;
        if status < 0 {
            return Err(format!("init failed with status {status}").into());
        }
    }
    Ok((host, transform))
}

/// One call on `batch`, as the broker makes it; an aggregate's accumulator is handed in and
/// kept.
fn call_once(
    host: &mut Host,
    transform: &Transform,
    batch: &bench::inputs::Cell,
    accumulator: &mut Vec<u8>,
) -> Result<SmartModuleOutput, Box<dyn Error>> {
    let base = input(batch)?;
    if transform.1 {
        let input = SmartModuleAggregateInput {
            base,
            accumulator: accumulator.clone(),
        };
        let (status, out) = host.call(&transform.0, &input)?;
        if status < 0 {
            return Err(format!("aggregate failed with status {status}").into());
        }
        let mut output = SmartModuleAggregateOutput::default();
        output.decode(&mut Cursor::new(out), VERSION)?;
        *accumulator = output.accumulator;
        Ok(output.base)
    } else {
        let (status, out) = host.call(&transform.0, &base)?;
        if status < 0 {
            return Err(format!("transform failed with status {status}").into());
        }
        let mut output = SmartModuleOutput::default();
        output.decode(&mut Cursor::new(out), VERSION)?;
        Ok(output)
    }
}

/// The batch as the broker hands it.
fn input(batch: &bench::inputs::Cell) -> Result<SmartModuleInput, Box<dyn Error>> {
    let mut input = SmartModuleInput::try_from_records(batch.records.clone(), VERSION)?;
    input.set_base_offset(BASE_OFFSET);
    input.set_base_timestamp(BASE_TIMESTAMP);
    Ok(input)
}

/// Where one transform call's fuel goes: the call is made again on a fresh instance with
/// `step`, `2 * step`, ... units of fuel, and the function it runs out in is counted.
fn fuel_profile(
    engine: &Engine,
    module: &Module,
    params: &BTreeMap<String, String>,
    batch: &bench::inputs::Cell,
    step: u64,
) -> Result<(), Box<dyn Error>> {
    let (mut host, transform) = instantiate(engine, module, params)?;
    call_once(&mut host, &transform, batch, &mut b"{}".to_vec())?;
    let total = host
        .budget
        .map_or(0, |start| start - host.store.get_fuel().unwrap_or(0));
    let mut own: BTreeMap<String, u64> = BTreeMap::new();
    let mut within: BTreeMap<String, u64> = BTreeMap::new();
    let mut samples = 0u64;
    let mut fuel = step;
    while fuel < total {
        let (mut host, transform) = instantiate(engine, module, params)?;
        host.budget = Some(fuel);
        let run = match transform.1 {
            true => host.call(
                &transform.0,
                &SmartModuleAggregateInput {
                    base: input(batch)?,
                    accumulator: b"{}".to_vec(),
                },
            ),
            false => host.call(&transform.0, &input(batch)?),
        };
        match run {
            Ok(_) => {}
            Err(e) => {
                let trace = e
                    .downcast_ref::<wasmtime::WasmBacktrace>()
                    .ok_or_else(|| format!("no backtrace in {e}"))?;
                let names: Vec<String> = trace
                    .frames()
                    .iter()
                    .map(|f| f.func_name().unwrap_or("?").to_string())
                    .collect();
                if let Some(top) = names.first() {
                    *own.entry(top.clone()).or_default() += 1;
                }
                let mut seen = std::collections::BTreeSet::new();
                for name in names {
                    if seen.insert(name.clone()) {
                        *within.entry(name).or_default() += 1;
                    }
                }
                samples += 1;
            }
        }
        fuel += step;
    }
    let per_record = total as f64 / batch.records.len().max(1) as f64;
    println!(
        "one call of {} records: {total} fuel ({per_record:.0} a record), {samples} samples \
         every {step}",
        batch.records.len()
    );
    let mut rows: Vec<(u64, String)> = own.into_iter().map(|(k, v)| (v, k)).collect();
    rows.sort_by(|a, b| b.cmp(a));
    println!(
        "{:>7} {:>10} {:>10}  function",
        "self %", "self/rec", "incl/rec"
    );
    for (n, name) in rows.iter().take(40) {
        let share = *n as f64 / samples.max(1) as f64;
        let incl = within.get(name).copied().unwrap_or(0) as f64 / samples.max(1) as f64;
        println!(
            "{:>6.1}% {:>10.0} {:>10.0}  {}",
            share * 100.0,
            share * per_record,
            incl * per_record,
            name
        );
    }
    Ok(())
}
