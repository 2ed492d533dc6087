//! Loop check: a record that comes back to a cluster it already passed through, or that made
//! `max_hops` hops, is stopped, so A -> B -> A loops cannot happen.
//!
//! A path that ends in this cluster is no return: a record tagged here by a producer-side chain
//! reaches the same cluster's topic hook with path `[here]`. Only an earlier entry is.

use alloc::string::String;

use crate::params::{parse_number, Params, MAX_HOPS, ON_LOOP};
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
    on_loop: OnLoop,
}

impl LoopCheck {
    /// `max_hops` (default 8, 1 to 15) and `on_loop` (`drop`, default, or `reject`).
    #[inline]
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
        Ok(LoopCheck {
            module: p.module(),
            cluster: String::from(cluster),
            max_hops,
            on_loop,
        })
    }

    /// Hops after which a record is stopped.
    pub fn max_hops(&self) -> u8 {
        self.max_hops
    }

    /// What a looping record gets.
    pub fn on_loop(&self) -> OnLoop {
        self.on_loop
    }

    /// Stops a tagged record whose path holds this cluster before its last entry, or that
    /// made `max_hops` hops; anything else goes on.
    #[inline]
    pub fn check(&self, rec: &RecordView<'_>, c: &Carried<'_>) -> Result<(), Stop> {
        let Some(env) = c.tag() else {
            return Ok(());
        };
        let returned = env.returned_to(&self.cluster);
        if !returned && env.hops() < self.max_hops {
            return Ok(());
        }
        Err(match self.on_loop {
            OnLoop::Drop => Stop::Drop(Dropped::Loop),
            OnLoop::Reject => {
                let m = text::at(self.module, rec);
                let m = if returned {
                    m.push(" came back to cluster '")
                        .push(&self.cluster)
                        .push("' it already passed through")
                } else {
                    m.push(" has made ")
                        .int(i64::from(env.hops()))
                        .push(" hops, the limit is max_hops=")
                        .int(i64::from(self.max_hops))
                };
                Stop::Refuse(text::with_path(m, env))
            }
        })
    }
}
