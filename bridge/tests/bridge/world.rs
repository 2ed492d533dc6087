//! What every scenario shares: four clusters (a, b, c, d) with the policy modules registered,
//! topics guarded by mirror-policy at their hook, bridges run as the real binary, and ways to
//! read back exactly what a topic stored.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use broker_tests::{Cluster, CmdOutput, ConsumedRecord, Daemon, FluvioBins};

/// Writes a line to stderr past libtest's capture, so progress shows in a plain `cargo test`.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// The cluster ids, in the order the clusters are started.
pub const CLUSTERS: [&str; 4] = ["a", "b", "c", "d"];
/// A fetch large enough that no test topic is read in pieces: `fluvio consume` loses the
/// tail of a batch that a fetch's byte limit cuts (see bridge/README.md).
const READ_ALL_BYTES: &str = "268435456";
/// The longest a bridge may take to settle before a scenario gives up.
pub const SETTLE: Duration = Duration::from_secs(60);

pub struct World {
    pub clusters: Vec<Cluster>,
    /// Bridge configs, topologies and logs.
    pub scratch: PathBuf,
    /// Every bridge started, by PID, to check none is left running.
    pub bridge_pids: Vec<u32>,
}

impl World {
    pub fn start(bins: &FluvioBins) -> World {
        let mut clusters = Vec::new();
        for id in CLUSTERS {
            let started = Instant::now();
            let cluster = Cluster::start(bins, id)
                .unwrap_or_else(|e| panic!("cannot start the Fluvio cluster `{id}`: {e}"));
            for name in ["mirror-policy", "origin-tag", "origin-strip"] {
                cluster
                    .register_module(name, &integration::wasm_path(name))
                    .unwrap_or_else(|e| panic!("cannot register {name} on {id}: {e}"));
            }
            say!(
                "bridge-tests: cluster `{id}` started on {} with its modules in {:.1} s",
                cluster.sc_public(),
                started.elapsed().as_secs_f64()
            );
            clusters.push(cluster);
        }
        let scratch = clusters[0].dir().join("bridges");
        std::fs::create_dir_all(&scratch)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", scratch.display()));
        World {
            clusters,
            scratch,
            bridge_pids: Vec::new(),
        }
    }

    pub fn cluster(&self, id: &str) -> &Cluster {
        let i = CLUSTERS.iter().position(|c| *c == id).expect("a known id");
        &self.clusters[i]
    }

    fn cluster_mut(&mut self, id: &str) -> &mut Cluster {
        let i = CLUSTERS.iter().position(|c| *c == id).expect("a known id");
        &mut self.clusters[i]
    }

    /// Restarts the SPU of cluster `id` (a new process, same data); returns how long it took.
    pub fn restart_spu(&mut self, id: &str) -> Duration {
        self.cluster_mut(id)
            .restart_spu()
            .unwrap_or_else(|e| panic!("cannot restart the SPU of `{id}`: {e}"))
    }

    /// Restarts the SC of cluster `id` (same ports, same metadata); returns how long it took.
    pub fn restart_sc(&mut self, id: &str) -> Duration {
        self.cluster_mut(id)
            .restart_sc()
            .unwrap_or_else(|e| panic!("cannot restart the SC of `{id}`: {e}"))
    }

    pub fn endpoint(&self, id: &str) -> String {
        self.cluster(id).sc_public().to_string()
    }

    /// The flags of a link given on the command line: `topic` from cluster `from` to cluster
    /// `to`, each reached by its endpoint and named by its id.
    pub fn link_args(&self, from: &str, to: &str, topic: &str) -> Vec<String> {
        vec![
            "--source".into(),
            self.endpoint(from),
            "--source-id".into(),
            from.into(),
            "--target".into(),
            self.endpoint(to),
            "--target-id".into(),
            to.into(),
            "--topic".into(),
            topic.into(),
        ]
    }

    /// `clusters:` of a bridge config naming every cluster by its endpoint.
    pub fn clusters_yaml(&self) -> String {
        let mut yaml = String::from("clusters:\n");
        for id in CLUSTERS {
            yaml.push_str(&format!(
                "  {id}: {{ endpoint: \"{}\" }}\n",
                self.endpoint(id)
            ));
        }
        yaml
    }

    /// A topic without a hook.
    pub fn topic(&mut self, id: &str, topic: &str) {
        self.cluster_mut(id)
            .create_topic(topic)
            .unwrap_or_else(|e| panic!("cannot create {topic} on {id}: {e}"));
    }

