//! Test support shared by every test binary of the workspace: the wasm modules and fixtures,
//! built once per process as a user builds them (`cargo build-modules`: cargo, then binaryen's
//! wasm-opt), and tagged records as the modules write them.

pub mod machine;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The modules this workspace ships, by crate name: the policy modules, then the observing
/// ones (origin-stats, origin-inspect), which read provenance and decide nothing. The list
/// `cargo build-modules` builds.
pub const POLICY_MODULES: &[&str] = &build_modules::MODULES;

/// The modules of the produce path: [`POLICY_MODULES`] without the observing ones, which run
/// consumer side.
pub const PRODUCE_PATH_MODULES: &[&str] = &[
    "origin-tag",
    "loop-guard",
    "mirror-guard",
    "origin-strip",
    "mirror-policy",
];

/// Guest fixtures written against this workspace's ABI crate, built only for tests and benchmarks.
pub const FIXTURES: &[&str] = &["passthrough", "append", "misbehave"];

/// The fixtures that stand as floors in the benchmarks, optimized as the policy modules are so
/// that the comparison is of like with like.
pub const FLOOR_FIXTURES: &[&str] = &["passthrough", "append"];

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

/// Where `cargo build-modules-lean` puts the policy modules built without MAC code: a target
/// directory of its own, since the same crates with other features would overwrite them.
pub fn lean_modules_dir() -> PathBuf {
    target_dir()
        .join("lean")
        .join("wasm32-unknown-unknown")
        .join(WASM_PROFILE)
}

fn cargo_build(target: &str, packages: &[&str]) {
    cargo_build_with(target, packages, &[]);
}

fn cargo_build_with(target: &str, packages: &[&str], extra: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "build",
        "--profile",
        WASM_PROFILE,
        "--target",
        target,
    ]);
    cmd.args(extra);
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

/// Builds every module and fixture once per process; later calls return at once. The policy
/// modules and the floors ([`FLOOR_FIXTURES`]) go through wasm-opt, as `cargo build-modules` ships
/// them (a machine without wasm-opt fails here, saying how to install it).
pub fn build_all() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let all: Vec<&str> = POLICY_MODULES.iter().chain(FIXTURES).copied().collect();
        cargo_build("wasm32-unknown-unknown", &all);
        cargo_build("wasm32-unknown-unknown", SDK_FIXTURES);
        cargo_build("wasm32-wasip1", WASI_FIXTURES);
        let optimized: Vec<&str> = POLICY_MODULES
            .iter()
            .chain(FLOOR_FIXTURES)
            .copied()
            .collect();
        optimize_all(&modules_dir("wasm32-unknown-unknown"), &optimized);
    });
}

/// Runs wasm-opt on the modules `names` in `dir`, as `cargo build-modules` does.
fn optimize_all(dir: &Path, names: &[&str]) {
    let wasm_opt = build_modules::wasm_opt()
        .unwrap_or_else(|| panic!("{}", build_modules::BuildError::NoWasmOpt));
    for name in names {
        let path = build_modules::wasm_file(dir, name);
        build_modules::optimize(&wasm_opt, &path).unwrap_or_else(|e| panic!("{e}"));
    }
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

/// Bytes of the policy module `name` built without MAC code (`--no-default-features`, as
/// `cargo build-modules-lean` builds it). Built once per process, on first use.
pub fn lean_wasm(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = target_dir().join("lean");
        let dir = dir.to_string_lossy();
        cargo_build_with(
            "wasm32-unknown-unknown",
            POLICY_MODULES,
            &["--no-default-features", "--target-dir", &dir],
        );
        optimize_all(&lean_modules_dir(), POLICY_MODULES);
    });
    let path = lean_modules_dir().join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The timestamp of the records [`tagged`] tags, ms since the Unix epoch.
pub const TS: i64 = 1_700_000_000_000;

/// The record id a module gives `payload` produced on `origin` at [`TS`], offset 0, no key.
pub fn record_id(origin: &str, payload: &[u8]) -> [u8; 8] {
    origin::record_id(origin, TS, 0, None, payload)
}

