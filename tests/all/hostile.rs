//! The hostile corpus (`tests/fixtures/hostile/*.wat`) in the official engine and in the
//! harness, side by side, and the harness admitting every module the broker runs.
//!
//! Some cases never return in the official engine (it tops fuel up to `i64::MAX / 2` and has
//! no deadline) and some crash it, so each case runs there in a child process: this test
//! binary again, told the case by an environment variable, watched by the parent, which kills
//! it once it has spun or slept too long, or grown past [`OFFICIAL_RSS_CAP`] of resident
//! memory, and records what it saw. The observed table is host-harness/README.md's;
//! `BLESS=1` rewrites it there.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fluvio_protocol::record::Record;
use fluvio_smartengine::{Lookback, SmartEngine, SmartModuleChainBuilder, SmartModuleConfig};
use fluvio_smartmodule::dataplane::smartmodule::SmartModuleInput;
use host_harness::{
    Batch, Chain, ChainFailure, ChainOptions, Engine, EngineError, Limits, ModuleSpec, Outcome,
};

use crate::conformance::{batches, modules};

/// Set in a child process: the case it runs in the official engine.
const CASE_ENV: &str = "HOSTILE_OFFICIAL_CASE";
/// The lines a child prints its outcome and its peak resident memory on.
const OUTCOME_MARK: &str = "official-outcome: ";
const PEAK_MARK: &str = "official-peak-resident-bytes: ";
/// A peak the table mentions: far above what the engine itself needs (about 150 MB at most
/// for the cases that do not make it hold memory), far below a case that does.
const BIG_PEAK: u64 = 500_000_000;
/// When a case in the official engine is recorded as not returning: after this much CPU time
/// (a spinning case; counted in CPU time, so a busy machine does not stop a slow case early),
/// or once it has used no CPU for [`OFFICIAL_IDLE`] (a sleeping or waiting case), or, as a
/// last resort, after [`OFFICIAL_WALL_DEADLINE`].
const OFFICIAL_CPU_DEADLINE: Duration = Duration::from_secs(2);
const OFFICIAL_IDLE: Duration = Duration::from_secs(2);
const OFFICIAL_WALL_DEADLINE: Duration = Duration::from_secs(60);
/// Clock ticks per second of /proc's CPU times (`USER_HZ`, 100 on Linux).
const USER_HZ: u64 = 100;
/// Resident memory past which a child is killed, so no case can exhaust the machine.
const OFFICIAL_RSS_CAP: u64 = 2 << 30;
/// The memory cap of both engines in the corpus run (the official engine's store limit).
const MEMORY_CAP: usize = 64 << 20;
/// Where the table goes in host-harness/README.md.
const TABLE_START: &str = "<!-- hostile-table:start (written by tests/all/hostile.rs: BLESS=1 cargo test -p integration --test all hostile) -->";
const TABLE_END: &str = "<!-- hostile-table:end -->";

/// The limits of the harness in the corpus run: small fuel so spinning cases end quickly, the
/// same memory cap as the official engine, the rest at their defaults.
fn corpus_limits() -> Limits {
    Limits {
        fuel: Some(100_000_000),
        timeout: Some(Duration::from_secs(5)),
        memory: Some(MEMORY_CAP),
        ..Limits::default()
    }
}

struct Case {
    name: String,
    /// The first comment line of the .wat: what the module does.
    what: String,
    wat: Vec<u8>,
}

fn corpus_dir() -> PathBuf {
    integration::workspace_root().join("tests/fixtures/hostile")
}

fn corpus() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the hostile corpus")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let wat = std::fs::read(&path).expect("read corpus case");
            let text = String::from_utf8_lossy(&wat);
            let mut what = String::new();
            for line in text.lines() {
                let Some(comment) = line.strip_prefix(";;") else {
                    break;
                };
                if !what.is_empty() {
                    what.push(' ');
                }
                what.push_str(comment.trim());
            }
            Case {
                name: path.file_stem().unwrap().to_string_lossy().into_owned(),
                what,
                wat,
            }
        })
        .collect()
}

