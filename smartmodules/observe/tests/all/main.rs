//! The observing code natively: the summary's tables, lags and bounds, its document read back,
//! and the record line, against counts and values computed here from what each test wrote.

mod line;
mod stats;

use origin::{wrap, Envelope};
use policy::RecordView;

pub const TS: i64 = 1_700_000_000_000;

/// A value tagged with `path` (origin first) at `origin_ts`, flagged when `violation`.
pub fn tagged(path: &[&str], origin_ts: i64, violation: bool, payload: &[u8]) -> Vec<u8> {
    let mut env = Envelope::new_origin(path[0], origin_ts, [7; 8]).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    if violation {
        env.set_violation();
    }
    wrap(&env, payload)
}

/// A record without a key at `offset` and `timestamp`.
pub fn view(value: &[u8], offset: i64, timestamp: i64) -> RecordView<'_> {
    RecordView {
        key: None,
        value,
        timestamp,
        offset,
    }
}