    /// A topic without a hook, with `partitions` partitions.
    pub fn topic_with_partitions(&mut self, id: &str, topic: &str, partitions: u32) {
        self.cluster_mut(id)
            .create_topic_with_partitions(topic, partitions)
            .unwrap_or_else(|e| panic!("cannot create {topic} on {id}: {e}"));
    }

    /// A topic guarded by mirror-policy at its hook, with `with` params after `cluster`; a
    /// `dedup` window is matched by the hook's `bounds.count` (the look-back at start-up).
    pub fn guarded_topic(&mut self, id: &str, topic: &str, with: &[(&str, &str)]) {
        let count = with
            .iter()
            .find(|(k, _)| *k == "dedup")
            .map_or("1", |(_, v)| v);
        let mut yaml = format!(
            "version: 0.1.0\nmeta:\n  name: {topic}\ndeduplication:\n  bounds:\n    count: \
             {count}\n  filter:\n    transform:\n      uses: mirror-policy\n      with:\n        \
             cluster: \"{id}\"\n"
        );
        for (k, v) in with {
            yaml.push_str(&format!("        {k}: \"{v}\"\n"));
        }
        self.cluster_mut(id)
            .create_topic_from_config(topic, &yaml)
            .unwrap_or_else(|e| panic!("cannot create {topic} on {id}: {e}"));
    }

