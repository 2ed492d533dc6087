//! Mirror guard: a mirror topic accepts writes only from its upstream clusters.
//!
//! A record is mirror traffic when it carries a tag (verified, where a secret is set) whose
//! origin, or whose previous hop (the last path entry that is not this cluster), is upstream,
//! and that no guard marked as a local write. Anything else is a local write: refused,
//! dropped, or (audit) marked with the VIOLATION flag. A marked record is never mirror
//! traffic again, on any cluster: audit mode admits it where it was written, and nowhere
//! else.

use alloc::string::String;

use smartmodule_text::owned;

use smartmodule_text::Text;

use crate::params::ParamErrorKind;
use crate::params::{Params, MIRROR_OF, MODE, TOPIC};
use crate::record::Carried;
use crate::{Dropped, ParamError, Stop};

/// What the guard does with a local write (`mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse the write, with a hint the producer reads (the default).
    Reject,
    /// Filter the record out, silently.
    Drop,
    /// Let it through with the VIOLATION flag, to find would-be refusals before enforcing.
    Audit,
}

impl Mode {
    /// `reject`, `drop` or `audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Reject => "reject",
            Mode::Drop => "drop",
            Mode::Audit => "audit",
        }
    }
}

/// Whether a record the guard let through must carry the VIOLATION flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Mirror traffic, or no guard.
    Clean,
    /// A local write let through by `mode=audit`.
    Violation,
}

/// The guard's config: the upstream clusters, the topic's name for messages, the mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    /// This cluster (`cluster`).
    pub cluster: String,
    /// The upstream clusters (`mirror_of`), checked, without spaces or repeats, joined by
    /// commas: one string, so that init grows no list.
    upstream: String,
    /// The topic's name for the refusal message (`topic`).
    pub topic: Option<String>,
    /// What a local write gets (`mode`).
    pub mode: Mode,
}

/// The mirror guard stage: off (no `mirror_of`) or guarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard(Option<GuardConfig>);

impl Guard {
    /// A guard that `mirror_of` turns on; `mode` or `topic` without it is an error.
    pub fn from_params(p: &Params<'_>, cluster: &str) -> Result<Self, ParamError> {
        if p.get(&MIRROR_OF).is_some() {
            return Self::required(p, cluster);
        }
        for param in [&TOPIC, &MODE] {
            if p.get(param).is_some() {
                return Err(ParamErrorKind::NoEffect {
                    module: p.module(),
                    param,
                    needs: &MIRROR_OF,
                }
                .into());
            }
        }
        Ok(Guard(None))
    }

    /// A guard that is always on: `mirror_of` is one of the module's required params (an
    /// empty list, were it missing, is refused as an empty cluster id).
    pub fn required(p: &Params<'_>, cluster: &str) -> Result<Self, ParamError> {
        let v = p.get(&MIRROR_OF).unwrap_or_default();
        // Built with the text builder the messages use, so that init grows no string of its own.
        let mut upstream = Text::new("");
        for id in Commas(Some(v)).map(str::trim_ascii) {
            origin::validate_cluster_id(id).map_err(|e| p.bad(&MIRROR_OF, v, e.as_str()))?;
            if id == cluster {
                return Err(p.bad(&MIRROR_OF, v, "names this cluster itself"));
            }
            if upstream.as_str().is_empty() {
                upstream = upstream.push(id);
            } else if !Commas(Some(upstream.as_str())).any(|earlier| earlier == id) {
                upstream = upstream.push(",").push(id);
            }
        }
        let mut config = GuardConfig {
            cluster: owned(cluster),
            upstream: upstream.into(),
            topic: None,
            mode: Mode::Reject,
        };
        config.mode = match p.get(&MODE) {
            None | Some("reject") => Mode::Reject,
            Some("drop") => Mode::Drop,
            Some("audit") => Mode::Audit,
            Some(v) => return Err(p.bad(&MODE, v, "not reject, drop or audit")),
        };
        config.topic = match p.get(&TOPIC) {
            Some("") => return Err(p.bad(&TOPIC, "", "empty")),
            t => t.map(owned),
        };
        Ok(Guard(Some(config)))
    }

    /// The config, when the guard is on.
    pub fn config(&self) -> Option<&GuardConfig> {
        self.0.as_ref()
    }

    /// Lets mirror traffic through; a local write is refused, dropped, or marked.
    #[inline]
    pub fn check(&self, c: &Carried<'_>) -> Result<Mark, Stop> {
        let Some(g) = &self.0 else {
            return Ok(Mark::Clean);
        };
        let mirrored = c.tag().is_some_and(|env| {
            !env.is_violation()
                && (g.is_upstream_bytes(env.origin_bytes())
                    || env
                        .last_other_than(&g.cluster)
                        .is_some_and(|id| g.is_upstream(id)))
        });
        if mirrored {
            return Ok(Mark::Clean);
        }
        match g.mode {
            Mode::Reject => Err(Stop::Refuse(g.local_write_hint())),
            Mode::Drop => Err(Stop::Drop(Dropped::LocalWrite)),
            Mode::Audit => Ok(Mark::Violation),
        }
    }
}

impl GuardConfig {
    /// The upstream clusters, in the order `mirror_of` gave them.
    pub fn mirror_of(&self) -> impl Iterator<Item = &str> {
        Commas(Some(&self.upstream))
    }

    /// Whether `id` is one of the upstream clusters.
    pub fn is_upstream(&self, id: &str) -> bool {
        self.is_upstream_bytes(id.as_bytes())
    }

    /// [`is_upstream`](Self::is_upstream) of an id as a tag holds it.
    fn is_upstream_bytes(&self, id: &[u8]) -> bool {
        self.mirror_of().any(|m| m.as_bytes() == id)
    }

    /// `cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from
    /// 'edge-1'; produce there instead`
    fn local_write_hint(&self) -> String {
        let m = match &self.topic {
            Some(t) => Text::new("cannot produce to mirror topic '")
                .push(t)
                .push("'"),
            None => Text::new("cannot produce to this mirror topic"),
        };
        let mut m = m
            .push(" on cluster '")
            .push(&self.cluster)
            .push("': it is mirrored from ");
        for (i, up) in self.mirror_of().enumerate() {
            m = m.push(if i == 0 { "'" } else { ", '" }).push(up).push("'");
        }
        m.push("; produce there instead").into()
    }
}

/// The items of a comma-separated list, `"a,b"` giving `a` and `b`: a few bytes of wasm where
/// `str::split` brings a searcher.
struct Commas<'a>(Option<&'a str>);

impl<'a> Iterator for Commas<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let list = self.0?;
        match list.bytes().position(|b| b == b',') {
            Some(at) => {
                self.0 = list.get(at + 1..);
                list.get(..at)
            }
            None => self.0.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn commas_split_like_str_split() {
        for list in ["a", "a,b", "a,,b", ",a", "a,", "", ",", "edge-1, edge-2 ,x"] {
            let ours: Vec<&str> = Commas(Some(list)).collect();
            let std: Vec<&str> = list.split(',').collect();
            assert_eq!(ours, std, "{list:?}");
        }
    }
}
