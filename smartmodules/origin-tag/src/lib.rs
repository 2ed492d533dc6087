//! origin-tag (map): tags every record with where it came from.
//!
//! Params: `cluster` (required), `carrier` = `value` (default) | `key`, `secret` (optional).
//!
//! - Untagged record: gets a tag with origin = `cluster`, hops 0, path [`cluster`], origin
//!   timestamp = the record's timestamp, and a record id derived from the record.
//! - Tagged record (it came through a mirror or a bridge): keeps its origin and id; `cluster`
//!   is appended to its path and hops goes up by one. A path already ending in `cluster`
//!   (tagged here before) is left as it is.
//! - With `secret`: the new tag is sealed with a MAC, and an incoming tag whose MAC does not
//!   verify is refused, naming the record's offset.
//! - A malformed tag is refused rather than wrapped in a second tag.
#![cfg_attr(target_arch = "wasm32", no_std)]

use origin::guest::{PolicyModule, Spec};
use origin::policy::Module;
use smartmodule_abi::{export, Kind};

pub struct OriginTag;

impl Spec for OriginTag {
    const MODULE: Module = Module::OriginTag;
    const KIND: Kind = Kind::Map;
}

export!(map: PolicyModule<OriginTag>);
