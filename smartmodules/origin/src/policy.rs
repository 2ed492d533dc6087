//! The policy decisions every module makes, as pure functions over a borrowed record.
//!
//! One [`Policy`] runs up to five stages in a fixed order — verify the tag, stop loops, guard
//! the mirror topic, tag, strip — and each SmartModule enables the stages its name promises.
//! `mirror-policy` enables them all, so it decides exactly as the chain
//! `loop-guard | mirror-guard | origin-tag` would. The host harness and the simulator call the
//! same functions, so nothing is decided twice in two ways.

use alloc::string::String;
use alloc::vec::Vec;

use crate::dedup::{Seen, Window};
pub use crate::FLAG_NO_KEY;
use crate::{
    decode, record_id, validate_cluster_id, Decoded, Envelope, EnvelopeError, FLAG_VIOLATION,
    MAX_PATH,
};

/// Which part of the record carries the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Value,
    Key,
}

/// What loop-guard does with a record that came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoop {
    Drop,
    Reject,
}

/// What mirror-guard does with a local write to a mirror topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Reject,
    Drop,
    Audit,
}

/// The shipped modules; each enables some stages and accepts some params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    OriginTag,
    LoopGuard,
    MirrorGuard,
    OriginStrip,
    MirrorPolicy,
}

impl Module {
    pub fn name(self) -> &'static str {
        match self {
            Module::OriginTag => "origin-tag",
            Module::LoopGuard => "loop-guard",
            Module::MirrorGuard => "mirror-guard",
            Module::OriginStrip => "origin-strip",
            Module::MirrorPolicy => "mirror-policy",
        }
    }

    /// Whether the module stops records that loop or made too many hops.
    #[inline(always)]
    pub const fn checks_loops(self) -> bool {
        matches!(self, Module::LoopGuard | Module::MirrorPolicy)
    }

    /// Whether the module guards a mirror topic against local writes.
    #[inline(always)]
    pub const fn guards(self) -> bool {
        matches!(self, Module::MirrorGuard | Module::MirrorPolicy)
    }

    /// Whether the module tags records (new tags, and hops on forwarded ones).
    #[inline(always)]
    pub const fn tags(self) -> bool {
        matches!(self, Module::OriginTag | Module::MirrorPolicy)
    }

    /// Whether the module removes tags.
    #[inline(always)]
    pub const fn strips(self) -> bool {
        matches!(self, Module::OriginStrip)
    }

    /// Whether the module takes a `secret` and checks MACs.
    #[inline(always)]
    pub const fn authenticates(self) -> bool {
        !matches!(self, Module::OriginStrip)
    }

    /// Whether the module keeps a `dedup` window.
    #[inline(always)]
    pub const fn dedups(self) -> bool {
        matches!(self, Module::MirrorPolicy)
    }

    /// Every module, in the order the docs list them.
    pub const ALL: [Module; 5] = [
        Module::OriginTag,
        Module::LoopGuard,
        Module::MirrorGuard,
        Module::OriginStrip,
        Module::MirrorPolicy,
    ];

    /// Params the module requires, then those it accepts; the topic hook's `count` and `age`
    /// are accepted and ignored by mirror-policy.
    pub fn params(self) -> (&'static [&'static Param], &'static [&'static Param]) {
        match self {
            Module::OriginTag => (&[&CLUSTER], &[&CARRIER, &SECRET]),
            Module::LoopGuard => (&[&CLUSTER], &[&MAX_HOPS, &ON_LOOP, &SECRET, &CARRIER]),
            Module::MirrorGuard => (&[&CLUSTER, &MIRROR_OF], &[&TOPIC, &MODE, &SECRET, &CARRIER]),
            Module::OriginStrip => (&[], &[&CARRIER]),
            Module::MirrorPolicy => (
                &[&CLUSTER],
                &[
                    &CARRIER, &SECRET, &MAX_HOPS, &ON_LOOP, &MIRROR_OF, &TOPIC, &MODE, &DEDUP,
                    &COUNT, &AGE,
                ],
            ),
        }
    }
}

/// A param's name, what it holds and an example value, for error messages and docs.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub what: &'static str,
    pub example: &'static str,
}

