//! Compiling a module (a .wasm binary, or WAT text), the cache of compiled modules keyed by
//! the SHA-256 of their bytes, and the checks of what the broker needs from a module: the
//! `copy_records` import, `memory`, `alloc`, a transform, and the signatures of its exports.

use std::borrow::Cow;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::{ExternType, FuncType, Module, ValType};

use crate::error::EngineError;

use super::{lock, Engine};

/// The transform a module exports, found in the broker's probe order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransformKind {
    Filter,
    Map,
    FilterMap,
    ArrayMap,
    Aggregate,
}

impl TransformKind {
    /// Probe order of the broker's engine.
    pub const PROBE_ORDER: [TransformKind; 5] = [
        TransformKind::Filter,
        TransformKind::Map,
        TransformKind::FilterMap,
        TransformKind::ArrayMap,
        TransformKind::Aggregate,
    ];

    /// Name of the exported function.
    pub fn export_name(self) -> &'static str {
        match self {
            TransformKind::Filter => "filter",
            TransformKind::Map => "map",
            TransformKind::FilterMap => "filter_map",
            TransformKind::ArrayMap => "array_map",
            TransformKind::Aggregate => "aggregate",
        }
    }
}

impl std::fmt::Display for TransformKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.export_name())
    }
}

/// Whether `bytes` read as WAT text rather than as something else entirely: after blanks and
/// `;;` line comments, the text opens a parenthesis (a module or a block comment).
pub fn looks_like_wat(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b";;") {
            rest = match rest.iter().position(|&b| b == b'\n') {
                Some(end) => &rest[end..],
                None => &[],
            };
            continue;
        }
        return rest.starts_with(b"(");
    }
}

impl Engine {
    /// Compiles `bytes` (or returns the cached compile of the same bytes) and checks it has
    /// what the broker needs: `memory`, `alloc`, a transform and the `copy_records` import.
    /// `bytes` is a .wasm binary or WAT text (as `wasmtime` and `wat` read it). `name` is only
    /// used in errors.
    pub fn compile(&self, name: &str, bytes: &[u8]) -> Result<CompiledModule, EngineError> {
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(found) = lock(&self.inner.modules).get(&hash) {
            return Ok(found.clone());
        }
        let binary: Cow<'_, [u8]> = if bytes.starts_with(b"\0asm") {
            Cow::Borrowed(bytes)
        } else if looks_like_wat(bytes) {
            wat::parse_bytes(bytes).map_err(|mut e| {
                e.set_path(name);
                EngineError::Wat {
                    module: name.to_string(),
                    message: e.to_string(),
                }
            })?
        } else {
            return Err(EngineError::NotWasm {
                module: name.to_string(),
            });
        };
        let module = Module::from_binary(&self.inner.wasmtime, &binary).map_err(|e| {
            EngineError::Compile {
                module: name.to_string(),
                message: format!("{e:#}"),
            }
        })?;
        let compiled = CompiledModule::check(name, module, hash, bytes.len())?;
        lock(&self.inner.modules).insert(hash, compiled.clone());
        Ok(compiled)
    }
}

/// A compiled, checked module. Cheap to clone.
#[derive(Clone)]
pub struct CompiledModule {
    pub(crate) inner: Arc<CompiledInner>,
}

pub(crate) struct CompiledInner {
    pub(crate) module: Module,
    hash: [u8; 32],
    size: usize,
    pub(crate) kind: TransformKind,
    has_init: bool,
    has_look_back: bool,
    pub(crate) copy_records_module: String,
    wasi: bool,
    memories: usize,
    tables: usize,
}

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("kind", &self.inner.kind)
            .field("size", &self.inner.size)
            .field("init", &self.inner.has_init)
            .field("look_back", &self.inner.has_look_back)
            .field("wasi", &self.inner.wasi)
            .field("memories", &self.inner.memories)
            .field("tables", &self.inner.tables)
            .finish()
    }
}

