//! Where the Fluvio binaries come from: the directory named by `FLUVIO_BIN`, else `PATH`.
//!
//! A user who sets `FLUVIO_BIN` asked for the real-broker suite, so a wrong directory is an
//! error, never a skip. Without it, binaries missing from `PATH` only mean the suite cannot run.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable naming a directory that holds `fluvio` and `fluvio-run`.
pub const FLUVIO_BIN: &str = "FLUVIO_BIN";

/// The CLI and the broker binary (SC and SPU in one).
#[derive(Debug, Clone)]
pub struct FluvioBins {
    /// `fluvio`, the CLI.
    pub cli: PathBuf,
    /// `fluvio-run`, which runs the SC (`fluvio-run sc`) and the SPU (`fluvio-run spu`).
    pub run: PathBuf,
    /// Where they were found, for messages: `FLUVIO_BIN=...` or `PATH`.
    pub source: String,
}

impl FluvioBins {
    /// What `fluvio-run --version` prints, e.g. `fluvio-run 0.18.2-dev-1`.
    pub fn version(&self) -> Result<String, crate::ProcessError> {
        let mut cmd = std::process::Command::new(&self.run);
        cmd.arg("--version");
        let out = crate::process::run(cmd, None, std::time::Duration::from_secs(30))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// The outcome of looking for the binaries.
#[derive(Debug)]
pub enum Located {
    Found(FluvioBins),
    /// `FLUVIO_BIN` is unset and `PATH` lacks these binaries.
    NotOnPath {
        missing: Vec<&'static str>,
    },
}

/// `FLUVIO_BIN` is set but does not hold the binaries.
#[derive(Debug)]
pub struct LocateError {
    pub dir: PathBuf,
    pub missing: Vec<&'static str>,
}

impl fmt::Display for LocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let absolute = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone());
        write!(
            f,
            "{FLUVIO_BIN}={} does not hold an executable {} (looked in {}); point it at the \
             directory that holds both `fluvio` and `fluvio-run`, or unset it",
            self.dir.display(),
            self.missing.join(" and "),
            absolute.display()
        )
    }
}

impl std::error::Error for LocateError {}

const NAMES: [&str; 2] = ["fluvio", "fluvio-run"];

/// Finds the binaries: `FLUVIO_BIN` if it is set (an error if it lacks either one), else `PATH`.
pub fn locate() -> Result<Located, LocateError> {
    locate_in(
        std::env::var_os(FLUVIO_BIN).as_deref(),
        std::env::var_os("PATH").as_deref(),
    )
}

/// The binaries for a test suite; without them (`FLUVIO_BIN` unset, `PATH` lacking them),
/// `None` after one line on stderr, past the test harness's capture, saying that `suite` did
/// not run and how to run it, prefixed with `prefix:`. A `FLUVIO_BIN` that lacks them panics:
/// the run was asked for.
pub fn locate_for_suite(prefix: &str, suite: &str) -> Option<FluvioBins> {
    match locate() {
        Ok(Located::Found(bins)) => Some(bins),
        Ok(Located::NotOnPath { missing }) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr().lock(),
                "{prefix}: the {suite} did not run: {} not found on PATH; to run it, set \
                 {FLUVIO_BIN}=/path/to/dir (holding fluvio and fluvio-run) or put fluvio and \
                 fluvio-run on PATH",
                missing.join(" and ")
            );
            None
        }
        Err(e) => panic!("the {suite} cannot run: {e}"),
    }
}

fn locate_in(fluvio_bin: Option<&OsStr>, path: Option<&OsStr>) -> Result<Located, LocateError> {
    if let Some(dir) = fluvio_bin {
        let dir = PathBuf::from(dir);
        let found: Vec<Option<PathBuf>> = NAMES
            .iter()
            .map(|name| Some(dir.join(name)).filter(|p| is_executable(p)))
            .collect();
        return match (&found[0], &found[1]) {
            (Some(cli), Some(run)) => Ok(Located::Found(FluvioBins {
                cli: cli.clone(),
                run: run.clone(),
                source: format!("{FLUVIO_BIN}={}", dir.display()),
            })),
            _ => Err(LocateError {
                missing: missing(&found),
                dir,
            }),
        };
    }
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let found: Vec<Option<PathBuf>> = NAMES
        .iter()
        .map(|name| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p)))
        .collect();
    Ok(match (&found[0], &found[1]) {
        (Some(cli), Some(run)) => Located::Found(FluvioBins {
            cli: cli.clone(),
            run: run.clone(),
            source: "PATH".to_string(),
        }),
        _ => Located::NotOnPath {
            missing: missing(&found),
        },
    })
}

fn missing(found: &[Option<PathBuf>]) -> Vec<&'static str> {
    NAMES
        .iter()
        .zip(found)
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| *n)
        .collect()
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when the test ends.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Scratch {
        type Target = PathBuf;
        fn deref(&self) -> &PathBuf {
            &self.0
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("broker-bins-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    #[cfg(unix)]
    fn executable(dir: &Path, name: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_set_fluvio_bin_without_the_binaries_is_an_error_naming_what_is_missing() {
        let dir = scratch("empty");
        let err = locate_in(Some(dir.as_os_str()), None).unwrap_err();
        assert_eq!(err.missing, ["fluvio", "fluvio-run"]);
        assert!(err.to_string().contains("FLUVIO_BIN="), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_set_fluvio_bin_with_one_binary_names_the_other() {
        let dir = scratch("half");
        executable(&dir, "fluvio");
        std::fs::write(dir.join("fluvio-run"), "not executable").unwrap();
        let err = locate_in(Some(dir.as_os_str()), None).unwrap_err();
        assert_eq!(err.missing, ["fluvio-run"]);
    }

    #[cfg(unix)]
    #[test]
    fn path_is_searched_only_without_fluvio_bin() {
        let a = scratch("path-a");
        let b = scratch("path-b");
        executable(&a, "fluvio");
        executable(&b, "fluvio-run");
        let path = std::env::join_paths([&*a, &*b]).unwrap();
        let Located::Found(bins) = locate_in(None, Some(&path)).unwrap() else {
            panic!("both binaries are on PATH")
        };
        assert_eq!(bins.cli, a.join("fluvio"));
        assert_eq!(bins.run, b.join("fluvio-run"));

        let only_a = std::env::join_paths([&*a]).unwrap();
        let Located::NotOnPath { missing } = locate_in(None, Some(&only_a)).unwrap() else {
            panic!("fluvio-run is not on PATH")
        };
        assert_eq!(missing, ["fluvio-run"]);
        assert!(matches!(
            locate_in(None, None).unwrap(),
            Located::NotOnPath { .. }
        ));
    }
}
