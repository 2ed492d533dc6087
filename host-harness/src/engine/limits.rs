//! Limits as data, and the `ResourceLimiter` that enforces the ones wasmtime asks a host about.
//!
//! Every resource a module can make the host spend has a limit here:
//!
//! | resource | limit | enforced by |
//! |---|---|---|
//! | CPU | [`Limits::fuel`] per call | wasmtime fuel metering ([`wasmtime::Trap::OutOfFuel`]) |
//! | wall time | [`Limits::timeout`] per call | epoch interruption ([`wasmtime::Trap::Interrupt`]) |
//! | linear memory | [`Limits::memory`], all memories together, plus the decoded output | [`Limiter::memory_growing`] and the output check |
//! | table elements | [`Limits::table_elements`], all tables together | [`Limiter::table_growing`] |
//! | instances, tables, memories | [`Limits::instances`], [`Limits::tables`], [`Limits::memories`] | a check of the compiled module before instantiation, and the store's counts |
//! | wasm stack | [`MAX_WASM_STACK`] (the engine's, fixed) | wasmtime ([`wasmtime::Trap::StackOverflow`]) |
//!
//! Memory is counted over all memories because wasmtime 34 enables multi-memory and memory64,
//! and so does the broker's engine: the harness keeps both on, so it compiles exactly what
//! the broker compiles, and caps what they can cost instead.

use std::time::Duration;

use wasmtime::{ResourceLimiter, Store};

use super::EPOCH_TICK;

/// Fuel a call may burn by default: 10^10 units (about one per wasm instruction), several
/// seconds of CPU. The official SDK's hello-world filter needs under 10^4 per record, so a
/// 10,000-record batch stays under 10^8; only a runaway loop gets near the default.
pub const DEFAULT_FUEL: u64 = 10_000_000_000;
/// Wall time a call may take by default, enforced by epoch interruption.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a module's linear memories may grow to by default, all together: the broker's store
/// limit (1 GB).
pub const DEFAULT_MEMORY: usize = 1_000_000_000;
/// Table elements a module may have by default, over all its tables: far above what compiled
/// code uses (one entry per function whose address is taken), and 8 MB of host memory at most.
pub const DEFAULT_TABLE_ELEMENTS: usize = 1_000_000;
/// Linear memories a module may define by default. The Fluvio ABI uses one (`memory`).
pub const DEFAULT_MEMORIES: usize = 16;
/// Tables a module may define by default. Compilers emit one.
pub const DEFAULT_TABLES: usize = 16;
/// Instances per module: each module runs in a store of its own, and a core module is one
/// instance.
pub const DEFAULT_INSTANCES: usize = 1;
/// What the broker tops fuel up to before each call (`i64::MAX / 2`): no real limit.
pub const BROKER_FUEL: u64 = i64::MAX as u64 / 2;
/// wasmtime's default count limit of instances, tables and memories per store: what the
/// broker applies.
pub const WASMTIME_COUNT_LIMIT: usize = 10_000;
/// Deepest wasm stack a call may use, in bytes (wasmtime's default, set explicitly so it is
/// documented): deeper recursion ends with [`crate::EngineError::StackOverflow`].
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// Resource limits applied to a module: per call (fuel, wall time) and for its whole instance
/// (memory, tables, counts).
///
/// `None` disables a limit. Fuel and time are a budget per call of [`crate::ModuleInstance`]:
/// instantiating the module, its `init`, its `look_back` and its transform each draw on the
/// budget of the call that needs them (see [`crate::ModuleInstance`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel budget per call.
    pub fuel: Option<u64>,
    /// Wall time per call.
    pub timeout: Option<Duration>,
    /// Bytes of all linear memories together; the records a call hands back count too, from
    /// when they are decoded.
    pub memory: Option<usize>,
    /// Elements of all tables together.
    pub table_elements: Option<usize>,
    /// Instances in the module's store.
    pub instances: usize,
    /// Tables the module may define.
    pub tables: usize,
    /// Linear memories the module may define.
    pub memories: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: Some(DEFAULT_FUEL),
            timeout: Some(DEFAULT_TIMEOUT),
            memory: Some(DEFAULT_MEMORY),
            table_elements: Some(DEFAULT_TABLE_ELEMENTS),
            instances: DEFAULT_INSTANCES,
            tables: DEFAULT_TABLES,
            memories: DEFAULT_MEMORIES,
        }
    }
}

impl Limits {
    /// The limits the broker applies: no fuel or time limit, 1 GB of memory per linear
    /// memory (the harness counts it over all of them), no table limit, wasmtime's counts.
    pub fn broker() -> Self {
        Self {
            fuel: None,
            timeout: None,
            memory: Some(DEFAULT_MEMORY),
            table_elements: None,
            instances: WASMTIME_COUNT_LIMIT,
            tables: WASMTIME_COUNT_LIMIT,
            memories: WASMTIME_COUNT_LIMIT,
        }
    }

    /// Fuel given to a call.
    pub(crate) fn fuel_budget(&self) -> u64 {
        self.fuel.unwrap_or(BROKER_FUEL)
    }

    /// Epoch ticks of a call's deadline.
    pub(crate) fn epoch_ticks(&self) -> u64 {
        match self.timeout {
            // One more tick than the timeout holds: the first tick may come at once.
            Some(t) => (t.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) as u64).max(1) + 1,
            None => u64::MAX / 4,
        }
    }
}

/// A count limit: what [`crate::EngineError::ResourceCount`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Instances,
    Tables,
    Memories,
}

