//! Builds the policy modules as they ship: cargo's `wasm` profile for `wasm32-unknown-unknown`,
//! then binaryen's `wasm-opt`, which takes a sixth off every module. The broker compiles a
//! producer-side chain on every produce request, so each byte is start-up time.
//!
//! `cargo build-modules` (and `cargo build-modules-lean`, without MAC code) run the
//! `build-modules` binary; the test suites build through [`optimize`] as well, so that every
//! test loads the modules a user deploys.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

mod table;
pub use table::drop_dead_table;

/// The modules that ship, by crate name: the policy modules, then the observing ones.
pub const MODULES: [&str; 7] = [
    "origin-tag",
    "loop-guard",
    "mirror-guard",
    "origin-strip",
    "mirror-policy",
    "origin-stats",
    "origin-inspect",
];

/// The cargo profile modules are built with.
pub const PROFILE: &str = "wasm";

/// The target modules are built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The features Rust enables for `wasm32-unknown-unknown` by default: `wasm-opt` may keep and
/// use them, and no other (the broker's engine runs these).
const FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Why a build did not go through.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "cargo could not build the modules (is the target installed? `rustup target add {TARGET}`)"
    )]
    Cargo,
    #[error(
        "binaryen's wasm-opt is not installed, and the modules ship optimized by it: install it \
         (`apt-get install binaryen`, `brew install binaryen`, or `cargo install wasm-opt`), \
         set WASM_OPT to its path, or build without it (`cargo build-modules --no-opt`)"
    )]
    NoWasmOpt,
    #[error("{} is not a module wasm-opt can take: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("wasm-opt failed on {}: {stderr}", path.display())]
    WasmOpt { path: PathBuf, stderr: String },
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The workspace's target directory: `CARGO_TARGET_DIR`, else `target` under `root`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Where a build's `.wasm` files land: `target/wasm32-unknown-unknown/wasm`, or under
/// `target/lean` for the build without MAC code (a directory of its own, since the same crates
/// with other features would overwrite them).
pub fn out_dir(root: &Path, lean: bool) -> PathBuf {
    let target = target_dir(root);
    let base = if lean { target.join("lean") } else { target };
    base.join(TARGET).join(PROFILE)
}

/// Runs `cargo build` of `packages` for [`TARGET`] with the [`PROFILE`] profile, from the
/// workspace at `root`; `lean` builds them without default features, in `target/lean`.
pub fn cargo_build(root: &Path, packages: &[&str], lean: bool) -> Result<(), BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root)
        .args(["build", "--profile", PROFILE, "--target", TARGET]);
    if lean {
        let dir = target_dir(root).join("lean");
        cmd.arg("--no-default-features")
            .arg("--target-dir")
            .arg(dir);
    }
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd.status().map_err(|source| BuildError::Spawn {
        program: cargo.to_string_lossy().into_owned(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Cargo)
    }
}

/// The `wasm-opt` to run: `WASM_OPT` (when set and not empty), else the one on `PATH`.
pub fn wasm_opt() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WASM_OPT").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasm-opt"))
        .find(|p| p.is_file())
}

/// What [`optimize`] did to a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimized {
    /// Rewritten in place: `from` bytes as cargo linked it, `to` after.
    Now { from: u64, to: u64 },
    /// Already the output of `wasm-opt` (cargo did not copy it out again since).
    Already,
}

/// Optimizes the module at `wasm` in place with `wasm-opt -Os`. A stamp beside it (`.wasm-opt`)
/// holds the hash of the optimized bytes, so that a second call leaves them alone (optimizing
/// twice would change them); cargo copies the linked module out again on every build, and
/// that copy is optimized again (well under a second for all five).
pub fn optimize(wasm_opt: &Path, wasm: &Path) -> Result<Optimized, BuildError> {
    let stamp = wasm.with_extension("wasm-opt");
    let bytes = std::fs::read(wasm).map_err(io(wasm))?;
    let hash = hex(&Sha256::digest(&bytes));
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash) {
        return Ok(Optimized::Already);
    }
    // First the table only dead code calls through, which wasm-opt would keep.
    let input = match drop_dead_table(&bytes).map_err(|reason| BuildError::Read {
        path: wasm.to_path_buf(),
        reason,
    })? {
        Some(smaller) => {
            let pre = wasm.with_extension("pre.wasm");
            std::fs::write(&pre, smaller).map_err(io(&pre))?;
            pre
        }
        None => wasm.to_path_buf(),
    };
    let tmp = wasm.with_extension("opt.wasm");
    let out = Command::new(wasm_opt)
        .arg("-Os")
        .args(FEATURES)
        .arg(&input)
        .arg("-o")
        .arg(&tmp)
        .output()
        .map_err(|source| BuildError::Spawn {
            program: wasm_opt.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(BuildError::WasmOpt {
            path: wasm.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let optimized = std::fs::read(&tmp).map_err(io(&tmp))?;
    std::fs::rename(&tmp, wasm).map_err(io(wasm))?;
    std::fs::write(&stamp, hex(&Sha256::digest(&optimized)) + "\n").map_err(io(&stamp))?;
    Ok(Optimized::Now {
        from: bytes.len() as u64,
        to: optimized.len() as u64,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `.wasm` file cargo writes for crate `name` in `dir`.
pub fn wasm_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{}.wasm", name.replace('-', "_")))
}