impl Param {
    /// Appends ` (what it holds, e.g. -e name=example)` to an error message.
    fn explain(&self, m: Text) -> Text {
        m.push(" (")
            .push(self.what)
            .push(", e.g. -e ")
            .push(self.name)
            .push("=")
            .push(self.example)
            .push(")")
    }
}

const CLUSTER: Param = Param {
    name: "cluster",
    what: "this cluster's id, [A-Za-z0-9._-], at most 64 bytes",
    example: "home",
};
const CARRIER: Param = Param {
    name: "carrier",
    what: "where the origin tag travels: value or key",
    example: "value",
};
const SECRET: Param = Param {
    name: "secret",
    what: "the secret shared by all clusters that authenticates tags",
    example: "a-long-random-string",
};
const MAX_HOPS: Param = Param {
    name: "max_hops",
    what: "hops after which a record is stopped, 1 to 15",
    example: "8",
};
const ON_LOOP: Param = Param {
    name: "on_loop",
    what: "drop or reject a record that loops",
    example: "drop",
};
const MIRROR_OF: Param = Param {
    name: "mirror_of",
    what: "comma-separated upstream cluster ids",
    example: "edge-1",
};
const TOPIC: Param = Param {
    name: "topic",
    what: "the topic's name, used in messages",
    example: "orders",
};
const MODE: Param = Param {
    name: "mode",
    what: "reject, drop or audit local writes",
    example: "audit",
};
const COUNT: Param = Param {
    name: "count",
    what: "set by the topic hook; ignored",
    example: "1",
};
const DEDUP: Param = Param {
    name: "dedup",
    what: "how many recently stored records to remember, to drop one that arrives again (0 to 1000000, 0 = off; give the topic hook a bounds.count as large)",
    example: "10000",
};
const AGE: Param = Param {
    name: "age",
    what: "set by the topic hook; ignored",
    example: "1000",
};

/// Every param any module knows, for docs.
pub const ALL_PARAMS: &[&Param] = &[
    &CLUSTER, &CARRIER, &SECRET, &MAX_HOPS, &ON_LOOP, &MIRROR_OF, &TOPIC, &MODE, &DEDUP, &COUNT,
    &AGE,
];

/// Why a build without MAC code refuses `secret`, and the fix.
const NO_MAC_SUPPORT: &str = "param 'secret' needs MAC support, which this build of the module \
    leaves out; deploy the build with it (cargo build-modules), or drop the param";

/// Largest `dedup` window.
pub const MAX_DEDUP: u32 = 1_000_000;

/// Default for `max_hops`.
pub const DEFAULT_MAX_HOPS: u8 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
struct LoopCheck {
    max_hops: u8,
    on_loop: OnLoop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Guard {
    mirror_of: Vec<String>,
    topic: Option<String>,
    mode: Mode,
}

/// A module's configured decision procedure.
#[derive(Debug, Clone)]
pub struct Policy {
    module: Module,
    cluster: String,
    carrier: Carrier,
    secret: Option<Secret>,
    loop_check: Option<LoopCheck>,
    guard: Option<Guard>,
    dedup: Option<Window>,
}

/// The parts of a record a decision reads.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    pub timestamp: i64,
    pub offset: i64,
}

/// Why a record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Loop,
    LocalWrite,
    /// The same origin and record id was stored within the `dedup` window.
    Duplicate,
}

/// The decision on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// Keep the record byte for byte.
    Pass,
    Drop(Dropped),
    /// Refuse the write; the hint is what the producer reads.
    Refuse(String),
    /// Keep the record with its carrier replaced by the tag written to the scratch buffer,
    /// followed by `payload`; or, when `absent`, with no key at all.
    Rewrite {
        payload: &'a [u8],
        absent: bool,
    },
}

