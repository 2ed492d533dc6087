//! Child processes with deadlines: CLI calls that are killed when they overrun, and broker
//! daemons that are stopped by PID (SIGTERM, then SIGKILL) and always reaped.

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished CLI call printed, and how it ended.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// The command line, for messages.
    pub command: String,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// What a terminal shows: stdout, then stderr, as text.
    pub fn text(&self) -> String {
        let mut all = String::from_utf8_lossy(&self.stdout).into_owned();
        all.push_str(&String::from_utf8_lossy(&self.stderr));
        all
    }

    /// The command, its exit code and its output, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "`{}` exited with {:?} after {:?}; it printed:\n{}",
            self.command,
            self.code,
            self.elapsed,
            self.text()
        )
    }
}

#[derive(Debug)]
pub enum ProcessError {
    Spawn {
        command: String,
        source: std::io::Error,
    },
    /// The call overran its deadline and was killed.
    TimedOut {
        command: String,
        after: Duration,
        output: String,
    },
    Wait {
        command: String,
        source: std::io::Error,
    },
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Spawn { command, source } => {
                write!(f, "cannot start `{command}`: {source}")
            }
            ProcessError::TimedOut {
                command,
                after,
                output,
            } => write!(
                f,
                "`{command}` did not finish within {after:?} and was killed; it printed:\n{output}"
            ),
            ProcessError::Wait { command, source } => {
                write!(f, "cannot wait for `{command}`: {source}")
            }
            ProcessError::Log { path, source } => {
                write!(f, "cannot open the log {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for ProcessError {}

/// `program arg arg...`, for messages.
pub fn command_line(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// How long output may keep flowing after the child has exited (a grandchild that inherited
/// the pipes could hold them open for ever; its output is then cut there).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Runs `cmd` to completion, feeding it `stdin` (or nothing). If it is still running after
/// `timeout`, its process group is killed (the child leads a group of its own, so anything it
/// started goes too). Output is read on threads so that a chatty child never blocks on a full
/// pipe; the child is always reaped.
pub fn run(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<CmdOutput, ProcessError> {
    let command = command_line(&cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    die_with_parent(&mut cmd);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
        command: command.clone(),
        source,
    })?;
    let pid = child.id();
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits without reading its input closes the pipe: not our error. The
        // thread ends when the write does, at the latest when the child is gone.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = Drain::start(child.stdout.take());
    let stderr = Drain::start(child.stderr.take());

    // The child is waited for on a thread, so the deadline is a plain channel timeout and the
    // PID stays valid (not reaped) until that thread's wait returns.
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    let timed_out = rx.recv_timeout(timeout).is_err();
    if timed_out {
        kill_group(pid);
    }
    let status = waiter.join().unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the thread waiting for the child panicked",
        ))
    });
    let elapsed = started.elapsed();
    let stdout = stdout.finish();
    let stderr = stderr.finish();
    let status = status.map_err(|source| ProcessError::Wait {
        command: command.clone(),
        source,
    })?;
    if timed_out {
        let mut output = String::from_utf8_lossy(&stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&stderr));
        return Err(ProcessError::TimedOut {
            command,
            after: timeout,
            output,
        });
    }
    Ok(CmdOutput {
        command,
        code: status.code(),
        stdout,
        stderr,
        elapsed,
    })
}

/// A pipe read to its end on a thread, into a buffer that can be taken at any time.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    fn start<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let sink = Arc::clone(&buf);
        thread::spawn(move || {
            if let Some(mut pipe) = pipe {
                let mut chunk = [0u8; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    sink.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend_from_slice(&chunk[..n]);
                }
            }
            let _ = tx.send(());
        });
        Drain { buf, done }
    }

    /// What was read, once the pipe closes or `DRAIN_GRACE` passes.
    fn finish(self) -> Vec<u8> {
        let _ = self.done.recv_timeout(DRAIN_GRACE);
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *buf)
    }
}

/// A long-running broker process (SC or SPU) whose stdout and stderr go to a log file.
/// Dropping it stops it, so a panicking test leaves no broker behind.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
    reaped: Option<ExitStatus>,
}

/// How a daemon ended when it was stopped.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// Whether SIGTERM was not enough and SIGKILL ended it.
    pub killed: bool,
    pub took: Duration,
}

