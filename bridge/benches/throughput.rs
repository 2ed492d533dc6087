//! Records per second over a real two-cluster link: `origin-bridge --until-caught-up` copying
//! a topic from one local cluster to another, against `fluvio produce -f` of the same records
//! into the same target as the ceiling, for 64 B and 1 KB records, without a chain, with
//! mirror-policy as the bridge's chain (the target compiles it for every write), and with
//! mirror-policy at the target topic's hook. Measured, never asserted.
//!
//!   FLUVIO_BIN=/path/to/dir cargo bench -p origin-bridge --bench throughput [-- --quick]
//!
//! Each figure is the median of the runs (3, or 1 with `--quick`); every run writes into a
//! fresh target topic. Times are wall clock, start-up included (the bridge's connection and
//! checks, the CLI's connection), as a user would see them.

use std::process::Command;
use std::time::{Duration, Instant};

use broker_tests::{locate, Cluster, Located};

/// The chain the target runs, in each variant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    None,
    /// mirror-policy sent with every write (the bridge's chain; `--smartmodule` for the CLI).
    ProducerSide,
    /// mirror-policy at the target topic's hook.
    Hook,
}

impl Chain {
    fn label(self) -> &'static str {
        match self {
            Chain::None => "no chain",
            Chain::ProducerSide => "mirror-policy, producer-side chain",
            Chain::Hook => "mirror-policy at the topic hook",
        }
    }
}

