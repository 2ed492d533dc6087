//! Test support shared by every test binary of the workspace: the wasm modules and fixtures,
//! built once per process with the same command a user runs (`cargo build-modules`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The policy modules this workspace ships, by crate name.
pub const POLICY_MODULES: &[&str] = &[
    "origin-tag",
    "loop-guard",
    "mirror-guard",
    "origin-strip",
    "mirror-policy",
];

/// Guest fixtures written against this workspace's ABI crate, built only for tests and benchmarks.
pub const FIXTURES: &[&str] = &["passthrough", "misbehave"];

/// Fixtures built with the official SDK. They are built in a cargo invocation of their own:
/// built together, cargo would unify features and hand the SDK's `std`-enabled `serde` to the
/// `no_std` policy modules, whose panic handler then clashes with std's.
pub const SDK_FIXTURES: &[&str] = &["sdk-hello"];

/// Fixtures also built for `wasm32-wasip1`, the target `smdk` uses by default.
pub const WASI_FIXTURES: &[&str] = &["sdk-hello"];

pub const WASM_PROFILE: &str = "wasm";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Directory holding the `.wasm` files built for `target` (e.g. `wasm32-unknown-unknown`).
pub fn modules_dir(target: &str) -> PathBuf {
    target_dir().join(target).join(WASM_PROFILE)
}

fn cargo_build(target: &str, packages: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "build",
        "--profile",
        WASM_PROFILE,
        "--target",
        target,
    ]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the wasm modules: {e}"));
    assert!(
        status.success(),
        "building the wasm modules for {target} failed; is the target installed? \
         run `rustup target add {target}`"
    );
}

/// Builds every module and fixture once per process; later calls return at once.
pub fn build_all() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let all: Vec<&str> = POLICY_MODULES.iter().chain(FIXTURES).copied().collect();
        cargo_build("wasm32-unknown-unknown", &all);
        cargo_build("wasm32-unknown-unknown", SDK_FIXTURES);
        cargo_build("wasm32-wasip1", WASI_FIXTURES);
    });
}

/// Path of the built module `name` (crate name, dashes allowed) for `wasm32-unknown-unknown`.
pub fn wasm_path(name: &str) -> PathBuf {
    build_all();
    let path =
        modules_dir("wasm32-unknown-unknown").join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.exists(),
        "module {name} was not built at {}",
        path.display()
    );
    path
}

/// Bytes of the built module `name` for `wasm32-unknown-unknown`.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Bytes of the fixture `name` built for `wasm32-wasip1`.
pub fn wasi_wasm(name: &str) -> Vec<u8> {
    build_all();
    let path = modules_dir("wasm32-wasip1").join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