    /// Produces `lines` from a file (one request for many lines); `key:value` lines are sent
    /// with their key when `keyed`; `extra` adds arguments (a producer-side chain).
    pub fn produce(&self, id: &str, topic: &str, lines: &[String], keyed: bool, extra: &[&str]) {
        let cluster = self.cluster(id);
        let file = cluster
            .write_file(
                &format!("produce-{topic}-{}.txt", lines.len()),
                (lines.join("\n") + "\n").as_bytes(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let mut args: Vec<String> = vec!["produce".into(), topic.into(), "-f".into()];
        args.push(file.to_string_lossy().into_owned());
        if keyed {
            args.extend(["--key-separator".into(), ":".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = cluster
            .fluvio(&args, None)
            .unwrap_or_else(|e| panic!("cannot produce to {topic} on {id}: {e}"));
        assert!(out.success(), "{}", out.describe());
    }

    /// Every record of partition `partition` of `topic`, tags removed by origin-strip: the
    /// producer's keys and values.
    pub fn read(&self, id: &str, topic: &str, partition: u32) -> Vec<ConsumedRecord> {
        let p = partition.to_string();
        self.cluster(id)
            .consume_all(
                topic,
                true,
                &[
                    "-p",
                    &p,
                    "-b",
                    READ_ALL_BYTES,
                    "--smartmodule",
                    "origin-strip",
                ],
            )
            .unwrap_or_else(|e| panic!("cannot read {topic} on {id}: {e}"))
    }

    /// Every record of `topic` as stored (tags and all).
    pub fn read_raw(&self, id: &str, topic: &str) -> Vec<ConsumedRecord> {
        self.cluster(id)
            .consume_all(topic, true, &["-b", READ_ALL_BYTES])
            .unwrap_or_else(|e| panic!("cannot read {topic} on {id}: {e}"))
    }

    /// How many records partition 0 of `topic` holds, counted one by one: a batch the hook
    /// filtered keeps its offset span, so the end offset overstates it (and `fluvio consume
    /// -T 1`, which reads the offset before the end, can find nothing).
    pub fn stored(&self, id: &str, topic: &str) -> i64 {
        let out = self
            .cluster(id)
            .fluvio_ok(&[
                "consume",
                topic,
                "-B",
                "-d",
                "-b",
                READ_ALL_BYTES,
                "-F",
                "{{offset}}",
            ])
            .unwrap_or_else(|e| panic!("cannot count {topic} on {id}: {e}"));
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .count() as i64
    }

    /// Waits until every `(cluster, topic, count)` holds `count` records; panics with what
    /// each holds if that takes longer than [`SETTLE`].
    pub fn wait_for_counts(&self, what: &str, want: &[(&str, &str, i64)]) -> Duration {
        let started = Instant::now();
        loop {
            let have: Vec<i64> = want.iter().map(|(c, t, _)| self.stored(c, t)).collect();
            if have.iter().zip(want).all(|(h, (_, _, w))| h == w) {
                return started.elapsed();
            }
            if started.elapsed() > SETTLE {
                let table: Vec<String> = want
                    .iter()
                    .zip(&have)
                    .map(|((c, t, w), h)| format!("{c}/{t}: {h} of {w}"))
                    .collect();
                panic!(
                    "{what}: not settled within {SETTLE:?}: {}",
                    table.join(", ")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits while `bridge` copies until `topic` on `id` holds at least `n` records; returns
    /// how many it held. Panics with the bridge's log after [`SETTLE`].
    pub fn wait_for_at_least(&self, id: &str, topic: &str, n: i64, bridge: &Bridge) -> i64 {
        let started = Instant::now();
        loop {
            let stored = self.stored(id, topic);
            if stored >= n {
                return stored;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{id}/{topic} holds {stored} records after {SETTLE:?}, not {n}:\n{}",
                bridge.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes a file for a bridge (a config, a topology) and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.scratch.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    fn bridge_command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_origin-bridge"));
        cmd.args(args)
            .current_dir(&self.scratch)
            .env_remove("RUST_LOG");
        cmd
    }

    /// Starts a bridge that runs until stopped; its output goes to `NAME.log`.
    pub fn bridge(&mut self, name: &str, args: &[String]) -> Bridge {
        let log = self.scratch.join(format!("{name}.log"));
        let daemon = Daemon::spawn(name, self.bridge_command(args), &log)
            .unwrap_or_else(|e| panic!("cannot start bridge {name}: {e}"));
        self.bridge_pids.push(daemon.pid());
        Bridge { daemon, log }
    }

    /// Runs a bridge with `--until-caught-up` and returns what it printed and its exit code.
    pub fn bridge_until_caught_up(&mut self, args: &[String]) -> CmdOutput {
        let mut args = args.to_vec();
        args.push("--until-caught-up".into());
        broker_tests::run(self.bridge_command(&args), None, SETTLE)
            .unwrap_or_else(|e| panic!("the bridge did not finish: {e}"))
    }
}

/// A bridge running in the background.
pub struct Bridge {
    daemon: Daemon,
    log: PathBuf,
}

impl Bridge {
    /// SIGTERM, as an operator stops it; returns how it exited and what it printed.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let stopped = self
            .daemon
            .stop(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("cannot stop bridge {}: {e}", self.daemon.name()));
        assert!(
            !stopped.killed,
            "bridge {} ignored SIGTERM for 20 s; its log:\n{}",
            self.daemon.name(),
            self.text()
        );
        let status = self.daemon.exited().expect("reaped after stop");
        (status, self.text())
    }

    /// SIGKILL: a crash.
    pub fn kill(mut self) -> String {
        self.daemon
            .kill()
            .unwrap_or_else(|e| panic!("cannot kill bridge {}: {e}", self.daemon.name()));
        self.text()
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The counts of a link's last line (`NAME: caught up; delivered N, refused M ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub delivered: u64,
    pub refused: u64,
}

/// Reads `link`'s closing line from a bridge's output.
pub fn finished(output: &str, link: &str) -> Finished {
    let prefix = format!("origin-bridge: {link}: ");
    let line = output
        .lines()
        .rev()
        .find(|l| l.starts_with(&prefix) && l.contains("; delivered "))
        .unwrap_or_else(|| panic!("no closing line for link {link} in:\n{output}"));
    let number_after = |word: &str| -> u64 {
        line.split(word)
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {word:?} in {line:?}"))
    };
    Finished {
        delivered: number_after("delivered "),
        refused: number_after("refused "),
    }
}

/// `prefix i` for i in `range`.
pub fn lines(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix} {i}")).collect()
}

/// How many times each value occurs.
pub fn census(records: &[ConsumedRecord]) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for r in records {
        *m.entry(r.value.clone()).or_insert(0) += 1;
    }
    m
}

/// Asserts that `records` hold each of `expected` exactly once and nothing else.
pub fn assert_exactly_once(what: &str, records: &[ConsumedRecord], expected: &[String]) {
    let census = census(records);
    let dup: Vec<String> = census
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(v, n)| format!("{} x{n}", String::from_utf8_lossy(v)))
        .take(5)
        .collect();
    assert!(dup.is_empty(), "{what}: stored more than once: {dup:?}");
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !census.contains_key(e.as_bytes()))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "{what}: missing {missing:?}");
    assert_eq!(
        records.len(),
        expected.len(),
        "{what}: {} records stored, {} expected",
        records.len(),
        expected.len()
    );
}

/// Asserts that the records of `records` whose value is in `order` come in that order.
pub fn assert_in_order(what: &str, records: &[ConsumedRecord], order: &[String]) {
    let position: BTreeMap<&[u8], usize> = order
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_bytes(), i))
        .collect();
    let seen: Vec<usize> = records
        .iter()
        .filter_map(|r| position.get(r.value.as_slice()).copied())
        .collect();
    if let Some(w) = seen.windows(2).find(|w| w[0] > w[1]) {
        panic!("{what}: {:?} stored after {:?}", order[w[1]], order[w[0]]);
    }
}