impl Resource {
    /// The `harness test` flag that raises it, if there is one.
    pub fn flag(self) -> &'static str {
        match self {
            Resource::Instances => "(no flag: a SmartModule is one instance)",
            Resource::Tables => "--tables",
            Resource::Memories => "--memories",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Instances => "instances",
            Resource::Tables => "tables",
            Resource::Memories => "linear memories",
        })
    }
}

/// Why the limiter refused a growth; travels inside wasmtime's error and is turned into an
/// [`crate::EngineError`] by the trap classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitExceeded {
    #[error("memory growth to {requested} bytes refused (limit {limit} bytes)")]
    Memory { requested: usize, limit: usize },
    #[error("table growth to {requested} elements refused (limit {limit} elements)")]
    Table { requested: usize, limit: usize },
}

/// The store's `ResourceLimiter`: keeps the running totals of memory bytes and table
/// elements over all memories and tables of the instance, and refuses a growth that would
/// take a total past its limit with an error, so the call ends (as the broker's limiter does
/// for memory) instead of the module seeing `-1` and carrying on.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    memory_in_use: usize,
    table_elements_in_use: usize,
    /// The last granted growths, taken back if wasmtime then fails to grow.
    memory_granted: usize,
    table_granted: usize,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            memory_in_use: 0,
            table_elements_in_use: 0,
            memory_granted: 0,
            table_granted: 0,
        }
    }

    /// Bytes of all linear memories together.
    pub(crate) fn memory_in_use(&self) -> usize {
        self.memory_in_use
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.memory_in_use.saturating_add(growth);
        if let Some(limit) = self.limits.memory {
            if total > limit {
                return Err(LimitExceeded::Memory {
                    requested: total,
                    limit,
                }
                .into());
            }
        }
        // Past the memory's own declared maximum: the broker's limiter ends the call too.
        if let Some(max) = maximum {
            if desired > max {
                return Err(LimitExceeded::Memory {
                    requested: desired,
                    limit: max,
                }
                .into());
            }
        }
        self.memory_in_use = total;
        self.memory_granted = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: anyhow::Error) -> anyhow::Result<()> {
        // The host could not grow it after all (no address space): the module sees -1.
        self.memory_in_use = self.memory_in_use.saturating_sub(self.memory_granted);
        self.memory_granted = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        if maximum.is_some_and(|m| desired > m) {
            // wasmtime refuses it too: `table.grow` gives -1, as everywhere.
            return Ok(false);
        }
        let growth = desired.saturating_sub(current);
        let total = self.table_elements_in_use.saturating_add(growth);
        if let Some(limit) = self.limits.table_elements {
            if total > limit {
                return Err(LimitExceeded::Table {
                    requested: total,
                    limit,
                }
                .into());
            }
        }
        self.table_elements_in_use = total;
        self.table_granted = growth;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: anyhow::Error) -> anyhow::Result<()> {
        self.table_elements_in_use = self
            .table_elements_in_use
            .saturating_sub(self.table_granted);
        self.table_granted = 0;
        Ok(())
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.tables
    }

    fn memories(&self) -> usize {
        self.limits.memories
    }
}

/// Gives a store a call's budget: fuel and the epoch deadline. Returns the fuel given.
pub(crate) fn arm<T>(store: &mut Store<T>, limits: &Limits) -> u64 {
    let fuel = limits.fuel_budget();
    // Fuel metering is on in the engine's config, so this cannot fail.
    let _ = store.set_fuel(fuel);
    store.set_epoch_deadline(limits.epoch_ticks());
    fuel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(memory: usize, tables: usize) -> Limiter {
        Limiter::new(Limits {
            memory: Some(memory),
            table_elements: Some(tables),
            ..Limits::default()
        })
    }

    #[test]
    fn memory_is_counted_over_all_memories() {
        let mut l = limiter(100, 10);
        assert!(l.memory_growing(0, 60, None).unwrap());
        // A second memory of 60 takes the total to 120.
        let err = l.memory_growing(0, 60, None).unwrap_err();
        assert_eq!(
            err.downcast_ref::<LimitExceeded>(),
            Some(&LimitExceeded::Memory {
                requested: 120,
                limit: 100
            })
        );
        assert!(l.memory_growing(60, 100, None).unwrap());
        assert_eq!(l.memory_in_use(), 100);
    }

    #[test]
    fn a_failed_growth_is_given_back() {
        let mut l = limiter(100, 10);
        assert!(l.memory_growing(0, 80, None).unwrap());
        l.memory_grow_failed(anyhow::anyhow!("no address space"))
            .unwrap();
        assert_eq!(l.memory_in_use(), 0);
        assert!(l.table_growing(0, 10, None).unwrap());
        l.table_grow_failed(anyhow::anyhow!("no memory")).unwrap();
        assert!(l.table_growing(0, 10, None).unwrap());
    }

    #[test]
    fn table_elements_are_counted_over_all_tables() {
        let mut l = limiter(100, 10);
        assert!(l.table_growing(0, 6, None).unwrap());
        let err = l.table_growing(0, 6, None).unwrap_err();
        assert_eq!(
            err.downcast_ref::<LimitExceeded>(),
            Some(&LimitExceeded::Table {
                requested: 12,
                limit: 10
            })
        );
        // Past a table's own maximum: refused without an error, as wasm says.
        assert!(!l.table_growing(6, 8, Some(7)).unwrap());
    }

    #[test]
    fn the_declared_maximum_of_a_memory_ends_the_call_like_the_broker() {
        let mut l = limiter(1000, 10);
        let err = l.memory_growing(10, 20, Some(15)).unwrap_err();
        assert_eq!(
            err.downcast_ref::<LimitExceeded>(),
            Some(&LimitExceeded::Memory {
                requested: 20,
                limit: 15
            })
        );
    }
}
