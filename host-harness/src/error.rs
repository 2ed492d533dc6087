//! Typed errors of the harness. Every variant that concerns a module names it, and the
//! message says what to do about it.

use std::path::PathBuf;
use std::time::Duration;

use fluvio_smartmodule::dataplane::smartmodule::{
    SmartModuleLookbackRuntimeError, SmartModuleTransformRuntimeError,
};

/// Errors of loading, initialising and calling a module. None of them ends the process:
/// after a call error the module is re-instantiated for its next call.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    #[error("cannot set up the wasmtime engine: {message}")]
    Setup { message: String },

    #[error(
        "SmartModule API version {version} is not supported: use one of {min}..={max} \
         (the broker uses {default})",
        min = crate::MIN_VERSION,
        max = crate::MAX_VERSION,
        default = crate::DEFAULT_VERSION
    )]
    UnsupportedVersion { version: i16 },

    #[error(
        "module `{module}` is neither a wasm binary (it does not start with \\0asm) nor WAT \
         text (it does not start with `(`); build it with `cargo build --target \
         wasm32-unknown-unknown` and pass the .wasm file, or pass a .wat module"
    )]
    NotWasm { module: String },

    #[error("module `{module}` is WAT text that does not parse: {message}")]
    Wat { module: String, message: String },

    #[error("module `{module}` does not compile: {message}")]
    Compile { module: String, message: String },

    #[error(
        "module `{module}` does not import `copy_records`, so it cannot hand records back \
         (the broker refuses it too); import `env.copy_records(i32, i32)` or build it with \
         the SmartModule SDK"
    )]
    MissingCopyRecords { module: String },

    #[error("module `{module}` does not export `{export}`: {fix}")]
    MissingExport {
        module: String,
        export: String,
        fix: String,
    },

    #[error(
        "module `{module}` exports no transform: export one of filter, map, filter_map, \
         array_map or aggregate as (i32, i32, i32) -> i32 (the SDK does this for \
         #[smartmodule(filter)] and the like)"
    )]
    NoTransform { module: String },

    #[error("module `{module}`: export `{export}` has type {found}, expected {expected}")]
    BadSignature {
        module: String,
        export: String,
        found: String,
        expected: String,
    },

    #[error(
        "module `{module}` cannot be instantiated: {message}; a SmartModule may import only \
         `copy_records` and WASI preview1 functions"
    )]
    Instantiate { module: String, message: String },

    #[error("module `{module}` refused its params at init: {hint}")]
    Init { module: String, hint: String },

    #[error("module `{module}` failed at init with status {status}: {meaning}")]
    InitStatus {
        module: String,
        status: i32,
        meaning: String,
    },

    #[error("module `{module}` returned error status {status}: {meaning}")]
    Status {
        module: String,
        status: i32,
        meaning: String,
    },

    #[error("module `{module}` look_back refused a record: {error}")]
    LookBack {
        module: String,
        error: Box<SmartModuleLookbackRuntimeError>,
    },

    #[error(
        "module `{module}` ran out of fuel ({fuel} units in one call): it loops or does too \
         much work per batch; raise the budget with --fuel if the work is legitimate"
    )]
    OutOfFuel { module: String, fuel: u64 },

    #[error(
        "module `{module}` did not return within {timeout:?}: it loops or blocks; raise the \
         limit with --timeout if the work is legitimate"
    )]
    Timeout { module: String, timeout: Duration },

    #[error(
        "module `{module}` tried to grow its memory to {requested} bytes, over the limit of \
         {limit} bytes; raise it with --memory if the batch really needs it"
    )]
    MemoryLimit {
        module: String,
        requested: usize,
        limit: usize,
    },

    #[error(
        "module `{module}` tried to grow its tables to {requested} elements, over the limit of \
         {limit} elements; raise it with --table-elements if the module really needs it"
    )]
    TableLimit {
        module: String,
        requested: usize,
        limit: usize,
    },

    #[error(
        "module `{module}` defines too many {resource}: {count}, over the limit of {limit}; a \
         SmartModule needs one memory and one table (raise it with {flag})",
        flag = resource.flag()
    )]
    ResourceCount {
        module: String,
        resource: crate::engine::Resource,
        count: usize,
        limit: usize,
    },

    #[error(
        "module `{module}` handed back {records} record(s) taking {bytes} bytes of host memory, \
         which with its {memories} bytes of linear memory is over the memory limit of {limit} \
         bytes; raise it with --memory if the batch really needs it"
    )]
    OutputLimit {
        module: String,
        records: usize,
        bytes: usize,
        memories: usize,
        limit: usize,
    },

    #[error(
        "module `{module}` recursed past the wasm stack limit of {limit} bytes: it recurses \
         without end, or too deeply for a SmartModule"
    )]
    StackOverflow { module: String, limit: usize },

    #[error(
        "module `{module}` called WASI `{call}`, which would block the host out of reach of \
         the wall-time limit; a SmartModule must not sleep or wait"
    )]
    Blocking { module: String, call: &'static str },

    #[error(
        "module `{module}` returned pointer {ptr} from alloc({len}), but its memory is {memory} \
         bytes: the input would not fit there; alloc must return `len` free bytes inside \
         `memory`"
    )]
    AllocOutOfBounds {
        module: String,
        ptr: i32,
        len: i32,
        memory: usize,
    },

    #[error(
        "module `{module}` passed copy_records({ptr}, {len}), a range outside its memory of \
         {memory} bytes; pass the pointer and length of the encoded output"
    )]
    CopyRecordsRange {
        module: String,
        ptr: i32,
        len: i32,
        memory: usize,
    },

    #[error(
        "module `{module}` returned without calling copy_records, so there is no {what}; \
         hand the encoded output to `env.copy_records(ptr, len)` before returning"
    )]
    NoOutput { module: String, what: &'static str },

    #[error(
        "module `{module}` handed back a {what} whose {field} claims {claimed} bytes with only \
         {left} left; the output is malformed"
    )]
    OutputLength {
        module: String,
        what: &'static str,
        field: &'static str,
        claimed: i64,
        left: usize,
    },

    #[error("module `{module}` trapped: {message}")]
    Trap {
        module: String,
        message: String,
        /// The wasm backtrace wasmtime gave, if any (function names when the module has them).
        backtrace: String,
    },

    #[error("module `{module}` {problem}")]
    Abi { module: String, problem: String },

    #[error("cannot encode the input of module `{module}`: {message}")]
    Encode { module: String, message: String },

    #[error(
        "module `{module}` handed back bytes that do not decode as {what}: {message}; \
         is it built against a different SmartModule API version (try --version)?"
    )]
    Decode {
        module: String,
        what: &'static str,
        message: String,
    },
}

