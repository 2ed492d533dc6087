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
//! upstream cluster), `--seconds S` (5); then the module's params as `key=value`. An
//! aggregate (origin-stats) starts from `{}` and is handed back its accumulator each call.

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

struct Host {
    store: Store<Option<(i32, i32)>>,
    memory: wasmtime::Memory,
    alloc: TypedFunc<i32, i32>,
}

impl Host {
    /// Encodes `input`, copies it in, calls `f`, and returns the status and the output bytes.
    fn call<E: Encoder>(&mut self, f: &Abi, input: &E) -> Result<(i32, Vec<u8>), Box<dyn Error>> {
        let mut bytes = Vec::new();
        input.encode(&mut bytes, VERSION)?;
        self.store.set_fuel(i64::MAX as u64 / 2)?;
        *self.store.data_mut() = None;
        let ptr = self.alloc.call(&mut self.store, bytes.len() as i32)?;
        self.memory.write(&mut self.store, ptr as usize, &bytes)?;
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
    let mut params = BTreeMap::new();
    while let Some(a) = args.next() {
        let mut next = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--records" => records = next()?.parse()?,
            "--value" => value = next()?.parse()?,
            "--seconds" => seconds = next()?.parse()?,
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
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "env",
        "copy_records",
        |mut caller: Caller<'_, Option<(i32, i32)>>, ptr: i32, len: i32| {
            *caller.data_mut() = Some((ptr, len));
        },
    )?;
    let mut store = Store::new(&engine, None);
    store.set_fuel(i64::MAX as u64 / 2)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("no memory export")?;
    let alloc = instance.get_typed_func::<i32, i32>(&mut store, "alloc")?;
    let (transform, aggregate) = ["filter", "map", "filter_map", "array_map", "aggregate"]
        .iter()
        .find_map(|name| {
            instance
                .get_typed_func::<(i32, i32, u32), i32>(&mut store, name)
                .ok()
                .map(|f| (f, *name == "aggregate"))
        })
        .ok_or("no transform export")?;
    // An aggregate starts afresh and is handed back its accumulator, as the broker does.
    let mut accumulator = b"{}".to_vec();
    let init = instance
        .get_typed_func::<(i32, i32, u32), i32>(&mut store, "init")
        .ok();
    let mut host = Host {
        store,
        memory,
        alloc,
    };
    if let Some(init) = init {
        let input = SmartModuleInitInput {
            params: SmartModuleExtraParams::new(params, None),
        };
        let (status, _) = host.call(&init, &input)?;
        if status < 0 {
            return Err(format!("init failed with status {status}").into());
        }
    }

    let batch = cell(Shape {
        records,
        value,
        tagging: if tagged {
            Tagging::Tagged
        } else {
            Tagging::Untagged
        },
    });
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut calls = 0u64;
    while calls == 0 || Instant::now() < deadline {
        let mut input = SmartModuleInput::try_from_records(batch.records.clone(), VERSION)?;
        input.set_base_offset(BASE_OFFSET);
        input.set_base_timestamp(BASE_TIMESTAMP);
        let (status, out) = if aggregate {
            let input = SmartModuleAggregateInput {
                base: input,
                accumulator: accumulator.clone(),
            };
            host.call(&transform, &input)?
        } else {
            host.call(&transform, &input)?
        };
        if status < 0 {
            return Err(format!("transform failed with status {status}").into());
        }
        let output = if aggregate {
            let mut output = SmartModuleAggregateOutput::default();
            output.decode(&mut Cursor::new(out), VERSION)?;
            accumulator = output.accumulator;
            output.base
        } else {
            let mut output = SmartModuleOutput::default();
            output.decode(&mut Cursor::new(out), VERSION)?;
            output
        };
        if let Some(e) = output.error {
            return Err(format!("the module refused the batch: {}", e.hint).into());
        }
        let expected = if aggregate { records.min(1) } else { records };
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
