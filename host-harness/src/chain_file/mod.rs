//! Chain files: Fluvio's transforms file (what `fluvio consume --transforms-file` takes),
//! read with serde into typed steps, and each step's `uses` resolved to a module.
//!
//! ```yaml
//! transforms:
//!   - uses: loop-guard            # a name in the modules dir, or a path to a .wasm or .wat
//!     with:                       # params for init: strings; maps and lists become JSON
//!       cluster: east
//!   - uses: infinyon/dedup@0.1.0  # group/name@version maps to `dedup`
//!     lookback:
//!       last: 100
//!       age: 1h
//! ```
//!
//! Arrows go one way: [`crate::chain`] builds chains from what this module reads
//! ([`ModuleSpec`]); this module knows nothing of chains.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fluvio_smartmodule::dataplane::smartmodule::Lookback;

use crate::error::ChainFileError;

pub mod doc;
mod resolve;

pub use doc::{FileDoc, StepDoc, StepsDoc};
pub use resolve::{
    default_modules_dir, is_module_file, module_name, ModuleResolver, MODULES_SUBDIR,
};

use doc::{Key, LookbackDoc, Param, ParamsDoc, Text, Whole};

/// A module to put in a chain: its name, bytes and configuration.
#[derive(Debug, Clone, Default)]
pub struct ModuleSpec {
    /// Name used in reports and errors (the transforms file's `uses`).
    pub name: String,
    /// Where the bytes came from, if from a file.
    pub path: Option<PathBuf>,
    /// The module: .wasm bytes, or WAT text.
    pub wasm: Vec<u8>,
    /// Params for `init` (the transforms file's `with`).
    pub params: BTreeMap<String, String>,
    /// Lookback window (the transforms file's `lookback`).
    pub lookback: Option<Lookback>,
    /// Initial accumulator, for an aggregate.
    pub initial_accumulator: Vec<u8>,
}

impl ModuleSpec {
    /// A module from bytes.
    pub fn new(name: impl Into<String>, wasm: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            wasm: wasm.into(),
            ..Default::default()
        }
    }

    /// A module from a .wasm (or .wat) file, named after the file's stem.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ChainFileError> {
        let path = path.as_ref();
        let wasm = std::fs::read(path).map_err(|source| ChainFileError::ReadModule {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Self {
            name,
            path: Some(path.to_path_buf()),
            wasm,
            ..Default::default()
        })
    }

    /// Adds a param.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(key.into(), value.into());
        self
    }

    /// Sets the lookback window.
    pub fn lookback(mut self, lookback: Lookback) -> Self {
        self.lookback = Some(lookback);
        self
    }
}

