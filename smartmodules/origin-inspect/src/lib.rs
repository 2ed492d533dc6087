//! origin-inspect (map, consumer side): shows each record's provenance as one JSON line, so
//! that `fluvio consume` prints tags instead of binary noise:
//!
//! ```text
//! fluvio consume orders -B -d --smartmodule origin-inspect
//! {"offset":0,"timestamp":1700000000000,"carrier":"value","status":"tagged","tag":{...},"key":null,"payload":"order 1"}
//! ```
//!
//! Params: `carrier` = `value` (default) | `key`, `secret` (optional: say whether each MAC
//! verifies), `scope` (with `secret`).
//!
//! - Each record becomes one record without a key whose value is the JSON line: offset,
//!   timestamp, carrier, status (`untagged`, `tagged`, `malformed`), the decoded tag (origin,
//!   path, hops, flags, violation, timestamp, id, MAC present and, with `secret`, verified)
//!   or the decoder's error, the other half of the record and the payload (UTF-8 as a string,
//!   other bytes as `{"base64": ...}`): the shape of `harness inspect --format jsonl`.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

use observe::{record_line, view, Json, TagReader};
use policy::params::{CARRIER, SCOPE, SECRET};
use policy::{Known, Params};
use smartmodule_abi::{Emit, Kind, Record, SmartModule};

/// The module's name, the prefix of its messages.
pub const NAME: &str = "origin-inspect";

/// The params it takes.
pub const PARAMS: Known = Known {
    required: &[],
    optional: &[&CARRIER, &SECRET, &SCOPE],
};

pub struct OriginInspect {
    reader: TagReader,
    /// Where each record's line is written, reused.
    line: Json,
}

impl SmartModule for OriginInspect {
    const KIND: Kind = Kind::Map;

    fn init(params: &smartmodule_abi::Params<'_>) -> Result<Self, String> {
        let reader = Params::new(NAME, &PARAMS, params.iter())
            .and_then(|p| TagReader::from_params(&p))
            .map_err(|e| e.message())?;
        Ok(OriginInspect {
            reader,
            line: Json::new(),
        })
    }

    fn process(
        &mut self,
        record: &Record<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        self.line.clear();
        record_line(&self.reader, &view(record), &mut self.line);
        out.emit(None, &[self.line.as_str().as_bytes()]);
        Ok(())
    }
}

smartmodule_abi::export!(map: OriginInspect);
