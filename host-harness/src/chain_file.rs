//! Chain files: Fluvio's transforms file (what `fluvio consume --transforms-file` takes),
//! and resolving each step's `uses` to a local .wasm.
//!
//! ```yaml
//! transforms:
//!   - uses: loop-guard            # a name in the modules dir, or a path to a .wasm
//!     with:                       # params for init: strings; maps and lists become JSON
//!       cluster: east
//!   - uses: infinyon/dedup@0.1.0  # group/name@version maps to `dedup`
//!     lookback:
//!       last: 100
//!       age: 1h
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fluvio_smartmodule::dataplane::smartmodule::Lookback;
use serde_yaml::Value;

use crate::chain::ModuleSpec;
use crate::error::ChainFileError;

/// Where `cargo build-modules` puts this workspace's modules, relative to the workspace root.
pub const MODULES_SUBDIR: &str = "target/wasm32-unknown-unknown/wasm";

/// One step of a transforms file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformStep {
    /// What the step uses: a module name or a path to a .wasm.
    pub uses: String,
    /// Params for `init`, as strings (maps and lists are JSON-encoded, like Fluvio does).
    pub with: BTreeMap<String, String>,
    /// Lookback window.
    pub lookback: Option<Lookback>,
}

/// A parsed transforms file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFile {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its steps, in order.
    pub transforms: Vec<TransformStep>,
    /// Things Fluvio ignores silently but that are probably mistakes (unknown keys).
    pub warnings: Vec<String>,
}

