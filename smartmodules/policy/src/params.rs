//! A module's params, checked once at init into the typed configs of its stages.
//!
//! Every error names the module, the param, what was wrong and an example, and is built
//! without `core::fmt`, which would cost every module kilobytes.

use alloc::string::String;

use core::fmt;
use smartmodule_text::owned;

use smartmodule_text::Text;

/// A param's name, what it holds and an example value, for error messages and docs.
#[derive(Debug, PartialEq, Eq)]
pub struct Param {
    /// As given with `-e name=value` or under `with:`.
    pub name: &'static str,
    /// What the value holds, for the hint of an error.
    pub what: &'static str,
    /// A value that works.
    pub example: &'static str,
}

/// This cluster's id, required by every module that tags or checks paths.
pub static CLUSTER: Param = Param {
    name: "cluster",
    what: "this cluster's id, [A-Za-z0-9._-], at most 64 bytes",
    example: "home",
};
/// Where the tag travels: `value` (default) or `key`.
pub static CARRIER: Param = Param {
    name: "carrier",
    what: "where the origin tag travels: value or key",
    example: "value",
};
/// The secret shared by every cluster, which seals and verifies tags.
pub static SECRET: Param = Param {
    name: "secret",
    what: "the secret shared by all clusters that authenticates tags, at least 16 bytes",
    example: "a-long-random-string",
};
/// The replicated data set a tag is sealed for.
pub static SCOPE: Param = Param {
    name: "scope",
    what: "the data set tags are sealed for, the same on every cluster that carries it",
    example: "orders",
};
/// Hops after which loop checks stop a record.
pub static MAX_HOPS: Param = Param {
    name: "max_hops",
    what: "hops after which a record is stopped, 1 to 15",
    example: "8",
};
/// How old a tagged record may be when it arrives.
pub static MAX_AGE: Param = Param {
    name: "max_age",
    what:
        "how long after its origin timestamp a tagged record is still accepted, e.g. 10m, 1h, 500ms",
    example: "10m",
};
/// What loop checks do with a looping record.
pub static ON_LOOP: Param = Param {
    name: "on_loop",
    what: "drop or reject a record that loops",
    example: "drop",
};
/// The upstream clusters of a mirror topic; turns the guard on.
pub static MIRROR_OF: Param = Param {
    name: "mirror_of",
    what: "comma-separated upstream cluster ids",
    example: "edge-1",
};
/// The topic's name, for the guard's refusal message.
pub static TOPIC: Param = Param {
    name: "topic",
    what: "the topic's name, used in messages",
    example: "orders",
};
/// What the guard does with a local write.
pub static MODE: Param = Param {
    name: "mode",
    what: "reject, drop or audit local writes",
    example: "audit",
};
/// The size of the de-duplication window.
pub static DEDUP: Param = Param {
    name: "dedup",
    what: "how many recently stored records to remember, to drop one that arrives again (0 to 1000000, 0 = off; at the topic hook it defaults to bounds.count and may not exceed it)",
    example: "10000",
};
/// Passed by the topic hook (`bounds.count`).
pub static COUNT: Param = Param {
    name: "count",
    what: "set by the topic hook from bounds.count: the dedup window when dedup is not set, at most 1000000",
    example: "10000",
};
/// Passed by the topic hook (`bounds.age`, in ms).
pub static AGE: Param = Param {
    name: "age",
    what: "set by the topic hook from bounds.age, in ms: max_age when max_age is not set",
    example: "600000",
};

/// The params a module takes: those it requires, then those it accepts, in the order error
/// messages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// Params without which init fails.
    pub required: &'static [&'static Param],
    /// Params with defaults.
    pub optional: &'static [&'static Param],
}

impl Known {
    /// Every param, required first.
    pub fn all(&self) -> impl Iterator<Item = &'static Param> + '_ {
        self.required.iter().chain(self.optional).copied()
    }

    /// The param called `name`, if the module takes it.
    pub fn get(&self, name: &str) -> Option<&'static Param> {
        self.position(name).and_then(|i| self.all().nth(i))
    }

    /// Where `name` is in [`all`](Self::all).
    fn position(&self, name: &str) -> Option<usize> {
        let mut i = 0;
        for list in [self.required, self.optional] {
            for p in list {
                if p.name == name {
                    return Some(i);
                }
                i += 1;
            }
        }
        None
    }
}

