//! Resolving a step's `uses` to a module file: a path, or a name in the modules dir.

use std::path::{Path, PathBuf};

use crate::error::ChainFileError;

/// Where `cargo build-modules` puts this workspace's modules, relative to the workspace root.
pub const MODULES_SUBDIR: &str = "target/wasm32-unknown-unknown/wasm";

/// Whether `uses` names a module file by its extension: a .wasm binary or a .wat text.
pub fn is_module_file(uses: &str) -> bool {
    uses.ends_with(".wasm") || uses.ends_with(".wat")
}

/// Finds the .wasm a `uses` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleResolver {
    /// Folder of built modules searched by name.
    pub modules_dir: PathBuf,
}

impl Default for ModuleResolver {
    fn default() -> Self {
        Self::new(default_modules_dir())
    }
}

impl ModuleResolver {
    /// A resolver searching `modules_dir`.
    pub fn new(modules_dir: impl Into<PathBuf>) -> Self {
        Self {
            modules_dir: modules_dir.into(),
        }
    }

    /// Resolves `uses` relative to the current directory and the modules dir.
    pub fn resolve(&self, uses: &str) -> Result<PathBuf, ChainFileError> {
        self.resolve_from(uses, None)
    }

    /// Resolves `uses`: first as a path (against `base`, then the current directory), then
    /// as a name in the modules dir (names ending in .wasm or .wat are paths only). `group/name@version` is looked up as `name`, and a
    /// name may use dashes or underscores (`loop-guard` finds `loop_guard.wasm`).
    pub fn resolve_from(&self, uses: &str, base: Option<&Path>) -> Result<PathBuf, ChainFileError> {
        let mut searched = Vec::new();
        let as_path = Path::new(uses);
        let looks_like_path = is_module_file(uses)
            || uses.starts_with('.')
            || as_path.is_absolute()
            || (uses.contains(std::path::MAIN_SEPARATOR) && !uses.contains('@'));
        let mut candidates = Vec::new();
        if as_path.is_absolute() {
            candidates.push(as_path.to_path_buf());
        } else {
            if let Some(base) = base {
                candidates.push(base.join(as_path));
            }
            candidates.push(as_path.to_path_buf());
        }
        for c in &candidates {
            if c.is_file() {
                return Ok(c.clone());
            }
        }
        if looks_like_path {
            searched.extend(candidates);
        }
        if !is_module_file(uses) {
            let name = module_name(uses);
            let mut names = vec![name.to_string()];
            for alt in [name.replace('-', "_"), name.replace('_', "-")] {
                if !names.contains(&alt) {
                    names.push(alt);
                }
            }
            for n in names {
                let p = self.modules_dir.join(format!("{n}.wasm"));
                if p.is_file() {
                    return Ok(p);
                }
                searched.push(p);
            }
        }
        Err(ChainFileError::ModuleNotFound {
            name: uses.to_string(),
            searched,
            available: self.available(),
        })
    }

    /// Names of the .wasm files in the modules dir, sorted.
    pub fn available(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.modules_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
    }
}

/// The module name in a `uses`: `group/name@version` gives `name`.
pub fn module_name(uses: &str) -> &str {
    let without_version = uses.rsplit_once('@').map(|(n, _)| n).unwrap_or(uses);
    without_version
        .rsplit_once('/')
        .map(|(_, n)| n)
        .unwrap_or(without_version)
}

/// The default modules dir: this workspace's built modules (`target/wasm32-unknown-unknown/wasm`),
/// found under `CARGO_TARGET_DIR`, else up from the current directory, else next to the
/// `harness` binary (`target/debug/harness` -> `target/wasm32-unknown-unknown/wasm`). When
/// none exists yet, `target/wasm32-unknown-unknown/wasm` under the current directory.
pub fn default_modules_dir() -> PathBuf {
    let sub = Path::new("wasm32-unknown-unknown").join(crate::WASM_PROFILE);
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        let p = PathBuf::from(t).join(&sub);
        if p.is_dir() {
            return p;
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for dir in cwd.ancestors() {
        let p = dir.join(MODULES_SUBDIR);
        if p.is_dir() {
            return p;
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            let p = dir.join(&sub);
            if p.is_dir() {
                return p;
            }
        }
    }
    cwd.join(MODULES_SUBDIR)
}
