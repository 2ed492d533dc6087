//! `harness simulate`: the flags; the runs are the library's ([`host_harness::simulate::command`]).

use std::path::PathBuf;

use host_harness::simulate::command::{self, parse_seeds, Outputs};
use host_harness::simulate::random;
use host_harness::{Engine, ModuleResolver};

use super::{modules_dir, CommandError, EXIT_INVARIANT, EXIT_OK};

const SIMULATE_HELP: &str = "\
The topology file (YAML) lists clusters (id, secret, topics, each topic's write path as a
transforms list: uses/with/lookback), links (from, to, topic, kind: bridge | native-mirror),
producers (cluster, topic, records, size, rate; forge: true writes forged tags;
local_writes_to_mirror: true writes to a mirror topic) and faults (link-down, restart,
reorder). Every write goes through the target topic's real chain. See host-harness/SIMULATE.md
and examples/topologies/.

Invariants checked at the end (each with counts and the first counter-examples):
  no-loop                  no stored record passed through a cluster twice; the run came to rest
  no-duplicate             no topic stored the same record (origin + record id) twice
  no-loss                  every record a producer stored reached every topic the links make
                           reachable within max_hops
  mirror-protection        local writes to mirror topics refused (reject mode, native mirrors),
                           dropped (drop) or flagged (audit); mirror writes accepted
  native-mirror-alignment  a native mirror's target stored what its source stored, in order
  forged-tags-refused      forged tags refused wherever the write path has a secret

Long runs of random topologies (2 to 8 clusters, cycles, diamonds, faults):
  harness simulate --random --seeds 0..10000
  harness simulate --random --seed 42 --print-topology > t.yaml   # reproduce one seed

The same seed gives the same run. A progress bar is drawn on stderr when it is a terminal.

Exit codes:
  0  every invariant holds
  4  an invariant failed (the output names it, with counter-examples)
  3  bad topology file: unreadable, invalid, module not found, params refused at init
  1  usage or other error (bad arguments, output file not writable)";

/// `harness simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = SIMULATE_HELP)]
pub struct SimulateArgs {
    /// Topology file (YAML)
    #[arg(value_name = "TOPOLOGY", required_unless_present = "random")]
    pub topology: Option<PathBuf>,

    /// Seed of the run's random choices (jitter, sizes, reordering) [default: the file's
    /// `seed`, else 0]; with --random, the topology's seed too
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Simulate random topologies instead of a file
    #[arg(long, conflicts_with = "topology")]
    pub random: bool,

    /// With --random: the seeds to run, `A..B` (B excluded), `A..=B` or `N`
    #[arg(
        long,
        value_name = "A..B",
        requires = "random",
        conflicts_with = "seed"
    )]
    pub seeds: Option<String>,

    /// With --random and one seed: print the generated topology file and stop
    #[arg(long, requires = "random")]
    pub print_topology: bool,

    /// Write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write the topology with its flow counts as Graphviz DOT to FILE
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,

    /// Write the topology with its flow counts as SVG to FILE (drawn here, no Graphviz)
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Folder searched for modules named in the chains [default: this workspace's
    /// target/wasm32-unknown-unknown/wasm]
    #[arg(long, value_name = "DIR")]
    pub modules_dir: Option<PathBuf>,

    /// Print only the header and the verdicts, not the tables
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs `harness simulate`: one topology file, or random topologies.
pub fn simulate(args: SimulateArgs) -> Result<u8, CommandError> {
    let resolver = ModuleResolver::new(modules_dir(args.modules_dir));
    let engine = Engine::shared().map_err(CommandError::Setup)?;
    let outputs = Outputs {
        report: args.report,
        dot: args.dot,
        svg: args.svg,
        quiet: args.quiet,
    };
    let passed = if args.random {
        let seeds = match (&args.seeds, args.seed) {
            (Some(text), _) => parse_seeds(text).map_err(CommandError::Usage)?,
            (None, Some(s)) => s..s + 1,
            (None, None) => 0..1,
        };
        if seeds.end - seeds.start == 1 {
            let seed = seeds.start;
            if args.print_topology {
                print!("{}", random::topology(seed).to_yaml());
                return Ok(EXIT_OK);
            }
            let topology = command::random(seed, &resolver)?;
            command::one(&engine, &topology, seed, &outputs)?
        } else {
            if args.print_topology || outputs.dot.is_some() || outputs.svg.is_some() {
                return Err(CommandError::Usage(
                    "--print-topology, --dot and --svg take one seed (--seed N)".into(),
                ));
            }
            command::many(&engine, &resolver, seeds, &outputs)?
        }
    } else {
        let Some(path) = &args.topology else {
            return Err(CommandError::Usage(
                "give a topology file, or --random".into(),
            ));
        };
        let topology = command::load(path, &resolver)?;
        let seed = args.seed.unwrap_or(topology.seed);
        command::one(&engine, &topology, seed, &outputs)?
    };
    Ok(if passed { EXIT_OK } else { EXIT_INVARIANT })
}
