//! One local Fluvio cluster: an SC and one SPU on loopback, with free ports, a temp directory
//! and a `HOME` of its own (every CLI call reads its profile from `$HOME/.fluvio`), so that
//! several clusters run side by side in one process.

use std::collections::HashSet;
use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::bins::FluvioBins;
use crate::consume::{parse_binary_records, ConsumedRecord};
use crate::process::{run, strip_ansi, CmdOutput, Daemon, ProcessError};

/// The id the cluster's only SPU is registered under.
const SPU_ID: u32 = 5001;
/// A CLI call that takes longer than this is stuck (they take about 0.1 s here).
const CLI_DEADLINE: Duration = Duration::from_secs(60);
/// How long the SC may take to accept connections, and the SPU to show as online.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long a broker may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Start-up attempts: a free port picked here can be taken by another process before the
/// broker binds it; the next attempt picks new ports.
const START_ATTEMPTS: usize = 3;

#[derive(Debug)]
pub enum ClusterError {
    Io {
        what: String,
        source: std::io::Error,
    },
    Process(ProcessError),
    /// A CLI call that had to succeed did not.
    Cli(CmdOutput),
    /// A broker process exited by itself; its log's tail follows.
    Exited {
        name: String,
        log: String,
    },
    /// A wait ran out of time.
    Timeout {
        what: String,
        after: Duration,
        detail: String,
    },
    /// A CLI listing that could not be read.
    Unexpected {
        what: String,
        detail: String,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Io { what, source } => write!(f, "{what}: {source}"),
            ClusterError::Process(e) => write!(f, "{e}"),
            ClusterError::Cli(out) => write!(f, "{}", out.describe()),
            ClusterError::Exited { name, log } => {
                write!(f, "{name} exited by itself; the end of its log:\n{log}")
            }
            ClusterError::Timeout {
                what,
                after,
                detail,
            } => write!(f, "{what} did not happen within {after:?}\n{detail}"),
            ClusterError::Unexpected { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl std::error::Error for ClusterError {}

impl From<ProcessError> for ClusterError {
    fn from(e: ProcessError) -> Self {
        ClusterError::Process(e)
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// The four loopback addresses a cluster listens on.
#[derive(Debug, Clone, Copy)]
struct Ports {
    sc_public: SocketAddr,
    sc_private: SocketAddr,
    spu_public: SocketAddr,
    spu_private: SocketAddr,
}

/// Ports handed out in this process, so that two clusters never get the same one even before
/// their brokers bind them.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Free loopback ports: bound to port 0 all at once (so the OS gives distinct ones), then
/// released for the brokers to bind.
fn free_ports() -> Result<Ports, ClusterError> {
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    let handed = handed.get_or_insert_with(HashSet::new);
    let mut held = Vec::new();
    let mut addrs = Vec::new();
    while addrs.len() < 4 {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io("binding a free port"))?;
        let addr = listener.local_addr().map_err(io("reading a bound port"))?;
        if handed.insert(addr.port()) {
            addrs.push(addr);
        }
        held.push(listener);
    }
    Ok(Ports {
        sc_public: addrs[0],
        sc_private: addrs[1],
        spu_public: addrs[2],
        spu_private: addrs[3],
    })
}

/// Unique names across the process: topics, directories.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// A running local cluster. Dropping it stops its SPU and SC by PID (also while a test
/// panics) and removes its directory, unless the thread is panicking: the logs are then kept
/// for the failure's reader.
pub struct Cluster {
    label: String,
    bins: FluvioBins,
    dir: PathBuf,
    home: PathBuf,
    ports: Ports,
    sc: Option<Daemon>,
    spu: Option<Daemon>,
    /// Every broker PID this cluster started, restarts included.
    pids: Vec<u32>,
    started_in: Duration,
    keep_dir: bool,
}

/// What stopping a cluster took, and whether anything had to be killed.
#[derive(Debug, Clone)]
pub struct StopReport {
    pub took: Duration,
    pub killed: Vec<String>,
    /// Processes still running afterwards whose command line names the cluster's directory,
    /// or whose PID is one this cluster started (should be empty).
    pub left_behind: Vec<String>,
}

impl Cluster {
    /// Starts an SC and an SPU and waits until the SPU is online. `label` names the cluster
    /// in messages, in its directory and as its CLI profile.
    pub fn start(bins: &FluvioBins, label: &str) -> Result<Cluster, ClusterError> {
        let started = Instant::now();
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match Cluster::start_once(bins, label, started) {
                Ok(cluster) => return Ok(cluster),
                // A broker that exits at start-up most likely lost its port: try new ones.
                Err(e @ ClusterError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ClusterError::Unexpected {
            what: format!("starting cluster {label}"),
            detail: "no attempt was made".into(),
        }))
    }

    fn start_once(
        bins: &FluvioBins,
        label: &str,
        started: Instant,
    ) -> Result<Cluster, ClusterError> {
        let dir = std::env::temp_dir().join(format!("{}{label}-{}", run_prefix(), next_id()));
        let home = dir.join("home");
        for sub in ["home", "meta", "spu"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(io(format!("creating {}", dir.join(sub).display())))?;
        }
        let mut cluster = Cluster {
            label: label.to_string(),
            bins: bins.clone(),
            dir,
            home,
            ports: free_ports()?,
            sc: None,
            spu: None,
            pids: Vec::new(),
            started_in: Duration::ZERO,
            keep_dir: false,
        };
        cluster.start_sc()?;
        cluster.fluvio_ok(&[
            "profile",
            "add",
            label,
            &cluster.ports.sc_public.to_string(),
            "local",
        ])?;
        let register = [
            "cluster".to_string(),
            "spu".into(),
            "register".into(),
            "--id".into(),
            SPU_ID.to_string(),
            "--public-server".into(),
            cluster.ports.spu_public.to_string(),
            "--private-server".into(),
            cluster.ports.spu_private.to_string(),
        ];
        // The SC accepts connections a little before it serves its API: retry until it does.
        cluster.retry_until("the SC registering the SPU", |c| {
            let out = c.fluvio(&register, None)?;
            Ok(out.success().then_some(()).ok_or(out))
        })?;
        cluster.start_spu()?;
        cluster.wait_spu(true)?;
        cluster.started_in = started.elapsed();
        Ok(cluster)
    }

    fn start_sc(&mut self) -> Result<(), ClusterError> {
        let mut cmd = self.broker_command();
        cmd.arg("sc")
            .arg("--local")
            .arg(self.dir.join("meta"))
            .arg("--bind-public")
            .arg(self.ports.sc_public.to_string())
            .arg("--bind-private")
            .arg(self.ports.sc_private.to_string());
        let sc = Daemon::spawn(&format!("{} SC", self.label), cmd, &self.dir.join("sc.log"))?;
        self.pids.push(sc.pid());
        self.sc = Some(sc);
        let addr = self.ports.sc_public;
        self.wait_for("the SC accepting connections", START_DEADLINE, |_| {
            Ok(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok())
        })
    }

    fn start_spu(&mut self) -> Result<(), ClusterError> {
        let mut cmd = self.broker_command();
        cmd.arg("spu")
            .args(["--id", &SPU_ID.to_string()])
            .args(["--public-server", &self.ports.spu_public.to_string()])
            .args(["--private-server", &self.ports.spu_private.to_string()])
            .args(["--sc-addr", &self.ports.sc_private.to_string()])
            .arg("--log-base-dir")
            .arg(self.dir.join("spu"));
        let spu = Daemon::spawn(
            &format!("{} SPU", self.label),
            cmd,
            &self.dir.join("spu.log"),
        )?;
        self.pids.push(spu.pid());
        self.spu = Some(spu);
        Ok(())
    }

    fn broker_command(&self) -> Command {
        let mut cmd = Command::new(&self.bins.run);
        cmd.current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Waits until the SC lists the SPU as online (`true`) or as not online (`false`).
    fn wait_spu(&mut self, online: bool) -> Result<(), ClusterError> {
        let what = if online {
            "the SPU showing as online"
        } else {
            "the SPU showing as offline"
        };
        self.wait_for(what, START_DEADLINE, |c| {
            let out = c.fluvio(&["cluster", "spu", "list", "-O", "json"], None)?;
            if !out.success() {
                return Ok(false);
            }
            let list = json_listing(&out)?;
            let is_online = list.as_array().is_some_and(|spus| {
                spus.iter().any(|s| {
                    s["spec"]["spuId"].as_u64() == Some(SPU_ID.into())
                        && s["status"]["resolution"].as_str() == Some("Online")
                })
            });
            Ok(is_online == online)
        })
    }

    /// Polls `ready` until it holds, failing early if a broker process has exited.
    fn wait_for(
        &mut self,
        what: &str,
        deadline: Duration,
        mut ready: impl FnMut(&mut Cluster) -> Result<bool, ClusterError>,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            self.check_alive()?;
            if ready(self)? {
                return Ok(());
            }
            if started.elapsed() > deadline {
                return Err(ClusterError::Timeout {
                    what: format!("{}: {what}", self.label),
                    after: deadline,
                    detail: self.logs_tail(20),
                });
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Retries a CLI step until it succeeds or `START_DEADLINE` passes.
    fn retry_until(
        &mut self,
        what: &str,
        mut step: impl FnMut(&mut Cluster) -> Result<Result<(), CmdOutput>, ClusterError>,
    ) -> Result<(), ClusterError> {
        let mut last = None;
        let res = self.wait_for(what, START_DEADLINE, |c| match step(c)? {
            Ok(()) => Ok(true),
            Err(out) => {
                last = Some(out);
                Ok(false)
            }
        });
        match (res, last) {
            (Err(ClusterError::Timeout { .. }), Some(out)) => Err(ClusterError::Cli(out)),
            (res, _) => res,
        }
    }

    fn check_alive(&mut self) -> Result<(), ClusterError> {
        for daemon in [self.sc.as_mut(), self.spu.as_mut()].into_iter().flatten() {
            if let Some(status) = daemon.exited() {
                return Err(ClusterError::Exited {
                    name: format!("{} ({status})", daemon.name()),
                    log: daemon.log_tail(30),
                });
            }
        }
        Ok(())
    }

    fn logs_tail(&self, lines: usize) -> String {
        let mut s = String::new();
        for daemon in [self.sc.as_ref(), self.spu.as_ref()].into_iter().flatten() {
            s.push_str(&format!(
                "---- {} log ({}):\n{}\n",
                daemon.name(),
                daemon.log().display(),
                daemon.log_tail(lines)
            ));
        }
        s
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The cluster's own directory (logs, metadata, data, `HOME`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The SC's public address, as a CLI profile or a remote's export names it.
    pub fn sc_public(&self) -> SocketAddr {
        self.ports.sc_public
    }

    /// How long start-up took, from the first process to the SPU online.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Every broker PID this cluster started.
    pub fn pids(&self) -> &[u32] {
        &self.pids
    }

    /// Runs the CLI against this cluster, with its `HOME` and a deadline.
    pub fn fluvio<S: AsRef<std::ffi::OsStr>>(
        &self,
        args: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<CmdOutput, ClusterError> {
        let mut cmd = Command::new(&self.bins.cli);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        Ok(run(cmd, stdin.map(<[u8]>::to_vec), CLI_DEADLINE)?)
    }

    /// Runs the CLI and requires exit code 0.
    pub fn fluvio_ok<S: AsRef<std::ffi::OsStr>>(
        &self,
        args: &[S],
    ) -> Result<CmdOutput, ClusterError> {
        let out = self.fluvio(args, None)?;
        if out.success() {
            Ok(out)
        } else {
            Err(ClusterError::Cli(out))
        }
    }

    /// A topic name no other test of this process uses: `prefix-N`.
    pub fn unique_topic(&self, prefix: &str) -> String {
        format!("{prefix}-{}", next_id())
    }

    /// Writes `contents` to a file in the cluster's directory and returns its path.
    pub fn write_file(&self, name: &str, contents: &[u8]) -> Result<PathBuf, ClusterError> {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).map_err(io(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// `fluvio topic create NAME`, then waits until its partition has a leader.
    pub fn create_topic(&mut self, name: &str) -> Result<(), ClusterError> {
        self.fluvio_ok(&["topic", "create", name])?;
        self.wait_partition(name)
    }

    /// `fluvio topic create --config FILE` with `yaml`, then waits for the partition.
    pub fn create_topic_from_config(&mut self, name: &str, yaml: &str) -> Result<(), ClusterError> {
        let file = self.write_file(&format!("{name}.yaml"), yaml.as_bytes())?;
        self.fluvio_ok(&[
            "topic".as_ref(),
            "create".as_ref(),
            "--config".as_ref(),
            file.as_os_str(),
        ])?;
        self.wait_partition(name)
    }

    /// `fluvio smartmodule create NAME --wasm-file PATH`.
    pub fn register_module(&self, name: &str, wasm: &Path) -> Result<(), ClusterError> {
        self.fluvio_ok(&[
            "smartmodule".as_ref(),
            "create".as_ref(),
            name.as_ref(),
            "--wasm-file".as_ref(),
            wasm.as_os_str(),
        ])?;
        Ok(())
    }

    /// The partition 0 entry of `fluvio partition list -O json` for `topic`.
    fn partition(&self, topic: &str) -> Result<Option<serde_json::Value>, ClusterError> {
        let out = self.fluvio_ok(&["partition", "list", "-O", "json"])?;
        let list = json_listing(&out)?;
        let name = format!("{topic}-0");
        Ok(list
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"].as_str() == Some(&name)))
            .cloned())
    }

    /// Waits until partition 0 of `topic` is online with a leader.
    pub fn wait_partition(&mut self, topic: &str) -> Result<(), ClusterError> {
        let topic = topic.to_string();
        self.wait_for(
            &format!("partition {topic}-0 online"),
            START_DEADLINE,
            |c| {
                Ok(c.partition(&topic)?.is_some_and(|p| {
                    p["status"]["resolution"].as_str() == Some("Online")
                        && p["status"]["leader"]["spu"].as_u64() == Some(SPU_ID.into())
                }))
            },
        )
    }

    /// `fluvio topic create NAME --partitions N`, then waits until every partition has a
    /// leader.
    pub fn create_topic_with_partitions(
        &mut self,
        name: &str,
        partitions: u32,
    ) -> Result<(), ClusterError> {
        self.fluvio_ok(&[
            "topic",
            "create",
            name,
            "--partitions",
            &partitions.to_string(),
        ])?;
        let topic = name.to_string();
        self.wait_for(
            &format!("the {partitions} partitions of {topic} online"),
            START_DEADLINE,
            |c| {
                let out = c.fluvio_ok(&["partition", "list", "-O", "json"])?;
                let list = json_listing(&out)?;
                let online = (0..partitions).all(|p| {
                    let name = format!("{topic}-{p}");
                    list.as_array().is_some_and(|ps| {
                        ps.iter().any(|e| {
                            e["name"].as_str() == Some(&name)
                                && e["status"]["resolution"].as_str() == Some("Online")
                        })
                    })
                });
                Ok(online)
            },
        )
    }

    /// How many records partition 0 of `topic` has stored: the offset of its last record plus
    /// one, read by consuming that record (`fluvio partition list` reports offsets the SPU sends
    /// the SC now and then, so it lags behind a write).
    pub fn stored_count(&self, topic: &str) -> Result<i64, ClusterError> {
        let out = self.fluvio_ok(&["consume", topic, "-T", "1", "-d", "-F", "{{offset}}"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        match text.split_whitespace().last() {
            None => Ok(0),
            Some(last) => {
                last.parse::<i64>()
                    .map(|offset| offset + 1)
                    .map_err(|e| ClusterError::Unexpected {
                        what: format!("the last offset of {topic}"),
                        detail: format!("{e}: {}", out.text()),
                    })
            }
        }
    }

    /// Every record of partition 0 with its exact value bytes, through `fluvio consume -B -d
    /// -O binary`, with `-k` for the keys when `keys` (only for UTF-8 keys: the CLI prints keys
    /// as lossy text), and `extra` arguments (a consumer-side chain, say).
    pub fn consume_all<S: AsRef<std::ffi::OsStr>>(
        &self,
        topic: &str,
        keys: bool,
        extra: &[S],
    ) -> Result<Vec<ConsumedRecord>, ClusterError> {
        let mut args: Vec<std::ffi::OsString> = ["consume", topic, "-B", "-d", "-O", "binary"]
            .iter()
            .map(Into::into)
            .collect();
        if keys {
            args.push("-k".into());
        }
        args.extend(extra.iter().map(|a| a.as_ref().to_owned()));
        let out = self.fluvio(&args, None)?;
        if !out.success() {
            return Err(ClusterError::Cli(out));
        }
        parse_binary_records(&String::from_utf8_lossy(&out.stdout), keys).map_err(|e| {
            ClusterError::Unexpected {
                what: format!("reading the output of `{}`", out.command),
                detail: e.to_string(),
            }
        })
    }

    /// The SPU's log so far, without colour codes: where a refusal at the topic hook explains
    /// itself, since the producer only reads a storage error.
    pub fn spu_log(&self) -> String {
        std::fs::read(self.dir.join("spu.log"))
            .map(|b| strip_ansi(&String::from_utf8_lossy(&b)))
            .unwrap_or_default()
    }

    /// Stops the SPU by PID and starts it again on the same ports and data directory; returns
    /// once the SC lists it as online again.
    pub fn restart_spu(&mut self) -> Result<Duration, ClusterError> {
        let started = Instant::now();
        if let Some(mut spu) = self.spu.take() {
            spu.stop(STOP_GRACE)?;
        }
        self.wait_spu(false)?;
        self.start_spu()?;
        self.wait_spu(true)?;
        Ok(started.elapsed())
    }

    /// Restarts the SC (a new process on the same ports and metadata directory) and waits
    /// until it lists the SPU as online again; returns how long that took.
    pub fn restart_sc(&mut self) -> Result<Duration, ClusterError> {
        let started = Instant::now();
        if let Some(mut sc) = self.sc.take() {
            sc.stop(STOP_GRACE)?;
        }
        self.start_sc()?;
        self.wait_spu(true)?;
        Ok(started.elapsed())
    }

    /// Keeps the cluster's directory (logs, data) after it stops, for a failure's reader.
    pub fn keep_dir(&mut self) {
        self.keep_dir = true;
    }

    /// Stops the SPU, then the SC, by PID; removes the directory; and reports any process left
    /// behind. Dropping a cluster does the same without the report.
    pub fn stop(mut self) -> StopReport {
        self.stop_processes()
    }

    fn stop_processes(&mut self) -> StopReport {
        let started = Instant::now();
        let mut killed = Vec::new();
        for daemon in [self.spu.take(), self.sc.take()].into_iter().flatten() {
            let mut daemon = daemon;
            match daemon.stop(STOP_GRACE) {
                Ok(s) if s.killed => killed.push(daemon.name().to_string()),
                Ok(_) => {}
                Err(e) => killed.push(format!("{} (could not stop it: {e})", daemon.name())),
            }
        }
        let took = started.elapsed();
        let left_behind = left_behind(&self.pids, &self.dir);
        if left_behind.is_empty() && !self.keep_dir && !thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        StopReport {
            took,
            killed,
            left_behind,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.sc.is_some() || self.spu.is_some() {
            self.stop_processes();
        }
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("label", &self.label)
            .field("dir", &self.dir)
            .field("sc_public", &self.ports.sc_public)
            .field("pids", &self.pids)
            .finish()
    }
}

/// A `fluvio ... list -O json` listing; an empty one is printed as a sentence (`No partitions
/// found`), not as `[]`.
fn json_listing(out: &CmdOutput) -> Result<serde_json::Value, ClusterError> {
    if out.stdout.starts_with(b"No ") {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| ClusterError::Unexpected {
        what: format!("reading the output of `{}`", out.command),
        detail: format!("{e}: {}", out.text()),
    })
}

/// The start of every cluster directory of this process: `broker-tests-PID-`.
fn run_prefix() -> String {
    format!("broker-tests-{}-", std::process::id())
}

/// Running processes whose command line names a cluster directory of this process: brokers
/// of any cluster started here that are still running.
pub fn processes_of_this_run() -> Vec<String> {
    left_behind(&[], &std::env::temp_dir().join(run_prefix()))
}

/// Running processes that this cluster started (by PID) or that name its directory on their
/// command line (children of the brokers, should there be any). Linux only (`/proc`).
pub fn left_behind(pids: &[u32], dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    let dir = dir.to_string_lossy().into_owned();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        // A zombie has an empty command line; a reused PID runs some other program.
        let ours =
            cmdline.contains(&dir) || (pids.contains(&pid) && cmdline.contains("fluvio-run"));
        if ours && pid != std::process::id() {
            found.push(format!("pid {pid}: {}", cmdline.trim()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_across_calls() {
        let a = free_ports().unwrap();
        let b = free_ports().unwrap();
        let all: HashSet<u16> = [a, b]
            .iter()
            .flat_map(|p| [p.sc_public, p.sc_private, p.spu_public, p.spu_private])
            .map(|a| a.port())
            .collect();
        assert_eq!(all.len(), 8);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_running_process_naming_the_directory_is_found_and_a_reaped_one_is_not() {
        let dir = std::env::temp_dir().join(format!("broker-left-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // `read` is a shell builtin: no grandchild outlives the shell.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("read line")
            .arg(dir.join("marker"))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The shell's command line may take a moment to show under load: look a few times.
        let mut found = left_behind(&[], &dir);
        for _ in 0..50 {
            if !found.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            found = left_behind(&[], &dir);
        }
        assert_eq!(found.len(), 1, "{found:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(left_behind(&[child.id()], &dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
