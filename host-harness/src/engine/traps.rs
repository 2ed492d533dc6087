//! Turning wasmtime's errors into typed [`EngineError`]s that name the module and the limit.
//!
//! wasmtime reports a call's failure as an `anyhow::Error` carrying a [`wasmtime::Trap`] code,
//! an error a host function returned, or the limiter's refusal. Each is told apart by its
//! type (downcast), never by its text.

use std::time::Duration;

use crate::error::EngineError;

use super::limits::{LimitExceeded, Limits, MAX_WASM_STACK};

/// Errors the harness's own host functions end a call with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostRefusal {
    /// The module called a WASI function that would block the thread, out of reach of the
    /// wall-time limit.
    #[error("the module called WASI `{call}`, which would block")]
    Blocking { call: &'static str },
}

/// Turns a wasmtime error from a call into the typed error naming the module.
pub(crate) fn classify(module: &str, limits: &Limits, err: anyhow::Error) -> EngineError {
    let module = module.to_string();
    if let Some(exceeded) = err.downcast_ref::<LimitExceeded>() {
        return match *exceeded {
            LimitExceeded::Memory { requested, limit } => EngineError::MemoryLimit {
                module,
                requested,
                limit,
            },
            LimitExceeded::Table { requested, limit } => EngineError::TableLimit {
                module,
                requested,
                limit,
            },
        };
    }
    if let Some(refusal) = err.downcast_ref::<HostRefusal>() {
        return match refusal {
            HostRefusal::Blocking { call } => EngineError::Blocking { module, call },
        };
    }
    let backtrace = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string())
        .unwrap_or_default();
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::OutOfFuel => EngineError::OutOfFuel {
                module,
                fuel: limits.fuel_budget(),
            },
            wasmtime::Trap::Interrupt => EngineError::Timeout {
                module,
                timeout: limits.timeout.unwrap_or(Duration::MAX),
            },
            wasmtime::Trap::StackOverflow => EngineError::StackOverflow {
                module,
                limit: MAX_WASM_STACK,
            },
            other => EngineError::Trap {
                module,
                message: other.to_string(),
                backtrace,
            },
        };
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return EngineError::Trap {
            module,
            message: format!("the module called proc_exit({})", exit.0),
            backtrace,
        };
    }
    // Anything else (a host function's error): the innermost cause says what happened.
    let message = err.root_cause().to_string();
    EngineError::Trap {
        module,
        message,
        backtrace,
    }
}

/// The same for instantiation (the start function, and the store's own checks): a plain trap
/// there is an [`EngineError::Instantiate`], a limit stays the limit.
pub(crate) fn classify_instantiation(
    module: &str,
    limits: &Limits,
    err: anyhow::Error,
) -> EngineError {
    match classify(module, limits, err) {
        EngineError::Trap {
            module, message, ..
        } => EngineError::Instantiate { module, message },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_traps_are_told_apart_by_type() {
        let limits = Limits::default();
        let c = |e: anyhow::Error| classify("m", &limits, e);
        assert!(matches!(
            c(LimitExceeded::Table {
                requested: 5,
                limit: 4
            }
            .into()),
            EngineError::TableLimit {
                requested: 5,
                limit: 4,
                ..
            }
        ));
        assert!(matches!(
            c(wasmtime::Trap::OutOfFuel.into()),
            EngineError::OutOfFuel { .. }
        ));
        assert!(matches!(
            c(wasmtime::Trap::StackOverflow.into()),
            EngineError::StackOverflow { .. }
        ));
        assert!(matches!(
            c(HostRefusal::Blocking {
                call: "poll_oneoff"
            }
            .into()),
            EngineError::Blocking {
                call: "poll_oneoff",
                ..
            }
        ));
        // A message that merely reads like a limit is not one.
        assert!(matches!(
            c(anyhow::anyhow!("out of fuel")),
            EngineError::Trap { .. }
        ));
    }
}