/// Why a module refuses its params at init. [`ParamError::message`] is the text the module
/// hands the host (and the producer reads), the same in every build. Boxed: a stage's
/// `Result<Stage, ParamError>` stays the size of the stage, which keeps every module's init
/// small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(alloc::boxed::Box<ParamErrorKind>);

/// What is wrong with a module's params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamErrorKind {
    /// A param the module does not take.
    Unknown {
        /// The module refusing.
        module: &'static str,
        /// The name given.
        name: String,
        /// What it takes.
        known: Known,
    },
    /// A required param is missing.
    Missing {
        /// The module refusing.
        module: &'static str,
        /// The param it requires.
        param: &'static Param,
    },
    /// A param's value is not one the module takes.
    Bad {
        /// The module refusing.
        module: &'static str,
        /// The param.
        param: &'static Param,
        /// The value given.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A param that only means something beside `needs`, which is missing.
    NoEffect {
        /// The module refusing.
        module: &'static str,
        /// The param given.
        param: &'static Param,
        /// The param it needs.
        needs: &'static Param,
    },
    /// `secret` given to a build without MAC code.
    NoMacSupport {
        /// The module refusing.
        module: &'static str,
    },
}

/// Why a build without MAC support refuses `secret`, and the fix.
const NO_MAC_SUPPORT: &str = "param 'secret' needs MAC support, which this build of the module \
    leaves out; deploy the build with it (cargo build-modules), or drop the param";

impl From<ParamErrorKind> for ParamError {
    fn from(kind: ParamErrorKind) -> Self {
        ParamError(alloc::boxed::Box::new(kind))
    }
}

impl ParamError {
    /// What is wrong.
    pub fn kind(&self) -> &ParamErrorKind {
        &self.0
    }

    /// The module that refused.
    pub fn module(&self) -> &'static str {
        match self.kind() {
            ParamErrorKind::Unknown { module, .. }
            | ParamErrorKind::Missing { module, .. }
            | ParamErrorKind::Bad { module, .. }
            | ParamErrorKind::NoEffect { module, .. }
            | ParamErrorKind::NoMacSupport { module } => module,
        }
    }

    /// The param at fault.
    pub fn param(&self) -> &str {
        match self.kind() {
            ParamErrorKind::Unknown { name, .. } => name,
            ParamErrorKind::Missing { param, .. }
            | ParamErrorKind::Bad { param, .. }
            | ParamErrorKind::NoEffect { param, .. } => param.name,
            ParamErrorKind::NoMacSupport { .. } => SECRET.name,
        }
    }

    /// `origin-tag: missing param 'cluster' (this cluster's id, ..., e.g. -e cluster=home)`
    pub fn message(&self) -> String {
        let m = Text::new(self.module()).push(": ");
        match self.kind() {
            ParamErrorKind::Unknown { name, known, .. } => {
                let m = m.push("unknown param '").push(name).push("'; ");
                if known.required.is_empty() && known.optional.is_empty() {
                    return m.push("it takes none").into();
                }
                let mut m = m.push("known params: ");
                for (i, p) in known.all().enumerate() {
                    m = m.push(if i == 0 { "" } else { ", " }).push(p.name);
                }
                m.into()
            }
            ParamErrorKind::Missing { param, .. } => {
                explain(m.push("missing param '").push(param.name).push("'"), param)
            }
            ParamErrorKind::Bad {
                param, value, why, ..
            } => {
                let m = m
                    .push("bad param '")
                    .push(param.name)
                    .push("'='")
                    .push(value);
                explain(m.push("': ").push(why), param)
            }
            ParamErrorKind::NoEffect { param, needs, .. } => {
                let m = m
                    .push("param '")
                    .push(param.name)
                    .push("' has no effect without '");
                explain(m.push(needs.name).push("'"), needs)
            }
            ParamErrorKind::NoMacSupport { .. } => m.push(NO_MAC_SUPPORT).into(),
        }
    }
}