impl EngineError {
    /// The module the error concerns, if it concerns one.
    pub fn module(&self) -> Option<&str> {
        match self {
            EngineError::Setup { .. } | EngineError::UnsupportedVersion { .. } => None,
            EngineError::NotWasm { module }
            | EngineError::Wat { module, .. }
            | EngineError::Compile { module, .. }
            | EngineError::MissingCopyRecords { module }
            | EngineError::MissingExport { module, .. }
            | EngineError::NoTransform { module }
            | EngineError::BadSignature { module, .. }
            | EngineError::Instantiate { module, .. }
            | EngineError::Init { module, .. }
            | EngineError::InitStatus { module, .. }
            | EngineError::Status { module, .. }
            | EngineError::LookBack { module, .. }
            | EngineError::OutOfFuel { module, .. }
            | EngineError::Timeout { module, .. }
            | EngineError::MemoryLimit { module, .. }
            | EngineError::TableLimit { module, .. }
            | EngineError::ResourceCount { module, .. }
            | EngineError::OutputLimit { module, .. }
            | EngineError::StackOverflow { module, .. }
            | EngineError::Blocking { module, .. }
            | EngineError::AllocOutOfBounds { module, .. }
            | EngineError::CopyRecordsRange { module, .. }
            | EngineError::NoOutput { module, .. }
            | EngineError::OutputLength { module, .. }
            | EngineError::Trap { module, .. }
            | EngineError::Abi { module, .. }
            | EngineError::Encode { module, .. }
            | EngineError::Decode { module, .. } => Some(module),
        }
    }

