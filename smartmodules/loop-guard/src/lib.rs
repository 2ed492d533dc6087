//! loop-guard (filter): stops records that come back to a cluster they already passed
//! through, so A -> B -> A loops cannot happen.
//!
//! Params: `cluster` (required), `max_hops` (default 8, 1 to 15), `on_loop` = `drop`
//! (default) | `reject`, `secret` (optional), `carrier` = `value` (default) | `key`.
//!
//! - Tagged record whose path holds `cluster` before its last hop, or whose hops reached
//!   `max_hops`: dropped, or refused with `on_loop=reject`.
//! - Untagged record: passes. Without `secret` a malformed tag is payload and passes too.
//! - With `secret`: a tag whose MAC does not verify, or a malformed one, is refused.
//!
//! Run it before origin-tag in a chain: origin-tag appends this cluster to the path.
#![cfg_attr(target_arch = "wasm32", no_std)]

use origin::guest::{PolicyModule, Spec};
use origin::policy::Module;
use smartmodule_abi::{export, Kind};

pub struct LoopGuard;

impl Spec for LoopGuard {
    const MODULE: Module = Module::LoopGuard;
    const KIND: Kind = Kind::Filter;
}

export!(filter: PolicyModule<LoopGuard>);