/// Appends ` (what it holds, e.g. -e name=example)`.
fn explain(m: Text, p: &Param) -> String {
    m.push(" (")
        .push(p.what)
        .push(", e.g. -e ")
        .push(p.name)
        .push("=")
        .push(p.example)
        .push(")")
        .into()
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Most params a module may take.
pub const MAX_PARAMS: usize = 16;

/// The params a module was given, by their place in what it takes. An array, not a map:
/// a module's init allocates nothing for them.
#[derive(Debug, Clone)]
pub struct Params<'p> {
    module: &'static str,
    known: Known,
    values: [Option<&'p str>; MAX_PARAMS],
}

impl<'p> Params<'p> {
    /// Matches `pairs` against what `module` takes: a name it does not know, then a required
    /// param that is missing, is an error.
    pub fn new(
        module: &'static str,
        known: &Known,
        pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
    ) -> Result<Self, ParamError> {
        let mut values = [None; MAX_PARAMS];
        for (name, value) in pairs {
            match known.position(name).and_then(|i| values.get_mut(i)) {
                Some(slot) => *slot = Some(value),
                None => {
                    return Err(ParamErrorKind::Unknown {
                        module,
                        name: owned(name),
                        known: *known,
                    }
                    .into())
                }
            }
        }
        let params = Params {
            module,
            known: *known,
            values,
        };
        for &param in known.required {
            if params.get(param).is_none() {
                return Err(ParamErrorKind::Missing { module, param }.into());
            }
        }
        Ok(params)
    }

    /// The module the params are for.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The value given for `param`.
    pub fn get(&self, param: &Param) -> Option<&'p str> {
        let i = self.known.position(param.name)?;
        self.values.get(i).copied().flatten()
    }

    /// A [`ParamError::Bad`] for `param`.
    pub fn bad(&self, param: &'static Param, value: &str, why: &'static str) -> ParamError {
        ParamErrorKind::Bad {
            module: self.module,
            param,
            value: owned(value),
            why,
        }
        .into()
    }

    /// This cluster's id (`cluster`, a required param of every module that calls this; were
    /// it missing, it would be refused as empty), checked against the cluster id rules.
    pub fn cluster(&self) -> Result<String, ParamError> {
        let value = self.get(&CLUSTER).unwrap_or_default();
        origin::validate_cluster_id(value).map_err(|e| self.bad(&CLUSTER, value, e.as_str()))?;
        Ok(owned(value))
    }
}

/// A duration: a whole number with a unit, `ms`, `s`, `m`, `h` or `d` (a bare number is in
/// milliseconds, as the topic hook passes `age`), in milliseconds; at most a year.
pub(crate) fn parse_duration_ms(s: &str) -> Option<i64> {
    let split = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at_checked(split)?;
    // At most 11 digits: times a day's milliseconds, still within an i64.
    if digits.is_empty() || digits.len() > 11 {
        return None;
    }
    let n = digits
        .bytes()
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    let scale = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(scale)
        .filter(|ms| (1..=365 * 86_400_000).contains(ms))
}

/// A decimal number of 1 to 7 digits.
pub fn parse_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 7 {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: Known = Known {
        required: &[&CLUSTER],
        optional: &[&CARRIER, &SECRET],
    };

    #[test]
    fn unknown_then_missing() {
        let e = Params::new("origin-tag", &KNOWN, [("mirror_of", "x")]).unwrap_err();
        assert_eq!(
            e.message(),
            "origin-tag: unknown param 'mirror_of'; known params: cluster, carrier, secret"
        );
        let e = Params::new("origin-tag", &KNOWN, []).unwrap_err();
        assert!(
            matches!(e.kind(), ParamErrorKind::Missing { param, .. } if param.name == "cluster")
        );
        let none = Known {
            required: &[],
            optional: &[],
        };
        let e = Params::new("m", &none, [("a", "b")]).unwrap_err();
        assert_eq!(e.message(), "m: unknown param 'a'; it takes none");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("10m"), Some(600_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("1500"), Some(1_500));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Some(86_400_000));
        assert_eq!(parse_duration_ms("365d"), Some(365 * 86_400_000));
        for bad in [
            "",
            "0",
            "0s",
            "366d",
            "10 m",
            "m",
            "1.5h",
            "-1s",
            "10min",
            "99999999999999",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("1000000"), Some(1_000_000));
        assert_eq!(parse_number("10000000"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("-1"), None);
        assert_eq!(parse_number("1e3"), None);
    }
}