    /// Whether the error happened while running a call (a limit, a trap, a bad status or
    /// bad output), as opposed to loading or initialising the module.
    pub fn is_call_failure(&self) -> bool {
        matches!(
            self,
            EngineError::Status { .. }
                | EngineError::OutOfFuel { .. }
                | EngineError::Timeout { .. }
                | EngineError::MemoryLimit { .. }
                | EngineError::TableLimit { .. }
                | EngineError::OutputLimit { .. }
                | EngineError::StackOverflow { .. }
                | EngineError::Blocking { .. }
                | EngineError::AllocOutOfBounds { .. }
                | EngineError::CopyRecordsRange { .. }
                | EngineError::NoOutput { .. }
                | EngineError::OutputLength { .. }
                | EngineError::Trap { .. }
                | EngineError::Abi { .. }
                | EngineError::Encode { .. }
                | EngineError::Decode { .. }
        )
    }
}

/// A module's runtime error (`SmartModuleTransformRuntimeError`): the module refused a record,
/// so the broker refuses the whole write. Displays like the producer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    /// Name of the module that refused.
    pub module: String,
    /// The error exactly as the module encoded it.
    pub error: Box<SmartModuleTransformRuntimeError>,
}

impl RuntimeError {
    /// The module's hint (its own words).
    pub fn hint(&self) -> &str {
        &self.error.hint
    }
    /// Absolute offset of the refused record.
    pub fn offset(&self) -> i64 {
        self.error.offset
    }
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "module `{}`: {}", self.module, self.error)
    }
}

impl std::error::Error for RuntimeError {}

/// Errors of reading a chain file and resolving its modules.
#[derive(thiserror::Error, Debug)]
pub enum ChainFileError {
    #[error("cannot read chain file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("chain file {}: {}", path.display(), self.detail())]
    Parse { path: PathBuf, message: String },

    #[error("chain file {}: {}", path.display(), self.detail())]
    Empty { path: PathBuf },

    #[error("chain file {}: {}", path.display(), self.detail())]
    Step {
        path: PathBuf,
        index: usize,
        uses: String,
        message: String,
    },

    #[error("{}", module_not_found(name, searched, available))]
    ModuleNotFound {
        name: String,
        searched: Vec<PathBuf>,
        available: Vec<String>,
    },

    #[error("cannot read module {}: {source}", path.display())]
    ReadModule {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ChainFileError {
    /// The message without its `chain file PATH:` prefix, for a caller that names the file
    /// itself (a topology's `transforms`, which has no file of its own).
    pub fn detail(&self) -> String {
        match self {
            ChainFileError::Parse { message, .. } => format!(
                "{message}\n  expected Fluvio's transforms file, e.g.\n  transforms:\n    - uses: \
                 loop-guard\n      with:\n        cluster: east\n"
            ),
            ChainFileError::Empty { .. } => {
                "`transforms` is empty; list at least one module".to_string()
            }
            ChainFileError::Step {
                index,
                uses,
                message,
                ..
            } => format!("transform #{index} ({uses}): {message}"),
            ChainFileError::Read { .. }
            | ChainFileError::ModuleNotFound { .. }
            | ChainFileError::ReadModule { .. } => self.to_string(),
        }
    }
}

fn module_not_found(name: &str, searched: &[PathBuf], available: &[String]) -> String {
    let mut s = format!("module `{name}` not found; looked for");
    for p in searched {
        s.push_str(&format!("\n  {}", p.display()));
    }
    if available.is_empty() {
        s.push_str(
            "\nno .wasm modules are available there: build them with `cargo build-modules`, \
             or pass --modules-dir DIR or a path to a .wasm file",
        );
    } else {
        s.push_str(&format!("\navailable: {}", available.join(", ")));
    }
    s
}

/// Errors of reading input records.
#[derive(thiserror::Error, Debug)]
pub enum InputError {
    #[error("cannot read input {name}: {source}")]
    Read {
        name: String,
        source: std::io::Error,
    },
    #[error("input {name} line {line}: {message}")]
    Line {
        name: String,
        line: usize,
        message: String,
    },
}

/// Anything that can go wrong building a chain from a file.
#[derive(thiserror::Error, Debug)]
pub enum HarnessError {
    #[error(transparent)]
    ChainFile(#[from] ChainFileError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Input(#[from] InputError),
}