impl ChainFile {
    /// Reads and parses a transforms file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ChainFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ChainFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a transforms file; `path` is used in errors and to resolve
    /// relative module paths.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, ChainFileError> {
        let path = path.as_ref().to_path_buf();
        let parse_err = |message: String| ChainFileError::Parse {
            path: path.clone(),
            message,
        };
        let doc: Value = serde_yaml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let Value::Mapping(top) = doc else {
            return Err(parse_err(format!(
                "the top level is {}, not a map with a `transforms` list",
                kind_of(&doc)
            )));
        };
        let mut warnings = Vec::new();
        let mut transforms_value = None;
        for (k, v) in &top {
            match k.as_str() {
                Some("transforms") => transforms_value = Some(v),
                other => warnings.push(format!(
                    "{}: top-level key `{}` is not used (only `transforms` is)",
                    path.display(),
                    other
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{k:?}"))
                )),
            }
        }
        let Some(list) = transforms_value else {
            return Err(parse_err("there is no `transforms` key".to_string()));
        };
        let Value::Sequence(list) = list else {
            return Err(parse_err(format!(
                "`transforms` is {}, not a list of steps",
                kind_of(list)
            )));
        };
        if list.is_empty() {
            return Err(ChainFileError::Empty { path });
        }
        let mut transforms = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            transforms.push(parse_step(&path, index, item, &mut warnings)?);
        }
        Ok(Self {
            path,
            transforms,
            warnings,
        })
    }

    /// Resolves every step to a module spec, reading the .wasm files. Relative paths in
    /// `uses` are tried against the chain file's folder first.
    pub fn resolve(&self, resolver: &ModuleResolver) -> Result<Vec<ModuleSpec>, ChainFileError> {
        let base = self.path.parent().map(Path::to_path_buf);
        self.transforms
            .iter()
            .map(|step| {
                let path = resolver.resolve_from(&step.uses, base.as_deref())?;
                let wasm = std::fs::read(&path).map_err(|source| ChainFileError::ReadModule {
                    path: path.clone(),
                    source,
                })?;
                Ok(ModuleSpec {
                    name: step.uses.clone(),
                    path: Some(path),
                    wasm,
                    params: step.with.clone(),
                    lookback: step.lookback.clone(),
                    initial_accumulator: Vec::new(),
                })
            })
            .collect()
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

fn parse_step(
    path: &Path,
    index: usize,
    item: &Value,
    warnings: &mut Vec<String>,
) -> Result<TransformStep, ChainFileError> {
    let n = index + 1;
    let Value::Mapping(map) = item else {
        return Err(ChainFileError::Parse {
            path: path.to_path_buf(),
            message: format!("transform #{n} is {}, not a map with `uses`", kind_of(item)),
        });
    };
    let uses = match map.get("uses") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(other) => {
            return Err(ChainFileError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "transform #{n}: `uses` is {}, expected a module name or a .wasm path",
                    kind_of(other)
                ),
            })
        }
        None => {
            return Err(ChainFileError::Parse {
                path: path.to_path_buf(),
                message: format!("transform #{n} has no `uses` (the module to run)"),
            })
        }
    };
    let step_err = |message: String| ChainFileError::Step {
        path: path.to_path_buf(),
        index: n,
        uses: uses.clone(),
        message,
    };
    for k in map.keys() {
        let known = matches!(k.as_str(), Some("uses" | "with" | "lookback"));
        if !known {
            warnings.push(format!(
                "{}: transform #{n} ({uses}): key `{}` is not used (only uses, with, lookback are)",
                path.display(),
                k.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"))
            ));
        }
    }
    let mut with = BTreeMap::new();
    match map.get("with") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(params)) => {
            for (k, v) in params {
                let Some(key) = k.as_str() else {
                    return Err(step_err(format!("`with` key {k:?} is not a string")));
                };
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Mapping(_) | Value::Sequence(_) => {
                        let json = serde_json::to_value(v).map_err(|e| {
                            step_err(format!("`with.{key}` cannot be turned into JSON: {e}"))
                        })?;
                        json.to_string()
                    }
                    Value::Number(_) | Value::Bool(_) => {
                        return Err(step_err(format!(
                            "`with.{key}` is {}; quote it (\"{}\"): Fluvio's transforms file \
                             takes strings, maps or lists as params",
                            kind_of(v),
                            scalar_text(v)
                        )))
                    }
                    other => {
                        return Err(step_err(format!(
                            "`with.{key}` is {}; params are strings, maps or lists",
                            kind_of(other)
                        )))
                    }
                };
                with.insert(key.to_string(), value);
            }
        }
        Some(other) => {
            return Err(step_err(format!(
                "`with` is {}, expected a map of params",
                kind_of(other)
            )))
        }
    }
    let lookback = match map.get("lookback") {
        None | Some(Value::Null) => None,
        Some(Value::Mapping(lb)) => {
            let mut last = 0u64;
            let mut age = None;
            for (k, v) in lb {
                match k.as_str() {
                    Some("last") => {
                        last = v.as_u64().ok_or_else(|| {
                            step_err(format!(
                                "`lookback.last` is {}, expected a whole number of records",
                                kind_of(v)
                            ))
                        })?;
                    }
                    Some("age") => {
                        let text = v.as_str().ok_or_else(|| {
                            step_err(format!(
                                "`lookback.age` is {}, expected a duration like 30s, 15m or 1h",
                                kind_of(v)
                            ))
                        })?;
                        age = Some(parse_duration(text).map_err(|e| {
                            step_err(format!("`lookback.age` {text:?}: {e} (use e.g. 30s, 15m, 1h)"))
                        })?);
                    }
                    other => warnings.push(format!(
                        "{}: transform #{n} ({uses}): lookback key `{}` is not used (only last, age are)",
                        path.display(),
                        other.map(str::to_string).unwrap_or_else(|| format!("{k:?}"))
                    )),
                }
            }
            Some(Lookback { last, age })
        }
        Some(other) => {
            return Err(step_err(format!(
                "`lookback` is {}, expected a map with `last` and/or `age`",
                kind_of(other)
            )))
        }
    };
    Ok(TransformStep {
        uses,
        with,
        lookback,
    })
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Parses a duration like Fluvio's `humantime` fields: `30s`, `15m`, `1h 30m`, `2days`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| e.to_string())
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
    /// as a name in the modules dir. `group/name@version` is looked up as `name`, and a
    /// name may use dashes or underscores (`loop-guard` finds `loop_guard.wasm`).
    pub fn resolve_from(&self, uses: &str, base: Option<&Path>) -> Result<PathBuf, ChainFileError> {
        let mut searched = Vec::new();
        let as_path = Path::new(uses);
        let looks_like_path = uses.ends_with(".wasm")
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
        if !uses.ends_with(".wasm") {
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
