//! The params of the observing modules besides `carrier`, `secret` and `scope` (the policy
//! modules' own): checked at init, refused in the same words as the policy modules' params.

use policy::params::{parse_number, Param};
use policy::{ParamError, Params};

use crate::stats::{DEFAULT_TOP, MAX_TOP};

/// Entries of each table of the summary.
pub static TOP: Param = Param {
    name: "top",
    what: "entries kept in each table of the summary (origins, paths, violations), 1 to 20",
    example: "10",
};

/// A summary every this many records instead of one per batch.
pub static EVERY: Param = Param {
    name: "every",
    what: "emit the summary every this many records instead of once per batch, 1 to 1000000",
    example: "1000",
};

/// Most records `every` may wait for.
pub const MAX_EVERY: u32 = 1_000_000;

/// `top`: 1 to [`MAX_TOP`], default [`DEFAULT_TOP`].
pub fn top_from_params(p: &Params<'_>) -> Result<usize, ParamError> {
    match p.get(&TOP) {
        None => Ok(DEFAULT_TOP),
        Some(v) => parse_number(v)
            .map(|n| n as usize)
            .filter(|n| (1..=MAX_TOP).contains(n))
            .ok_or_else(|| p.bad(&TOP, v, "not a number from 1 to 20")),
    }
}

/// `every`: 1 to [`MAX_EVERY`]; none by default (one summary per batch).
pub fn every_from_params(p: &Params<'_>) -> Result<Option<u64>, ParamError> {
    match p.get(&EVERY) {
        None => Ok(None),
        Some(v) => parse_number(v)
            .filter(|n| (1..=MAX_EVERY).contains(n))
            .map(|n| Some(u64::from(n)))
            .ok_or_else(|| p.bad(&EVERY, v, "not a number from 1 to 1000000")),
    }
}
