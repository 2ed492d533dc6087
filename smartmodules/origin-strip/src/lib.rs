//! origin-strip (map), for consumers: removes the origin tag and gives back the producer's
//! key and value, byte for byte.
//!
//! Params: `carrier` = `value` (default) | `key`.
//!
//! - Tagged record: the tag is removed (a key that was absent before tagging is absent again).
//! - Untagged record, or one whose tag is malformed: passes unchanged.
//!
//! `origin-tag` then `origin-strip` is the identity on key and value.
#![cfg_attr(target_arch = "wasm32", no_std)]

use origin::guest::{PolicyModule, Spec};
use origin::policy::Module;
use smartmodule_abi::{export, Kind};

pub struct OriginStrip;

impl Spec for OriginStrip {
    const MODULE: Module = Module::OriginStrip;
    const KIND: Kind = Kind::Map;
}

export!(map: PolicyModule<OriginStrip>);
