//! `cargo build-modules [--lean] [--no-opt] [--require-opt]`: the policy modules as they ship,
//! in `target/wasm32-unknown-unknown/wasm/` (`target/lean/...` with `--lean`).

use std::path::Path;
use std::process::ExitCode;

use build_modules::{cargo_build, optimize, out_dir, wasm_file, wasm_opt, BuildError, Optimized};

const HELP: &str = "\
Builds the policy modules as they ship: cargo's `wasm` profile, then binaryen's wasm-opt -Os.

Usage: cargo build-modules [--lean] [--no-opt] [--require-opt]

  --lean         without MAC code (no `secret` param): target/lean/wasm32-unknown-unknown/wasm/
  --no-opt       skip wasm-opt (a sixth larger, slower to compile per produce request)
  --require-opt  fail when wasm-opt is not installed, instead of warning (for release builds)

The modules land in target/wasm32-unknown-unknown/wasm/ (target/lean/... with --lean).
wasm-opt is taken from WASM_OPT, else PATH; without it the modules are built unoptimized, with
a warning, and behave the same.

Exit codes: 0 built, 1 usage, 2 the build or wasm-opt failed, 3 --require-opt and no wasm-opt";

fn main() -> ExitCode {
    let mut lean = false;
    let mut opt = true;
    let mut require = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--lean" => lean = true,
            "--no-opt" => opt = false,
            "--require-opt" => require = true,
            "-h" | "--help" => {
                println!("{HELP}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("error: unknown argument {other:?}\n\n{HELP}");
                return ExitCode::from(1);
            }
        }
    }
    match run(lean, opt, require) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                BuildError::NoWasmOpt => 3,
                _ => 2,
            })
        }
    }
}

fn run(lean: bool, opt: bool, require: bool) -> Result<(), BuildError> {
    // The workspace root: this crate lives in smartmodules/build.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."));
    let wasm_opt = match (opt, wasm_opt()) {
        (true, Some(path)) => Some(path),
        (true, None) if require => return Err(BuildError::NoWasmOpt),
        (true, None) => {
            eprintln!(
                "warning: {}; building them unoptimized",
                BuildError::NoWasmOpt
            );
            None
        }
        (false, _) => None,
    };
    cargo_build(root, &build_modules::MODULES, lean)?;
    let dir = out_dir(root, lean);
    for name in build_modules::MODULES {
        let path = wasm_file(&dir, name);
        let line = match &wasm_opt {
            None => format!("{} bytes (not optimized)", size(&path)),
            Some(w) => match optimize(w, &path)? {
                Optimized::Now { from, to } => format!("{to} bytes (wasm-opt: {from} -> {to})"),
                Optimized::Already => format!("{} bytes (optimized)", size(&path)),
            },
        };
        eprintln!("{:>14} {}: {line}", name, path.display());
    }
    Ok(())
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