const WINDOW: &str = "10000";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let bins = match locate() {
        Ok(Located::Found(bins)) => bins,
        Ok(Located::NotOnPath { missing }) => {
            eprintln!(
                "throughput: did not run: {} not found; set FLUVIO_BIN=/path/to/dir",
                missing.join(" and ")
            );
            return;
        }
        Err(e) => {
            eprintln!("throughput: cannot run: {e}");
            std::process::exit(1);
        }
    };
    integration::build_all();
    let load_before = load();
    let mut source = Cluster::start(&bins, "source").unwrap_or_else(|e| panic!("{e}"));
    let mut target = Cluster::start(&bins, "target").unwrap_or_else(|e| panic!("{e}"));
    target
        .register_module("mirror-policy", &integration::wasm_path("mirror-policy"))
        .unwrap_or_else(|e| panic!("{e}"));
    let runs = if quick { 1 } else { 3 };
    let started = Instant::now();

    let mut rows = Vec::new();
    let mut read_rates = Vec::new();
    for (size, count) in [(64usize, 200_000usize), (1024, 50_000)] {
        let count = if quick { count / 10 } else { count };
        let lines: Vec<String> = (0..count)
            .map(|i| {
                let mut v = format!("r{i:09}-");
                v.extend(std::iter::repeat_n('x', size - v.len()));
                v
            })
            .collect();
        let file = source
            .write_file(
                &format!("records-{size}.txt"),
                (lines.join("\n") + "\n").as_bytes(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        // The CLI with a chain and its default 16 KB batches builds the chain for every batch:
        // a few hundred records a second. It is timed on the first records only.
        let sample = count / 100;
        let sample_file = source
            .write_file(
                &format!("sample-{size}.txt"),
                (lines[..sample].join("\n") + "\n").as_bytes(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let topic = format!("source-{size}");
        source
            .create_topic(&topic)
            .unwrap_or_else(|e| panic!("{e}"));
        let out = source
            .fluvio_ok(&[
                "produce".as_ref(),
                topic.as_ref(),
                "-f".as_ref(),
                file.as_os_str(),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.success());
        // The read side alone: the CLI consuming the source topic (one fetch for all of it).
        let mut reads = Vec::new();
        for _ in 0..runs {
            let began = Instant::now();
            let out = source
                .fluvio_ok(&[
                    "consume",
                    &topic,
                    "-B",
                    "-d",
                    "-b",
                    "268435456",
                    "-O",
                    "raw",
                ])
                .unwrap_or_else(|e| panic!("{e}"));
            reads.push(began.elapsed());
            assert_eq!(out.stdout.len(), count * (size + 1), "{}", out.describe());
        }
        reads.sort();
        let read_rate = count as f64 / reads[reads.len() / 2].as_secs_f64();
        eprintln!("| {size} B x {count} | read ceiling: `fluvio consume` {read_rate:.0} rec/s |");
        read_rates.push(format!("{size} B: {read_rate:.0} rec/s"));

        for chain in [Chain::None, Chain::ProducerSide, Chain::Hook] {
            let mut cli_default = Vec::new();
            let mut cli_batched = Vec::new();
            let mut bridge = Vec::new();
            for run in 0..runs {
                // The ceiling: the CLI writing the same records into the same target.
                for (batch, times) in [(None, &mut cli_default), (Some("524288"), &mut cli_batched)]
                {
                    let t = fresh_topic(
                        &mut target,
                        chain,
                        &format!("cli-{size}-{run}-{}", batch.is_some()),
                    );
                    let slow = batch.is_none() && chain == Chain::ProducerSide;
                    let (input, records) = if slow {
                        (&sample_file, sample)
                    } else {
                        (&file, count)
                    };
                    let mut args: Vec<String> = vec!["produce".into(), t.clone(), "-f".into()];
                    args.push(input.display().to_string());
                    if let Some(b) = batch {
                        args.extend(["--batch-size".into(), b.into()]);
                    }
                    if chain == Chain::ProducerSide {
                        args.extend(
                            [
                                "--smartmodule",
                                "mirror-policy",
                                "-e",
                                "cluster=target",
                                "-e",
                            ]
                            .map(String::from),
                        );
                        args.push(format!("dedup={WINDOW}"));
                    }
                    let began = Instant::now();
                    let out = target.fluvio(&args, None).unwrap_or_else(|e| panic!("{e}"));
                    let took = began.elapsed();
                    assert!(out.success(), "{}", out.describe());
                    times.push(took.div_f64(records as f64 / count as f64));
                }
                // The bridge.
                let t = fresh_topic(&mut target, chain, &format!("bridge-{size}-{run}"));
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_origin-bridge"));
                cmd.args([
                    "--source",
                    &source.sc_public().to_string(),
                    "--source-id",
                    "source",
                ])
                .args([
                    "--target",
                    &target.sc_public().to_string(),
                    "--target-id",
                    "target",
                ])
                .args(["--topic", &topic, "--to-topic", &t, "--until-caught-up"])
                .args(["--consumer", &format!("bench-{t}")]);
                if chain == Chain::ProducerSide {
                    cmd.args([
                        "--transform",
                        &format!(
                            r#"{{"uses":"mirror-policy","with":{{"cluster":"target","dedup":"{WINDOW}"}}}}"#
                        ),
                    ]);
                }
                let began = Instant::now();
                let out = broker_tests::run(cmd, None, Duration::from_secs(600))
                    .unwrap_or_else(|e| panic!("{e}"));
                let took = began.elapsed();
                assert_eq!(out.code, Some(0), "{}", out.describe());
                assert!(
                    out.text().contains(&format!("delivered {count},")),
                    "{}",
                    out.describe()
                );
                bridge.push(took);
            }
            let rate = |times: &mut Vec<Duration>| {
                times.sort();
                count as f64 / times[times.len() / 2].as_secs_f64()
            };
            let (d, b, br) = (
                rate(&mut cli_default),
                rate(&mut cli_batched),
                rate(&mut bridge),
            );
            let row = format!(
                "| {size} B x {count} | {} | {:.0} | {:.0} | {:.0} | {:.2}x |",
                chain.label(),
                d,
                b,
                br,
                br / d.max(b)
            );
            eprintln!("{row}");
            rows.push(row);
        }
    }
    println!(
        "\n| records | target's chain | `fluvio produce -f` rec/s | `fluvio produce -f --batch-size 524288` rec/s | origin-bridge rec/s | bridge / best CLI |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!(
        "\n`fluvio produce -f` with a producer-side chain and its default batches is timed on \
         the first 1% of the records. The read side alone, `fluvio consume -B -d -b 268435456 -O \
         raw` of the source topic: {}.",
        read_rates.join(", ")
    );
    println!(
        "\nmedian of {runs} run(s); {} cores; load average {load_before} before, {} after; took {:.0} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load(),
        started.elapsed().as_secs_f64()
    );
    source.stop();
    target.stop();
}

/// A new target topic for one run, with mirror-policy at its hook in the hook variant.
fn fresh_topic(target: &mut Cluster, chain: Chain, name: &str) -> String {
    let topic = target.unique_topic(name);
    let made = if chain == Chain::Hook {
        let yaml = format!(
            "version: 0.1.0\nmeta:\n  name: {topic}\ndeduplication:\n  bounds:\n    count: \
             {WINDOW}\n  filter:\n    transform:\n      uses: mirror-policy\n      with:\n        \
             cluster: target\n        dedup: \"{WINDOW}\"\n"
        );
        target.create_topic_from_config(&topic, &yaml)
    } else {
        target.create_topic(&topic)
    };
    made.unwrap_or_else(|e| panic!("{e}"));
    topic
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