fn describe(ty: &FuncType) -> String {
    let list = |it: &mut dyn Iterator<Item = ValType>| {
        it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    format!(
        "({}) -> ({})",
        list(&mut ty.params()),
        list(&mut ty.results())
    )
}

fn is_i32s(it: impl ExactSizeIterator<Item = ValType>, n: usize) -> bool {
    it.len() == n && it.into_iter().all(|t| matches!(t, ValType::I32))
}

impl CompiledModule {
    fn check(name: &str, module: Module, hash: [u8; 32], size: usize) -> Result<Self, EngineError> {
        let copy_records_module = module
            .imports()
            .find(|i| i.name() == "copy_records")
            .map(|i| i.module().to_string())
            .ok_or_else(|| EngineError::MissingCopyRecords {
                module: name.to_string(),
            })?;
        let wasi = module.imports().any(|i| {
            i.module().starts_with("wasi_snapshot_preview1") || i.module() == "wasi_unstable"
        });

        let func_export = |export: &str, params: usize| -> Result<bool, EngineError> {
            match module.get_export(export) {
                None => Ok(false),
                Some(ExternType::Func(ty)) => {
                    if is_i32s(ty.params(), params) && is_i32s(ty.results(), 1) {
                        Ok(true)
                    } else {
                        Err(EngineError::BadSignature {
                            module: name.to_string(),
                            export: export.to_string(),
                            found: describe(&ty),
                            expected: format!("({}) -> (i32)", vec!["i32"; params].join(", ")),
                        })
                    }
                }
                Some(_) => Err(EngineError::BadSignature {
                    module: name.to_string(),
                    export: export.to_string(),
                    found: "a non-function export".to_string(),
                    expected: "a function".to_string(),
                }),
            }
        };

        if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
            return Err(EngineError::MissingExport {
                module: name.to_string(),
                export: "memory".to_string(),
                fix: "the host copies records through it; a Rust cdylib exports it unless \
                      the linker is told otherwise"
                    .to_string(),
            });
        }
        if !func_export("alloc", 1)? {
            return Err(EngineError::MissingExport {
                module: name.to_string(),
                export: "alloc".to_string(),
                fix: "export `alloc(len: i32) -> i32` returning a pointer to `len` free bytes \
                      (the SDK provides it)"
                    .to_string(),
            });
        }
        let mut kind = None;
        for k in TransformKind::PROBE_ORDER {
            if func_export(k.export_name(), 3)? {
                kind = Some(k);
                break;
            }
        }
        let kind = kind.ok_or_else(|| EngineError::NoTransform {
            module: name.to_string(),
        })?;
        let has_init = func_export("init", 3)?;
        let has_look_back = func_export("look_back", 3)?;
        let resources = module.resources_required();
        Ok(Self {
            inner: Arc::new(CompiledInner {
                hash,
                size,
                kind,
                has_init,
                has_look_back,
                copy_records_module,
                wasi,
                memories: resources.num_memories as usize,
                tables: resources.num_tables as usize,
                module,
            }),
        })
    }

    /// The transform the module exports.
    pub fn kind(&self) -> TransformKind {
        self.inner.kind
    }
    /// Whether it exports `init`.
    pub fn has_init(&self) -> bool {
        self.inner.has_init
    }
    /// Whether it exports `look_back`.
    pub fn has_look_back(&self) -> bool {
        self.inner.has_look_back
    }
    /// Whether it imports WASI preview1 functions (built for `wasm32-wasip1`).
    pub fn uses_wasi(&self) -> bool {
        self.inner.wasi
    }
    /// Size of the module as given (.wasm or WAT), in bytes.
    pub fn size(&self) -> usize {
        self.inner.size
    }
    /// SHA-256 of the bytes as given, the cache key.
    pub fn hash(&self) -> [u8; 32] {
        self.inner.hash
    }
    /// Linear memories it defines.
    pub fn memories(&self) -> usize {
        self.inner.memories
    }
    /// Tables it defines.
    pub fn tables(&self) -> usize {
        self.inner.tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wat_is_told_from_other_text() {
        assert!(looks_like_wat(b"(module)"));
        assert!(looks_like_wat(b"  ;; a probe\n\n(module (memory 1))"));
        assert!(looks_like_wat(b"(; block ;) (module)"));
        assert!(!looks_like_wat(b"transforms: []"));
        assert!(!looks_like_wat(b";; only a comment"));
        assert!(!looks_like_wat(b""));
    }
}
