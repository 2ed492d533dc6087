//! A real Fluvio cluster for tests: finds the `fluvio` and `fluvio-run` binaries, starts an SC
//! and an SPU on loopback with free ports, a temp directory and a `HOME` of their own, runs the
//! CLI against them with a deadline on every call, and stops every process it started by PID.
//!
//! Nothing here panics on bad input: every operation returns a [`Result`] whose error says what
//! failed and, for a broker process, ends with the tail of its log. The suite in
//! `tests/broker/` decides what a failure means.

pub mod bins;
pub mod cluster;
pub mod consume;
pub mod docs;
pub mod process;
pub mod segments;

pub use bins::{locate, locate_for_suite, FluvioBins, LocateError, Located};
pub use cluster::{Cluster, ClusterError, StopReport};
pub use consume::{parse_binary_records, ConsumedRecord, ParseError};
pub use docs::{
    fenced_block_after, marked_block, normalise_block, replace_block, DocBlock, DocError,
};
pub use process::{run, CmdOutput, Daemon, ProcessError};
pub use segments::{partition_dir, stored_batches, SegmentError, StoredBatch};