impl Policy {
    /// Builds the policy of `module` from its params, checking every name and value. Inlined,
    /// so that a SmartModule, which passes its own module as a constant, keeps only the
    /// checks of the params it takes.
    #[inline(always)]
    pub fn from_params<'p>(
        module: Module,
        params: impl IntoIterator<Item = (&'p str, &'p str)>,
    ) -> Result<Self, String> {
        // Read before any closure captures `module`: a captured value lives in memory, and the
        // stage tests below must stay constants, so that a module's code keeps only its stages.
        let (takes_secret, checks_loops) = (module.authenticates(), module.checks_loops());
        let (guards, dedups) = (module.guards(), module.dedups());
        let (required, optional) = module.params();
        let mut seen: Vec<(&'static Param, &'p str)> = Vec::new();
        for (name, value) in params {
            let Some(p) = required.iter().chain(optional).find(|p| p.name == name) else {
                let mut m = msg(module).push("unknown param '").push(name).push("'; ");
                m = match required.len() + optional.len() {
                    0 => m.push("it takes none"),
                    _ => {
                        let mut m = m.push("known params: ");
                        for (i, p) in required.iter().chain(optional).enumerate() {
                            m = m.push(if i == 0 { "" } else { ", " }).push(p.name);
                        }
                        m
                    }
                };
                return Err(m.0);
            };
            seen.push((p, value));
        }
        for p in required {
            if !seen.iter().any(|(s, _)| s.name == p.name) {
                return Err(p
                    .explain(msg(module).push("missing param '").push(p.name).push("'"))
                    .0);
            }
        }
        let get = |p: &Param| seen.iter().find(|(s, _)| s.name == p.name).map(|(_, v)| *v);
        let bad = |p: &Param, value: &str, why: &str| -> String {
            let m = msg(module)
                .push("bad param '")
                .push(p.name)
                .push("'='")
                .push(value);
            p.explain(m.push("': ").push(why)).0
        };
        let cluster = match get(&CLUSTER) {
            Some(v) => {
                validate_cluster_id(v).map_err(|e| bad(&CLUSTER, v, e.as_str()))?;
                String::from(v)
            }
            None => String::new(),
        };
        let carrier = match get(&CARRIER) {
            None | Some("value") => Carrier::Value,
            Some("key") => Carrier::Key,
            Some(v) => return Err(bad(&CARRIER, v, "not value or key")),
        };
        // Only modules that check MACs take a secret: origin-strip's code keeps no HMAC.
        let secret = if takes_secret {
            match get(&SECRET) {
                None => None,
                Some("") => return Err(bad(&SECRET, "", "empty")),
                // `None` only in a build without MAC support.
                Some(v) => match Secret::new(v.as_bytes()) {
                    Some(key) => Some(key),
                    None => return Err(msg(module).push(NO_MAC_SUPPORT).0),
                },
            }
        } else {
            None
        };
        let loop_check = checks_loops
            .then(|| -> Result<LoopCheck, String> {
                let max_hops = match get(&MAX_HOPS) {
                    None => DEFAULT_MAX_HOPS,
                    Some(v) => match parse_number(v) {
                        Some(n) if (1..MAX_PATH as u32).contains(&n) => n as u8,
                        _ => return Err(bad(&MAX_HOPS, v, "not a number from 1 to 15")),
                    },
                };
                let on_loop = match get(&ON_LOOP) {
                    None | Some("drop") => OnLoop::Drop,
                    Some("reject") => OnLoop::Reject,
                    Some(v) => return Err(bad(&ON_LOOP, v, "not drop or reject")),
                };
                Ok(LoopCheck { max_hops, on_loop })
            })
            .transpose()?;
        let guard = match get(&MIRROR_OF).filter(|_| guards) {
            None => {
                for p in [&TOPIC, &MODE] {
                    if get(p).is_some() {
                        let m = msg(module).push("param '").push(p.name);
                        return Err(MIRROR_OF
                            .explain(m.push("' has no effect without 'mirror_of'"))
                            .0);
                    }
                }
                None
            }
            Some(v) => {
                let mut mirror_of: Vec<String> = Vec::new();
                // An array pattern: a char pattern would bring in a 300-byte memchr.
                for id in v.split([',']).map(str::trim_ascii) {
                    validate_cluster_id(id).map_err(|e| bad(&MIRROR_OF, v, e.as_str()))?;
                    if id == cluster {
                        return Err(bad(&MIRROR_OF, v, "names this cluster itself"));
                    }
                    if !mirror_of.iter().any(|m| m == id) {
                        mirror_of.push(String::from(id));
                    }
                }
                let mode = match get(&MODE) {
                    None | Some("reject") => Mode::Reject,
                    Some("drop") => Mode::Drop,
                    Some("audit") => Mode::Audit,
                    Some(v) => return Err(bad(&MODE, v, "not reject, drop or audit")),
                };
                let topic = match get(&TOPIC) {
                    Some("") => return Err(bad(&TOPIC, "", "empty")),
                    t => t.map(String::from),
                };
                Some(Guard {
                    mirror_of,
                    topic,
                    mode,
                })
            }
        };
        Ok(Policy {
            module,
            cluster,
            carrier,
            secret,
            loop_check,
            guard,
            dedup: match get(&DEDUP).filter(|_| dedups) {
                None | Some("0") => None,
                Some(v) => match parse_number(v) {
                    Some(n) if n <= MAX_DEDUP => Some(Window::new(n as usize)),
                    _ => return Err(bad(&DEDUP, v, "not a number from 0 to 1000000")),
                },
            },
        })
    }

    pub fn module(&self) -> Module {
        self.module
    }

    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// Decides on one record. A rewritten tag is left in `scratch` (cleared first). With a
    /// `dedup` window, a record that is kept is remembered once its batch is written
    /// ([`Policy::end_batch`]).
    pub fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut Vec<u8>) -> Outcome<'a> {
        self.decide_as(self.module, rec, scratch)
    }

    /// [`decide`](Self::decide) for a `module` known when the caller is compiled: a
    /// SmartModule passes its own, a constant, so that the stages it does not run are left
    /// out of its code. `module` must be the one the policy was built for.
    #[inline(always)]
    pub fn decide_as<'a>(
        &mut self,
        module: Module,
        rec: &RecordView<'a>,
        scratch: &mut Vec<u8>,
    ) -> Outcome<'a> {
        let (outcome, key) = self.judge(module, rec, scratch);
        if let (true, Some(window), Some(key), Outcome::Pass | Outcome::Rewrite { .. }) =
            (module.dedups(), &mut self.dedup, key, &outcome)
        {
            window.keep(key);
        }
        outcome
    }

    /// The batch ended, written or refused: the records it kept join the `dedup` window only
    /// if it was written, so that a refused batch sent again is not taken for duplicates.
    pub fn end_batch(&mut self, written: bool) {
        if let Some(window) = &mut self.dedup {
            window.end_batch(written);
        }
    }

    /// Remembers a record the topic already stored (replayed through `look_back`), so that
    /// the `dedup` window survives a restart.
    pub fn remember(&mut self, rec: &RecordView<'_>) {
        let Some(window) = &mut self.dedup else {
            return;
        };
        let field = match self.carrier {
            Carrier::Value => Some(rec.value),
            Carrier::Key => rec.key,
        };
        if let Some(Ok(Decoded::Tagged { envelope, .. })) = field.map(decode) {
            window.remember(Seen::key(envelope.origin(), envelope.id()));
        }
    }

    /// How many stored records the `dedup` window holds.
    pub fn remembered(&self) -> usize {
        self.dedup.as_ref().map_or(0, Window::len)
    }

    /// The decision, and the (origin, id) key of the record as it would be stored. Each stage
    /// is behind its `module` test, which is constant in a SmartModule.
    #[inline(always)]
    fn judge<'a>(
        &self,
        module: Module,
        rec: &RecordView<'a>,
        scratch: &mut Vec<u8>,
    ) -> (Outcome<'a>, Option<u128>) {
        scratch.clear();
        let field = match self.carrier {
            Carrier::Value => Some(rec.value),
            Carrier::Key => rec.key,
        };
        let found = field.map_or(Ok(Decoded::Untagged), decode);
        let mut malformed = None;
        // The tag is borrowed where it was decoded: the hot path moves no envelope around.
        let (tag, payload) = match &found {
            Ok(Decoded::Tagged { envelope, payload }) => {
                if let (true, Some(secret)) = (module.authenticates(), &self.secret) {
                    if let Err(e) = verify(envelope, secret, payload) {
                        return (Outcome::Refuse(self.bad_tag(rec, e)), None);
                    }
                }
                (Some(envelope), *payload)
            }
            Ok(Decoded::Untagged) => (None, field.unwrap_or(&[])),
            // With a secret a malformed tag is refused like a forged one. Without, it is payload
            // that happens to start with MAGIC, until tagging would wrap it in a second tag.
            Err(e) if module.authenticates() && self.secret.is_some() => {
                return (Outcome::Refuse(self.bad_tag(rec, *e)), None)
            }
            Err(e) => {
                malformed = Some(*e);
                (None, field.unwrap_or(&[]))
            }
        };

        // The (origin, id) key is only needed by a `dedup` window.
        let keyed = module.dedups() && self.dedup.is_some();
        let mut key = tag.filter(|_| keyed).map(|e| Seen::key(e.origin(), e.id()));

        if module.strips() {
            return (
                match tag {
                    Some(env) => Outcome::Rewrite {
                        payload,
                        absent: self.carrier == Carrier::Key && env.flags() & FLAG_NO_KEY != 0,
                    },
                    None => Outcome::Pass,
                },
                key,
            );
        }

        if let (true, Some(lc), Some(env)) = (module.checks_loops(), &self.loop_check, tag) {
            let returned = env.returned_to(&self.cluster);
            if returned || env.hops() >= lc.max_hops {
                return (
                    match lc.on_loop {
                        OnLoop::Drop => Outcome::Drop(Dropped::Loop),
                        OnLoop::Reject => {
                            let m = msg(self.module).push("record at offset ").int(rec.offset);
                            let m = if returned {
                                m.push(" came back to cluster '")
                                    .push(&self.cluster)
                                    .push("' it already passed through")
                            } else {
                                m.push(" has made ")
                                    .int(i64::from(env.hops()))
                                    .push(" hops, the limit is max_hops=")
                                    .int(i64::from(lc.max_hops))
                            };
                            Outcome::Refuse(path_text(m.push(" (path: "), env).push(")").0)
                        }
                    },
                    key,
                );
            }
        }

        if let (true, Some(window), Some(k)) = (module.dedups(), &self.dedup, key) {
            if window.contains(k) {
                return (Outcome::Drop(Dropped::Duplicate), key);
            }
        }

        let mut violation = false;
        if let (true, Some(g)) = (module.guards(), &self.guard) {
            let upstream = |c: &str| g.mirror_of.iter().any(|m| m == c);
            let mirrored = tag.is_some_and(|env| {
                upstream(env.origin()) || env.last_other_than(&self.cluster).is_some_and(upstream)
            });
            if !mirrored {
                match g.mode {
                    Mode::Reject => return (Outcome::Refuse(self.local_write_hint(g)), key),
                    Mode::Drop => return (Outcome::Drop(Dropped::LocalWrite), key),
                    Mode::Audit => violation = true,
                }
            }
        }

        if !module.tags() && !violation {
            return (Outcome::Pass, key);
        }
        let violation_flag = if violation { FLAG_VIOLATION } else { 0 };
        // The tag is written straight into `scratch`: the forwarded one as the decoded tag
        // plus this cluster and the flag, a new one from this cluster's id (which
        // `from_params` validated).
        let fresh;
        let (env, flags, hop) = match tag {
            Some(env) => {
                let hop = module.tags() && !env.last_is(&self.cluster);
                if !hop && (!violation || env.is_violation()) {
                    return (Outcome::Pass, key);
                }
                if hop && env.count() >= MAX_PATH {
                    let e = EnvelopeError::PathTooLong;
                    return (Outcome::Refuse(self.bad_path(rec, env, e)), key);
                }
                let hop = hop.then_some(self.cluster.as_str());
                (env, env.flags() | violation_flag, hop)
            }
            None => {
                // The audit flag wraps anything, so that nothing a producer wrote is lost.
                if let (Some(e), false) = (malformed, violation) {
                    return (Outcome::Refuse(self.bad_tag(rec, e)), key);
                }
                let id = record_id(&self.cluster, rec.timestamp, rec.offset, rec.key, rec.value);
                key = keyed.then(|| Seen::key(&self.cluster, id));
                let mut flags = violation_flag;
                if self.carrier == Carrier::Key && rec.key.is_none() {
                    flags |= FLAG_NO_KEY;
                }
                fresh = Envelope::origin_trusted(flags, &self.cluster, rec.timestamp, id);
                (&fresh, flags, None)
            }
        };
        env.write(flags, hop, None, scratch);
        if let (true, Some(secret)) = (module.authenticates(), &self.secret) {
            seal_in_place(secret, scratch, payload);
        }
        (
            Outcome::Rewrite {
                payload,
                absent: false,
            },
            key,
        )
    }

    fn bad_tag(&self, rec: &RecordView<'_>, e: EnvelopeError) -> String {
        let m = msg(self.module)
            .push("record at offset ")
            .int(rec.offset)
            .push(" has an invalid origin tag: ")
            .push(e.as_str());
        match e {
            EnvelopeError::BadMac | EnvelopeError::MissingMac => m.push("; it was not tagged with this cluster's secret (forged, or the clusters' secrets differ)"),
            _ if self.module.tags() && self.secret.is_none() => m.push("; refusing to wrap it in a second tag (fix the producer, or strip the tag first)"),
            _ => m,
        }
        .0
    }

    fn bad_path(&self, rec: &RecordView<'_>, env: &Envelope<'_>, e: EnvelopeError) -> String {
        let m = msg(self.module).push("record at offset ").int(rec.offset);
        let m = match e {
            EnvelopeError::PathTooLong => m.push(" has passed through 16 clusters, the most an origin path holds; lower max_hops on loop-guard"),
            _ => m.push(": ").push(e.as_str()),
        };
        path_text(m.push(" (path: "), env).push(")").0
    }

    /// `cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from
    /// 'edge-1'; produce there instead`
    fn local_write_hint(&self, g: &Guard) -> String {
        let m = match &g.topic {
            Some(t) => Text::new("cannot produce to mirror topic '")
                .push(t)
                .push("'"),
            None => Text::new("cannot produce to this mirror topic"),
        };
        let mut m = m
            .push(" on cluster '")
            .push(&self.cluster)
            .push("': it is mirrored from ");
        for (i, up) in g.mirror_of.iter().enumerate() {
            m = m.push(if i == 0 { "'" } else { ", '" }).push(up).push("'");
        }
        m.push("; produce there instead").0
    }
}

