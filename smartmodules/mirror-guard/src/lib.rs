//! mirror-guard (filter): a mirror topic accepts writes only from its upstream clusters.
//!
//! Params: `cluster` (required), `mirror_of` (required: comma-separated upstream cluster
//! ids), `topic` (optional, for messages), `mode` = `reject` (default) | `drop` | `audit`,
//! `secret` (optional), `carrier` = `value` (default) | `key`.
//!
//! - Mirror traffic: a tag (verified, with `secret`) whose origin or previous hop is in
//!   `mirror_of`. It passes.
//! - Anything else is a local write to a mirror topic. `reject` refuses it with
//!   `cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from
//!   'edge-1'; produce there instead`; `drop` filters it out; `audit` lets it through with
//!   the tag's violation flag set (tagging it if untagged) to find would-be refusals first.
//! - With `secret`: a tag whose MAC does not verify, or a malformed one, is refused in every
//!   mode; without, a malformed tag is payload, so the record is a local write.
#![cfg_attr(target_arch = "wasm32", no_std)]

use origin::guest::{PolicyModule, Spec};
use origin::policy::Module;
use smartmodule_abi::{export, Kind};

pub struct MirrorGuard;

impl Spec for MirrorGuard {
    const MODULE: Module = Module::MirrorGuard;
    const KIND: Kind = Kind::Filter;
}

export!(filter: PolicyModule<MirrorGuard>);