/// One step of a transforms file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformStep {
    /// What the step uses: a module name or a path to a .wasm or .wat.
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
        let doc: FileDoc = serde_yaml::from_str(text).map_err(|e| ChainFileError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Self::from_doc(doc, path)
    }

    /// Checks a transforms file read with serde ([`FileDoc`]) and gives its steps.
    pub fn from_doc(doc: FileDoc, path: impl AsRef<Path>) -> Result<Self, ChainFileError> {
        let path = path.as_ref().to_path_buf();
        let parse_err = |message: String| ChainFileError::Parse {
            path: path.clone(),
            message,
        };
        let (transforms, unknown) = match doc {
            FileDoc::Map {
                transforms,
                unknown,
            } => (transforms, unknown),
            FileDoc::Not(kind) => {
                return Err(parse_err(format!(
                    "the top level is {}, not a map with a `transforms` list",
                    kind.describe()
                )))
            }
        };
        let mut warnings: Vec<String> = unknown
            .iter()
            .map(|k| {
                format!(
                    "{}: top-level key `{}` is not used (only `transforms` is)",
                    path.display(),
                    k.text()
                )
            })
            .collect();
        let steps = match transforms {
            None => return Err(parse_err("there is no `transforms` key".to_string())),
            Some(StepsDoc::Not(kind)) => {
                return Err(parse_err(format!(
                    "`transforms` is {}, not a list of steps",
                    kind.describe()
                )))
            }
            Some(StepsDoc::List(steps)) => steps,
        };
        let transforms = Self::steps(steps, &path, &mut warnings)?;
        Ok(Self {
            path,
            transforms,
            warnings,
        })
    }

    /// Checks the steps of a `transforms` list; `path` names the file in errors and
    /// warnings. An empty list is an error.
    pub fn steps(
        steps: Vec<StepDoc>,
        path: &Path,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<TransformStep>, ChainFileError> {
        if steps.is_empty() {
            return Err(ChainFileError::Empty {
                path: path.to_path_buf(),
            });
        }
        steps
            .into_iter()
            .enumerate()
            .map(|(index, step)| check_step(path, index + 1, step, warnings))
            .collect()
    }

    /// Resolves every step to a module spec, reading the module files. Relative paths in
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

/// Checks step number `n` (from 1).
fn check_step(
    path: &Path,
    n: usize,
    step: StepDoc,
    warnings: &mut Vec<String>,
) -> Result<TransformStep, ChainFileError> {
    let parse_err = |message: String| ChainFileError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let (uses, with, lookback, unknown) = match step {
        StepDoc::Map {
            uses,
            with,
            lookback,
            unknown,
        } => (uses, with, lookback, unknown),
        StepDoc::Not(kind) => {
            return Err(parse_err(format!(
                "transform #{n} is {}, not a map with `uses`",
                kind.describe()
            )))
        }
    };
    let uses = match uses {
        Some(Text::Is(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Text::Is(_)) => {
            return Err(parse_err(format!(
                "transform #{n}: `uses` is {}, expected a module name or a .wasm path",
                doc::Kind::String.describe()
            )))
        }
        Some(Text::Not(kind)) => {
            return Err(parse_err(format!(
                "transform #{n}: `uses` is {}, expected a module name or a .wasm path",
                kind.describe()
            )))
        }
        None => {
            return Err(parse_err(format!(
                "transform #{n} has no `uses` (the module to run)"
            )))
        }
    };
    let step_err = |message: String| ChainFileError::Step {
        path: path.to_path_buf(),
        index: n,
        uses: uses.clone(),
        message,
    };
    for key in &unknown {
        warnings.push(format!(
            "{}: transform #{n} ({uses}): key `{}` is not used (only uses, with, lookback are)",
            path.display(),
            key.text()
        ));
    }
    let with = match with {
        None | Some(ParamsDoc::Not(doc::Kind::Empty)) => BTreeMap::new(),
        Some(ParamsDoc::Not(kind)) => {
            return Err(step_err(format!(
                "`with` is {}, expected a map of params",
                kind.describe()
            )))
        }
        Some(ParamsDoc::Map(params)) => check_params(params, &step_err)?,
    };
    let lookback = match lookback {
        None | Some(LookbackDoc::Not(doc::Kind::Empty)) => None,
        Some(LookbackDoc::Not(kind)) => {
            return Err(step_err(format!(
                "`lookback` is {}, expected a map with `last` and/or `age`",
                kind.describe()
            )))
        }
        Some(LookbackDoc::Map { last, age, unknown }) => {
            for key in &unknown {
                warnings.push(format!(
                    "{}: transform #{n} ({uses}): lookback key `{}` is not used (only last, age are)",
                    path.display(),
                    key.text()
                ));
            }
            let last = match last {
                None => 0,
                Some(Whole::Is(n)) => n,
                Some(Whole::Not(kind)) => {
                    return Err(step_err(format!(
                        "`lookback.last` is {}, expected a whole number of records",
                        kind.describe()
                    )))
                }
            };
            let age = match age {
                None => None,
                Some(Text::Is(text)) => Some(parse_duration(&text).map_err(|e| {
                    step_err(format!(
                        "`lookback.age` {text:?}: {e} (use e.g. 30s, 15m, 1h)"
                    ))
                })?),
                Some(Text::Not(kind)) => {
                    return Err(step_err(format!(
                        "`lookback.age` is {}, expected a duration like 30s, 15m or 1h",
                        kind.describe()
                    )))
                }
            };
            Some(Lookback { last, age })
        }
    };
    Ok(TransformStep {
        uses,
        with,
        lookback,
    })
}

fn check_params(
    params: Vec<(Key, Param)>,
    step_err: &dyn Fn(String) -> ChainFileError,
) -> Result<BTreeMap<String, String>, ChainFileError> {
    let mut with = BTreeMap::new();
    for (key, value) in params {
        let key = match key {
            Key::Name(name) => name,
            Key::Other(text) => return Err(step_err(format!("`with` key {text} is not a string"))),
        };
        let value = match value {
            Param::Text(s) | Param::Json(s) => s,
            Param::Scalar(kind, text) => {
                return Err(step_err(format!(
                    "`with.{key}` is {}; quote it (\"{text}\"): Fluvio's transforms file \
                     takes strings, maps or lists as params",
                    kind.describe()
                )))
            }
            Param::Not(kind) => {
                return Err(step_err(format!(
                    "`with.{key}` is {}; params are strings, maps or lists",
                    kind.describe()
                )))
            }
        };
        with.insert(key, value);
    }
    Ok(with)
}

/// Parses a duration like Fluvio's `humantime` fields: `30s`, `15m`, `1h 30m`, `2days`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| e.to_string())
}