#[cfg(feature = "mac")]
use crate::mac::MacKey as Secret;

/// A build without MAC support holds no secret: `from_params` refuses the param.
#[cfg(not(feature = "mac"))]
#[derive(Debug, Clone)]
enum Secret {}

#[cfg(not(feature = "mac"))]
impl Secret {
    fn new(_: &[u8]) -> Option<Self> {
        None
    }
}

#[cfg(feature = "mac")]
fn verify(env: &Envelope<'_>, secret: &Secret, payload: &[u8]) -> Result<(), EnvelopeError> {
    env.verify_decoded(secret, payload)
}

/// Seals the tag `scratch` holds (written with no MAC).
#[cfg(feature = "mac")]
fn seal_in_place(secret: &Secret, scratch: &mut Vec<u8>, payload: &[u8]) {
    secret.seal_in_place(scratch, payload);
}

#[cfg(not(feature = "mac"))]
fn verify(_: &Envelope<'_>, secret: &Secret, _: &[u8]) -> Result<(), EnvelopeError> {
    match *secret {}
}

#[cfg(not(feature = "mac"))]
fn seal_in_place(secret: &Secret, _: &mut Vec<u8>, _: &[u8]) {
    match *secret {}
}

fn parse_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 7 {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Text built without `core::fmt`, which would add kilobytes to every module.
struct Text(String);

impl Text {
    fn new(s: &str) -> Self {
        Text(String::from(s))
    }

    // Out of line: messages chain many pushes, and each inlined one costs a module bytes.
    #[inline(never)]
    fn push(mut self, s: &str) -> Self {
        self.0.push_str(s);
        self
    }

    fn int(mut self, v: i64) -> Self {
        smartmodule_abi::text::push_int(&mut self.0, v);
        self
    }
}

fn msg(module: Module) -> Text {
    Text::new(module.name()).push(": ")
}

fn path_text(mut m: Text, env: &Envelope<'_>) -> Text {
    for (i, c) in env.path().iter().enumerate() {
        m = m.push(if i == 0 { "" } else { " > " }).push(c);
    }
    m
}
