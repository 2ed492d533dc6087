//! mirror-policy (filter_map): every stage in one pass, for the topic-level hook, which takes
//! a single module (the topic config's `deduplication.filter.transform`) and runs it on every
//! write, mirror writes included: verify -> loop check -> mirror guard -> tag.
//!
//! Params: the union of the other modules': `cluster` (required), `carrier`, `secret`,
//! `max_hops`, `on_loop`, `mirror_of` (the guard runs only when it is set), `topic`, `mode`;
//! `dedup` (a window of recently stored records: one whose origin and record id is in it is
//! dropped, so a record that arrives over two routes is stored once); `count` and `age`,
//! which the hook always passes, are accepted and ignored. The window is refilled at start-up
//! from the records the hook's look-back replays (`bounds.count` of them).
//!
//! It decides exactly as the chain `loop-guard | mirror-guard | origin-tag` with the same
//! params would.
#![cfg_attr(target_arch = "wasm32", no_std)]

use origin::guest::{PolicyModule, Spec};
use origin::policy::Module;
use smartmodule_abi::{export, Kind};

pub struct MirrorPolicy;

impl Spec for MirrorPolicy {
    const MODULE: Module = Module::MirrorPolicy;
    const KIND: Kind = Kind::FilterMap;
}

export!(filter_map: PolicyModule<MirrorPolicy>, look_back);