/// How a case ended in the harness: records returned, or the phase and the error.
type HarnessOutcome = Result<usize, (&'static str, EngineError)>;

/// The phases of a case, in both engines: build the chain (instantiate, `init`), feed one
/// record to `look_back` (the window is the last record), call the transform on one record.
fn in_the_harness(engine: &Engine, case: &Case) -> HarnessOutcome {
    let spec =
        ModuleSpec::new(&case.name, case.wat.clone()).lookback(host_harness::Lookback::last(1));
    let options = ChainOptions {
        limits: corpus_limits(),
        ..ChainOptions::default()
    };
    let mut chain = Chain::new(engine, &[spec], &options).map_err(|e| ("load", e))?;
    chain
        .look_back(&[Record::new("history")], 0)
        .map_err(|e| ("look_back", e))?;
    match chain.process(&Batch::from_values(["record"])) {
        Ok(records) => Ok(records.len()),
        Err(ChainFailure::Failed(e)) => Err(("transform", e)),
        Err(ChainFailure::Refused(r)) => panic!("{}: refused a record: {r}", case.name),
    }
}

/// The variant of an error, for the table: `OutOfFuel` from `OutOfFuel { .. }`.
fn variant(e: &EngineError) -> String {
    format!("{e:?}")
        .split([' ', '(', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn official_drive(case: &Case) -> Result<String, String> {
    let engine = SmartEngine::new();
    let mut config = SmartModuleConfig::builder();
    config
        .smartmodule_names(vec![case.name.clone()])
        .version(22i16)
        .lookback(Some(Lookback::Last(1)));
    let mut builder = SmartModuleChainBuilder::default();
    builder.set_store_memory_limit(MEMORY_CAP);
    builder.add_smart_module(
        config.build().map_err(|e| format!("config: {e}"))?,
        case.wat.clone(),
    );
    let mut chain = builder
        .initialize(&engine)
        .map_err(|e| format!("error at initialize: {}", e.root_cause()))?;
    block_on(chain.look_back(|_| async { Ok(vec![Record::new("history")]) }))
        .map_err(|e| format!("error at look_back: {}", e.root_cause()))?;
    let mut raw = Vec::new();
    fluvio_protocol::Encoder::encode(&vec![Record::new("record")], &mut raw, 22)
        .map_err(|e| format!("encode: {e}"))?;
    let output = chain
        .process(SmartModuleInput::new(raw, 0, 0))
        .map_err(|e| format!("error at process: {}", e.root_cause()))?;
    Ok(format!("returned {} record(s)", output.successes.len()))
}

/// The child's side: run one case in the official engine and print what happened.
fn official_child(name: &str) {
    let case = corpus()
        .into_iter()
        .find(|c| c.name == name)
        .expect("the case named by the parent");
    let outcome = std::panic::catch_unwind(|| official_drive(&case));
    let text = match outcome {
        Ok(Ok(returned)) => returned,
        Ok(Err(error)) => error,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("panicked: {message}")
        }
    };
    // On a line of its own: libtest has already written `test NAME ... ` without a newline.
    println!("\n{OUTCOME_MARK}{}", text.replace('\n', " "));
    if let Some(peak) = peak_of("self") {
        println!("{PEAK_MARK}{peak}");
    }
}

/// How a case ended in the official engine.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Official {
    /// It returned, with output or with an error.
    Ended { text: String, failed: bool },
    /// It was still running at the deadline.
    Running,
    /// The process died (a signal), or grew past the RSS cap and was killed.
    Died(String),
}

fn signal_name(signal: i32) -> String {
    match signal {
        4 => "SIGILL".into(),
        6 => "SIGABRT".into(),
        7 => "SIGBUS".into(),
        9 => "SIGKILL".into(),
        11 => "SIGSEGV".into(),
        n => format!("signal {n}"),
    }
}

/// CPU time of a process, all threads, user and system.
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14,
    // stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// A field of /proc/PID/status, in bytes.
fn status_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn rss_of(pid: u32) -> Option<u64> {
    status_bytes(&pid.to_string(), "VmRSS:")
}

/// Peak resident memory of a process (`self` for this one).
fn peak_of(pid: &str) -> Option<u64> {
    status_bytes(pid, "VmHWM:")
}

/// The parent's side: run `case` in a child and watch it.
fn in_the_official_engine(case: &Case) -> Official {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([
            "hostile::the_hostile_corpus_in_the_official_engine_and_the_harness",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, &case.name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test binary as a child");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    // The CPU time last seen to grow, and when.
    let mut progress = (Duration::ZERO, Instant::now());
    let mut killed = None;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        let cpu = cpu_of(child.id()).unwrap_or_default();
        if cpu > progress.0 {
            progress = (cpu, Instant::now());
        }
        let idle = progress.1.elapsed() > OFFICIAL_IDLE;
        if cpu > OFFICIAL_CPU_DEADLINE || idle || started.elapsed() > OFFICIAL_WALL_DEADLINE {
            killed = Some(Official::Running);
        } else if rss_of(child.id()).is_some_and(|rss| rss > OFFICIAL_RSS_CAP) {
            killed = Some(Official::Died(format!(
                "grew past {} GiB resident (killed)",
                OFFICIAL_RSS_CAP >> 30
            )));
        }
        if killed.is_some() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = (stdout.join(), stderr.join());
            return killed.unwrap_or(Official::Running);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if let Some(line) = stdout
        .lines()
        .find_map(|l| l.split_once(OUTCOME_MARK).map(|(_, outcome)| outcome))
    {
        let peak: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix(PEAK_MARK))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_default();
        let mut text = line.to_string();
        // What a module made the host hold, when it is far more than the host's own needs.
        if peak > BIG_PEAK {
            text.push_str(&format!(
                ", the process peaking over {} MB resident",
                BIG_PEAK / 1_000_000
            ));
        }
        return Official::Ended {
            failed: !line.starts_with("returned"),
            text,
        };
    }
    use std::os::unix::process::ExitStatusExt;
    let mut died = match status.signal() {
        Some(signal) => format!("the process died of {}", signal_name(signal)),
        None => format!("the process exited with {status}"),
    };
    // Rust's allocator says why it aborted.
    if let Some(line) = stderr
        .lines()
        .find(|l| l.starts_with("memory allocation of"))
    {
        died.push_str(&format!(" ({line})"));
    }
    Official::Died(died)
}

fn render(rows: &[(Case, Official, HarnessOutcome)]) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "Each case runs to the end of its first call: chain built (start function, `init`), \
         one record to `look_back`, one record to the transform. Both engines have a \
         {} MiB memory cap (the official engine's store limit, per memory; the harness's, \
         over all memories and the decoded output); the harness runs with \
         `--fuel {}` and `--timeout {}s`, the official engine with its own fuel \
         (`i64::MAX / 2`) and no deadline, in a child process stopped after {} s on the CPU \
         or {} s without using any.\n\n",
        MEMORY_CAP >> 20,
        corpus_limits().fuel.unwrap_or_default(),
        corpus_limits().timeout.unwrap_or_default().as_secs(),
        OFFICIAL_CPU_DEADLINE.as_secs(),
        OFFICIAL_IDLE.as_secs(),
    ));
    t.push_str(
        "| case | the module | official engine (fluvio-smartengine 0.50.1) | harness | harness stricter |\n\
         |---|---|---|---|---|\n",
    );
    for (case, official, harness) in rows {
        let official_text = match official {
            Official::Ended { text, .. } => text.clone(),
            Official::Running => "did not return (stopped)".to_string(),
            Official::Died(how) => how.clone(),
        };
        let harness_text = match harness {
            Ok(n) => format!("returned {n} record(s)"),
            Err((phase, e)) => format!("`{}` at {phase}", variant(e)),
        };
        // Stricter: the harness stops what the official engine runs on (to the end, or still
        // running at the deadline); a crash is not something to be less strict than.
        let official_runs = matches!(
            official,
            Official::Ended { failed: false, .. } | Official::Running
        );
        let stricter = if official_runs && harness.is_err() {
            "yes"
        } else {
            "no"
        };
        t.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            case.name,
            case.what.replace('|', "\\|"),
            official_text.replace('|', "\\|"),
            harness_text,
            stricter
        ));
    }
    t
}

