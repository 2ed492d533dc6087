//! Loop check: a record that comes back to a cluster it already passed through, or that made
//! `max_hops` hops, is stopped, so A -> B -> A loops cannot happen; with `max_age`, so is a
//! record that arrives too long after its origin timestamp (a replay past any window).
//!
//! A path that ends in this cluster is no return: a record tagged here by a producer-side chain
//! reaches the same cluster's topic hook with path `[here]`. Only an earlier entry is.

use alloc::string::String;

use smartmodule_text::owned;

use crate::params::{parse_duration_ms, parse_number, Params, AGE, MAX_AGE, MAX_HOPS, ON_LOOP};
use crate::record::{Carried, RecordView};
use crate::{text, Dropped, ParamError, Stop};

/// Default for `max_hops`.
pub const DEFAULT_MAX_HOPS: u8 = 8;

/// What to do with a record that loops (`on_loop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoop {
    /// Filter it out (the default).
    Drop,
    /// Refuse the write, with the path in the hint.
    Reject,
}

/// The loop check stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopCheck {
    module: &'static str,
    cluster: String,
    max_hops: u8,
    /// In ms, with the text it was given as (for messages).
    max_age: Option<(i64, String)>,
    on_loop: OnLoop,
}

impl LoopCheck {
    /// `max_hops` (default 8, 1 to 15) and `on_loop` (`drop`, default, or `reject`).
    pub fn from_params(p: &Params<'_>, cluster: &str) -> Result<Self, ParamError> {
        let max_hops = match p.get(&MAX_HOPS) {
            None => DEFAULT_MAX_HOPS,
            Some(v) => match parse_number(v) {
                Some(n) if (1..origin::MAX_PATH as u32).contains(&n) => n as u8,
                _ => return Err(p.bad(&MAX_HOPS, v, "not a number from 1 to 15")),
            },
        };
        let on_loop = match p.get(&ON_LOOP) {
            None | Some("drop") => OnLoop::Drop,
            Some("reject") => OnLoop::Reject,
            Some(v) => return Err(p.bad(&ON_LOOP, v, "not drop or reject")),
        };
        let max_age = match (p.get(&MAX_AGE), p.get(&AGE)) {
            (Some(v), _) => Some((v, &MAX_AGE)),
            (None, Some(v)) => Some((v, &AGE)),
            (None, None) => None,
        };
        let max_age = match max_age {
            None => None,
            Some((v, param)) => match parse_duration_ms(v) {
                Some(ms) => Some((ms, owned(v))),
                None => {
                    return Err(p.bad(
                        param,
                        v,
                        "not a duration from 1ms to 365d (a number with ms, s, m, h or d)",
                    ))
                }
            },
        };
        Ok(LoopCheck {
            module: p.module(),
            cluster: owned(cluster),
            max_hops,
            max_age,
            on_loop,
        })
    }

    /// Hops after which a record is stopped.
    pub fn max_hops(&self) -> u8 {
        self.max_hops
    }

    /// How long after its origin timestamp a record is accepted, in ms.
    pub fn max_age_ms(&self) -> Option<i64> {
        self.max_age.as_ref().map(|(ms, _)| *ms)
    }

    /// What a looping record gets.
    pub fn on_loop(&self) -> OnLoop {
        self.on_loop
    }

    /// Stops a tagged record whose path holds this cluster before its last entry, that made
    /// `max_hops` hops, or that arrives more than `max_age` after its origin timestamp
    /// (measured against the record's own timestamp); anything else goes on.
    #[inline]
    pub fn check(&self, rec: &RecordView<'_>, c: &Carried<'_>) -> Result<(), Stop> {
        let Some(env) = c.tag() else {
            return Ok(());
        };
        let returned = env.returned_to(&self.cluster);
        let age = rec.timestamp.saturating_sub(env.timestamp());
        let stale = self.max_age.as_ref().filter(|(ms, _)| age > *ms);
        if !returned && env.hops() < self.max_hops && stale.is_none() {
            return Ok(());
        }
        let why = if returned || env.hops() >= self.max_hops {
            Dropped::Loop
        } else {
            Dropped::Stale
        };
        Err(match self.on_loop {
            OnLoop::Drop => Stop::Drop(why),
            OnLoop::Reject => {
                let m = text::at(self.module, rec);
                let m = if returned {
                    m.push(" came back to cluster '")
                        .push(&self.cluster)
                        .push("' it already passed through")
                } else if why == Dropped::Loop {
                    m.push(" has made ")
                        .int(i64::from(env.hops()))
                        .push(" hops, the limit is max_hops=")
                        .int(i64::from(self.max_hops))
                } else {
                    m.push(" arrived ")
                        .int(age)
                        .push(" ms after its origin timestamp, past max_age=")
                        .push(stale.map_or("", |(_, text)| text.as_str()))
                };
                Stop::Refuse(text::with_path(m, env))
            }
        })
    }
}
