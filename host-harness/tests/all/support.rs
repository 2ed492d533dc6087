//! Helpers shared by the modules of this binary: the fixtures as chain steps, the built
//! modules' folder, and the `harness` binary run as a user runs it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use host_harness::{Chain, ChainOptions, Engine, ModuleResolver, ModuleSpec, Record};

/// The `misbehave` fixture in `mode` (spin, grow, trap, pass, refuse, input, dedup).
pub fn misbehave(mode: &str) -> ModuleSpec {
    ModuleSpec::new("misbehave", integration::wasm("misbehave")).param("mode", mode)
}

/// A chain of `specs` with the default options, on the shared engine.
pub fn chain(specs: &[ModuleSpec]) -> Chain {
    Chain::new(&Engine::shared().unwrap(), specs, &ChainOptions::default()).unwrap()
}

/// The records' values, as text.
pub fn values(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_ref()).into_owned())
        .collect()
}

/// The folder of the built modules and fixtures (built first if need be).
pub fn modules_dir() -> PathBuf {
    integration::wasm_path("mirror-policy")
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A resolver over [`modules_dir`].
pub fn resolver() -> ModuleResolver {
    ModuleResolver::new(modules_dir())
}

/// Runs the `harness` binary with `args`, writing `stdin` to it.
pub fn harness(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run harness");
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command that reads its records from a file may be gone before it would read stdin.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