impl Daemon {
    /// Starts `cmd`, appending its output to `log` (a restart keeps the earlier lines).
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Daemon, ProcessError> {
        let command = command_line(&cmd);
        let open = || {
            File::options()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|source| ProcessError::Log {
                    path: log.to_path_buf(),
                    source,
                })
        };
        let (out, err) = (open()?, open()?);
        let _ = writeln!(&out, "---- started: {command}");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|source| ProcessError::Spawn { command, source })?;
        Ok(Daemon {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
            reaped: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited (it is then reaped).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.reaped = Some(status);
            }
        }
        self.reaped
    }

    /// Sends SIGTERM to its PID, waits up to `grace`, then SIGKILL, and reaps it.
    pub fn stop(&mut self, grace: Duration) -> Result<Stopped, ProcessError> {
        let started = Instant::now();
        if self.exited().is_some() {
            return Ok(Stopped {
                killed: false,
                took: started.elapsed(),
            });
        }
        kill_pid(self.pid(), Signal::Term);
        while started.elapsed() < grace {
            if self.exited().is_some() {
                return Ok(Stopped {
                    killed: false,
                    took: started.elapsed(),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
        kill_pid(self.pid(), Signal::Kill);
        let status = self.child.wait().map_err(|source| ProcessError::Wait {
            command: self.name.clone(),
            source,
        })?;
        self.reaped = Some(status);
        Ok(Stopped {
            killed: true,
            took: started.elapsed(),
        })
    }

    /// Sends SIGKILL to its PID at once (a crash, as a test stages one) and reaps it.
    pub fn kill(&mut self) -> Result<ExitStatus, ProcessError> {
        if let Some(status) = self.exited() {
            return Ok(status);
        }
        kill_pid(self.pid(), Signal::Kill);
        let status = self.child.wait().map_err(|source| ProcessError::Wait {
            command: self.name.clone(),
            source,
        })?;
        self.reaped = Some(status);
        Ok(status)
    }

    /// The last `lines` lines of its log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.stop(Duration::from_secs(5));
    }
}

/// The last `lines` lines of a log file, without terminal colour codes.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| strip_ansi(&String::from_utf8_lossy(&b)))
        .unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Removes terminal colour sequences (`ESC [ ... m`), which the brokers' logs carry.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// SIGKILL to the process group that `pid` leads.
fn kill_group(pid: u32) {
    #[cfg(unix)]
    {
        let Ok(pgid) = libc::pid_t::try_from(pid) else {
            return;
        };
        // SAFETY: kill(2) has no memory-safety preconditions. The group is led by a child we
        // have not reaped yet, so its id cannot have been reused.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

fn kill_pid(pid: u32, signal: Signal) {
    #[cfg(unix)]
    {
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        // SAFETY: kill(2) has no memory-safety preconditions. The PID is that of a child we
        // have not reaped yet, so it cannot have been reused by another process.
        unsafe {
            libc::kill(pid, signal);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, signal);
    }
}

/// Asks Linux to SIGKILL the child when the thread that started it dies, so that a test
/// process killed from outside (a CI timeout's SIGKILL) does not leave brokers running.
/// The signal follows the spawning *thread*: start a cluster on a thread that outlives it.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec and only calls prctl(2),
        // which is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cmd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_removed_from_log_lines() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m hint";
        assert_eq!(strip_ansi(line), "2026 ERROR hint");
    }

    #[cfg(unix)]
    #[test]
    fn a_call_that_overruns_its_deadline_is_killed_and_reported() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30"]);
        let started = Instant::now();
        let err = run(cmd, None, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let ProcessError::TimedOut { output, .. } = err else {
            panic!("expected a timeout, got {err}")
        };
        assert_eq!(output, "started\n");
    }

    #[cfg(unix)]
    #[test]
    fn stdin_is_fed_and_both_streams_and_the_exit_code_come_back() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "cat; echo oops >&2; exit 3"]);
        let out = run(cmd, Some(b"line\n".to_vec()), Duration::from_secs(10)).unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, b"line\n");
        assert_eq!(out.stderr, b"oops\n");
        assert_eq!(out.text(), "line\noops\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_daemon_that_ignores_sigterm_is_killed_after_the_grace_period() {
        let log = std::env::temp_dir().join(format!("broker-daemon-{}.log", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' TERM; echo up; while :; do sleep 1; done"]);
        let mut daemon = Daemon::spawn("stubborn", cmd, &log).unwrap();
        thread::sleep(Duration::from_millis(200));
        assert!(daemon.exited().is_none());
        let stopped = daemon.stop(Duration::from_millis(300)).unwrap();
        assert!(stopped.killed);
        assert!(daemon.exited().is_some());
        assert!(daemon.log_tail(5).contains("up"), "{}", daemon.log_tail(5));
        let _ = std::fs::remove_file(&log);
    }
}
