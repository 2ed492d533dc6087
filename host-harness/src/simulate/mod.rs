//! A multi-cluster topology simulator: clusters with policy chains on their topics' write
//! paths, bridges and native mirrors between them, producers (some forging tags, some
//! writing to mirror topics), and faults (links down and replaying, clusters restarting,
//! reordering). It runs the real .wasm modules — one harness [`Chain`](crate::Chain) per
//! topic — in a seeded, deterministic event loop, then checks that no record looped, none
//! was stored twice, none was lost, mirror topics were protected, native mirrors stayed
//! aligned and forged tags were refused.
//!
//! ```no_run
//! use host_harness::simulate::{self, topology::Topology};
//! use host_harness::{Engine, ModuleResolver};
//!
//! let topology = Topology::load("examples/topologies/ring-4.yaml", &ModuleResolver::default())?;
//! let report = simulate::run(&Engine::shared()?, &topology, 7, &mut |_| {})?;
//! print!("{}", report.text(&topology, false));
//! assert!(report.passed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The file format, the invariants and an example run are in `host-harness/SIMULATE.md`.

pub mod command;
pub mod forge;
pub mod invariants;
pub mod picture;
pub mod random;
pub mod report;
pub mod sim;
pub mod topology;

pub use invariants::Invariant;
pub use report::Report;
pub use sim::{Progress, SimError, Simulation};
pub use topology::{Topology, TopologyError, TopologyFile};

use crate::chain_file::ModuleResolver;
use crate::engine::Engine;

/// Simulates `topology` with `seed` and checks the invariants.
pub fn run(
    engine: &Engine,
    topology: &Topology,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, SimError> {
    let mut sim = Simulation::new(engine, topology, seed)?;
    sim.run(progress)?;
    Ok(Report::new(&sim))
}

/// The random topology of `seed` (see [`random::topology`]), checked.
pub fn random_topology(seed: u64, resolver: &ModuleResolver) -> Result<Topology, TopologyError> {
    Topology::from_file(random::topology(seed), None, resolver)
}
