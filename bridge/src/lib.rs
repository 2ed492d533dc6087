//! `origin-bridge`: a bridge between Fluvio clusters, on the official `fluvio` client.
//!
//! Each link reads a topic on one cluster with a named consumer and writes every partition i
//! to partition i of a topic on another cluster, through a SmartModule chain in the target's
//! produce path (and whatever the target topic's hook runs). Chunks of records go as one
//! produce request; the consumer's offset is committed only after the target acknowledged the
//! chunk, so a restart re-sends at most what was in flight, and mirror-policy's de-duplication
//! window on the target drops those copies. A record the target refuses is found, counted,
//! logged with its hint and written to a dead-letter topic; the others are stored in order.
//!
//! Modules, by concern: [`config`] (file and flags, checked into a plan), [`topology`] (links of
//! a `harness simulate` file), [`connect`], [`chain`], [`deliver`] (refusal isolation),
//! [`copy`] (one partition), [`run`], [`progress`], [`dead_letter`].

pub mod chain;
pub mod cli;
pub mod config;
pub mod connect;
pub mod copy;
pub mod dead_letter;
pub mod deliver;
pub mod error;
pub mod log;
pub mod progress;
pub mod retry;
pub mod run;
pub mod stop;
pub mod topology;

pub use error::{exit, BridgeError, ConfigError};