/// `payload` tagged with `path` (origin first) at [`TS`], with the id a module without a
/// secret gives it, and sealed when `secret` is given (no scope, in the value of a record
/// without a key): a record as the modules of each cluster on the path left it.
pub fn tagged(path: &[&str], payload: &[u8], secret: Option<&str>) -> Vec<u8> {
    let mut env = origin::Envelope::new_origin(path[0], TS, record_id(path[0], payload))
        .expect("a valid origin");
    for hop in &path[1..] {
        env = env.with_hop(hop).expect("a valid hop");
    }
    if let Some(s) = secret {
        let key = origin::SealKey::new(s.as_bytes(), "").expect("a secret of 16 bytes or more");
        let bind = origin::Binding::of(origin::Carrier::Value, None, payload);
        env.seal(&key, &bind, payload);
    }
    origin::wrap(&env, payload)
}

/// Whether this run rewrites the golden files and documented outputs it checks (`BLESS=1`,
/// as wasmtime's `tests/disas` blesses its expectations) instead of comparing with them.
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// Where the text of the first fenced block (```) after the line holding `marker` is in
/// `doc`: from after its opening fence's line to the start of its closing fence.
pub fn fenced_block_after(doc: &str, marker: &str) -> Result<std::ops::Range<usize>, String> {
    let at = doc
        .find(marker)
        .ok_or_else(|| format!("no line holds {marker:?}"))?;
    let fence = doc[at..]
        .find("\n```")
        .ok_or_else(|| format!("no fenced block after {marker:?}"))?
        + at
        + 1;
    let start = doc[fence..]
        .find('\n')
        .ok_or_else(|| format!("the block after {marker:?} never opens"))?
        + fence
        + 1;
    let end = doc[start..]
        .find("\n```")
        .ok_or_else(|| format!("the block after {marker:?} is not closed"))?
        + start
        + 1;
    Ok(start..end)
}

/// Whether a module links MAC code: the first SHA-256 round constants are in it, as data
/// (little-endian words) or as `i32.const` immediates (opcode 0x41, signed LEB128).
pub fn has_mac_code(wasm: &[u8]) -> bool {
    const K: [u32; 4] = [0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5];
    let contains = |needle: &[u8]| wasm.windows(needle.len()).any(|w| w == needle);
    let as_data: Vec<u8> = K.iter().flat_map(|k| k.to_le_bytes()).collect();
    contains(&as_data)
        || K.iter().all(|&k| {
            let mut needle = vec![0x41];
            needle.extend(sleb128(k as i32 as i64));
            contains(&needle)
        })
}

/// Signed LEB128, as wasm encodes integer immediates.
fn sleb128(mut v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128() {
        assert_eq!(sleb128(0), [0x00]);
        assert_eq!(sleb128(63), [0x3f]);
        assert_eq!(sleb128(64), [0xc0, 0x00]);
        assert_eq!(sleb128(-1), [0x7f]);
        assert_eq!(sleb128(-128), [0x80, 0x7f]);
    }

    #[test]
    fn a_fenced_block_is_found_after_its_marker() {
        let doc = "intro\n```\nnot this\n```\nIt prints:\n\n```\nline 1\nline 2\n```\nafter\n";
        let block = fenced_block_after(doc, "It prints:").unwrap();
        assert_eq!(&doc[block], "line 1\nline 2\n");
        assert!(fenced_block_after(doc, "missing").is_err());
        assert!(fenced_block_after("It prints:\n```\nopen", "It prints:").is_err());
    }

    #[test]
    fn mac_code_is_seen_in_data_or_code() {
        assert!(!has_mac_code(b"\0asm plain"));
        let data: Vec<u8> = [0x428a_2f98u32, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5]
            .iter()
            .flat_map(|k| k.to_le_bytes())
            .collect();
        assert!(has_mac_code(&data));
        let mut code = Vec::new();
        for k in [0x428a_2f98u32, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5] {
            code.push(0x41);
            code.extend(sleb128(k as i32 as i64));
            code.push(0x6a);
        }
        assert!(has_mac_code(&code));
    }
}