/// The table between the markers of host-harness/README.md.
fn readme_table(readme: &str) -> Option<&str> {
    let start = readme.find(TABLE_START)? + TABLE_START.len();
    let end = readme[start..].find(TABLE_END)? + start;
    Some(readme[start..end].trim_matches('\n'))
}

#[test]
fn the_hostile_corpus_in_the_official_engine_and_the_harness() {
    if let Ok(case) = std::env::var(CASE_ENV) {
        official_child(&case);
        return;
    }
    let engine = Engine::new().expect("engine");
    let mut rows = Vec::new();
    for case in corpus() {
        let official = in_the_official_engine(&case);
        let harness = in_the_harness(&engine, &case);
        // Every case ends with a typed error naming the module, never with records.
        match &harness {
            Ok(n) => panic!("{}: the harness returned {n} record(s)", case.name),
            Err((_, e)) => assert_eq!(e.module(), Some(case.name.as_str()), "{e:?}"),
        }
        rows.push((case, official, harness));
    }
    assert!(rows.len() >= 20, "the corpus has {} cases", rows.len());
    let table = render(&rows);
    let path = integration::workspace_root().join("host-harness/README.md");
    let readme = std::fs::read_to_string(&path).expect("host-harness/README.md");
    if integration::blessing() {
        let start = readme.find(TABLE_START).expect("the table's start marker") + TABLE_START.len();
        let end = readme[start..]
            .find(TABLE_END)
            .expect("the table's end marker")
            + start;
        let blessed = format!("{}\n{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, blessed).expect("write host-harness/README.md");
        return;
    }
    assert_eq!(
        readme_table(&readme),
        Some(table.trim_matches('\n')),
        "host-harness/README.md's hostile-corpus table is not what this run observed; \
         rerun with BLESS=1 to write it"
    );
}

/// At its default limits the harness runs every module of this repository (both builds) and
/// the official SDK's hello filter (both targets) on every conformance batch without a
/// failed call.
#[test]
fn every_module_the_broker_runs_is_admitted_at_default_limits() {
    let engine = Engine::new().expect("engine");
    // A label, the module and its params.
    type Admitted = (String, Vec<u8>, Vec<(&'static str, &'static str)>);
    let mut cases: Vec<Admitted> = Vec::new();
    for (label, wasm, params) in modules() {
        let crate_name = label.split([' ', '+']).next().unwrap_or(label);
        if integration::POLICY_MODULES.contains(&crate_name)
            && !params.iter().any(|(k, _)| *k == "secret")
        {
            cases.push((
                format!("{label} (lean)"),
                integration::lean_wasm(crate_name),
                params.clone(),
            ));
        }
        cases.push((label.to_string(), wasm, params));
    }
    cases.push((
        "misbehave".into(),
        integration::wasm("misbehave"),
        vec![("mode", "pass")],
    ));
    let names: Vec<&str> = cases.iter().map(|(n, ..)| n.as_str()).collect();
    for needed in [
        "sdk-hello",
        "sdk-hello wasip1",
        "mirror-policy (lean)",
        "origin-strip",
    ] {
        assert!(names.contains(&needed), "{needed} is not in {names:?}");
    }
    let batches = batches();
    for (label, wasm, params) in &cases {
        let mut spec = ModuleSpec::new(label.clone(), wasm.clone());
        for (k, v) in params {
            spec = spec.param(*k, *v);
        }
        let options = ChainOptions {
            limits: Limits::default(),
            ..ChainOptions::default()
        };
        let mut chain = Chain::new(&engine, &[spec], &options)
            .unwrap_or_else(|e| panic!("{label} is refused at default limits: {e}"));
        for (i, batch) in batches.iter().enumerate() {
            let run = chain.run(&Batch {
                base_offset: 500,
                base_timestamp: 1_700_000_000_000,
                records: batch.clone(),
            });
            assert!(
                !matches!(run.outcome, Outcome::Failed(_)),
                "{label} batch {i} failed at default limits: {:?}",
                run.outcome
            );
        }
    }
}

/// The look-back future is ready at once (or never, when the module spins); poll it without an
/// async runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
