//! Tag: an untagged record gets a new tag (origin = this cluster, record id, time); a tagged
//! one gains this cluster as a hop; a record the guard marked carries the VIOLATION flag.
//! Where a secret is set the record id is keyed and the tag sealed. The tag is written straight into the scratch
//! buffer: a forwarded one as the decoded tag plus this cluster and the flag.

use alloc::string::String;

use smartmodule_text::owned;

use origin::{Carrier, Fresh, TagBuf, FLAG_NO_KEY, FLAG_VIOLATION, MAX_PATH};

use crate::guard::Mark;
use crate::record::{Carried, Found, RecordView};
use crate::verify::{fresh, seal, Secret};
use crate::{text, Keep, Stop};

/// The tag stage: [`write`](Tag::write) for modules that tag, [`mark`](Tag::mark) for a guard
/// that only marks what `mode=audit` lets through.
#[derive(Debug, Clone)]
pub struct Tag {
    module: &'static str,
    cluster: String,
    carrier: Carrier,
    secret: Option<Secret>,
    /// New tags and their record ids, as far as they depend on this cluster and the secret.
    fresh: Fresh,
}

impl Tag {
    /// Tags written by this cluster, for `module`'s messages, sealed with `secret` if given.
    #[inline]
    pub fn new(
        module: &'static str,
        cluster: &str,
        carrier: Carrier,
        secret: Option<Secret>,
    ) -> Self {
        Tag {
            module,
            cluster: owned(cluster),
            carrier,
            fresh: fresh(secret.as_ref(), cluster),
            secret,
        }
    }

    /// Tags the record here: a new tag on an untagged one, this cluster as a hop on a tagged
    /// one (unless its path ends here already), and the VIOLATION flag on a marked one. The
    /// record as written: unchanged, or its carrier rewritten to the tag left in `scratch`
    /// (empty on entry) followed by the payload.
    #[inline]
    pub fn write<'a>(
        &self,
        rec: &RecordView<'_>,
        c: &Carried<'a>,
        mark: Mark,
        scratch: &mut TagBuf,
    ) -> Result<Keep<'a>, Stop> {
        let flag = violation_flag(mark);
        let new_id = match &c.found {
            Found::Tagged(env) => {
                let hop = !env.last_is(&self.cluster);
                if !hop && (flag == 0 || env.is_violation()) {
                    return Ok(Keep::AsIs);
                }
                if hop && env.count() >= MAX_PATH {
                    let m = text::at(self.module, rec).push(
                        " has passed through 16 clusters, the most an origin path holds; \
                         lower max_hops on loop-guard",
                    );
                    return Err(Stop::Refuse(text::with_path(m, env)));
                }
                let hop = hop.then_some(self.cluster.as_str());
                env.write(env.flags() | flag, hop, None, scratch);
                None
            }
            // The audit flag wraps anything, so that nothing a producer wrote is lost;
            // otherwise a malformed tag is not wrapped in a second one.
            Found::Malformed(e) if flag == 0 => return Err(Stop::Refuse(text::bad_tag(
                self.module,
                rec,
                *e,
                "; refusing to wrap it in a second tag (fix the producer, or strip the tag first)",
            ))),
            _ => Some(self.fresh(rec, flag, scratch)),
        };
        Ok(self.sealed(c, new_id, scratch))
    }

    /// Only what the guard marked: the VIOLATION flag on a tagged record (its path left as
    /// is), a new flagged tag on any other, so that nothing a producer wrote is lost.
    #[inline]
    pub fn mark<'a>(
        &self,
        rec: &RecordView<'_>,
        c: &Carried<'a>,
        mark: Mark,
        scratch: &mut TagBuf,
    ) -> Keep<'a> {
        let flag = violation_flag(mark);
        let new_id = match &c.found {
            _ if flag == 0 => return Keep::AsIs,
            Found::Tagged(env) if env.is_violation() => return Keep::AsIs,
            Found::Tagged(env) => {
                env.write(env.flags() | flag, None, None, scratch);
                None
            }
            _ => Some(self.fresh(rec, flag, scratch)),
        };
        self.sealed(c, new_id, scratch)
    }

    /// Writes a new tag for `rec`, origin here, and gives its record id.
    fn fresh(&self, rec: &RecordView<'_>, flag: u8, scratch: &mut TagBuf) -> [u8; 8] {
        let id = self
            .fresh
            .record_id(rec.timestamp, rec.offset, rec.key, rec.value);
        let mut flags = flag;
        if self.carrier == Carrier::Key && rec.key.is_none() {
            flags |= FLAG_NO_KEY;
        }
        self.fresh.write(flags, rec.timestamp, id, scratch);
        id
    }

    /// Seals the tag in `scratch`, if a secret is set: the record rewritten.
    fn sealed<'a>(
        &self,
        c: &Carried<'a>,
        new_id: Option<[u8; 8]>,
        scratch: &mut TagBuf,
    ) -> Keep<'a> {
        if let Some(secret) = &self.secret {
            seal(secret, scratch, c);
        }
        Keep::Rewrite {
            payload: c.payload,
            absent: false,
            new_id,
        }
    }
}

fn violation_flag(mark: Mark) -> u8 {
    match mark {
        Mark::Clean => 0,
        Mark::Violation => FLAG_VIOLATION,
    }
}
