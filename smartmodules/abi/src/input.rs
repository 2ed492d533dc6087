//! `SmartModuleInput` and `SmartModuleInitInput`, decoded for the version the host passes.
//!
//! `SmartModuleInput` at version `v`: `base_offset i64 | raw_bytes Vec<u8>`, then
//! `params` (v <= 22), `join_record Vec<u8>` (16 <= v <= 22), `base_timestamp i64` (v >= 22).
//! `params` is `SmartModuleExtraParams`: a map (`u16` count of `String` pairs), then
//! `lookback: Option<Lookback>` (v >= 20) where `Lookback` is `last u64` and
//! `age: Option<Duration>` (v >= 21, `u64` seconds + `u32` nanoseconds).

use alloc::vec::Vec;

use crate::record::Records;
use crate::wire::{DecodeError, Reader};

/// Last version that still carries `params` in `SmartModuleInput`.
const PARAMS_MAX_VERSION: u32 = 22;
const JOIN_MIN_VERSION: u32 = 16;
const JOIN_MAX_VERSION: u32 = 22;
/// First version with `base_timestamp`.
pub const TIMESTAMP_MIN_VERSION: u32 = 22;
const LOOKBACK_MIN_VERSION: u32 = 20;
const LOOKBACK_AGE_MIN_VERSION: u32 = 21;

/// A batch handed to a transform: records are walked lazily from the borrowed bytes.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub base_offset: i64,
    /// Zero when the version predates `base_timestamp`.
    pub base_timestamp: i64,
    /// The encoded `Vec<Record>`.
    pub records: &'a [u8],
    /// Params inside the input (versions up to 22): the host's copy of what `init` got.
    pub params: Option<Params<'a>>,
    pub version: u32,
}

impl<'a> Input<'a> {
    pub fn decode(bytes: &'a [u8], version: u32) -> Result<Self, DecodeError> {
        Self::read(&mut Reader::new(bytes), version)
    }

    /// Reads the input's fields from `r`, which is left after them (an aggregate's
    /// accumulator follows). Inlined: out of line, it costs every module a hundred bytes.
    #[inline(always)]
    pub(crate) fn read(r: &mut Reader<'a>, version: u32) -> Result<Self, DecodeError> {
        let base_offset = r.i64("base offset")?;
        let records = r.byte_vec("records")?;
        let params = if version <= PARAMS_MAX_VERSION {
            Some(Params::read(r, version)?)
        } else {
            None
        };
        if (JOIN_MIN_VERSION..=JOIN_MAX_VERSION).contains(&version) {
            r.byte_vec("join record")?;
        }
        let base_timestamp = if version >= TIMESTAMP_MIN_VERSION {
            r.i64("base timestamp")?
        } else {
            0
        };
        Ok(Self {
            base_offset,
            base_timestamp,
            records,
            params,
            version,
        })
    }

    pub fn records(&self) -> Result<Records<'a>, DecodeError> {
        Records::new(self.records)
    }
}

/// How much history the host replays into `look_back`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    pub last: u64,
    pub age_ms: Option<u64>,
}

/// SmartModule params: string pairs in the order the host sent them (sorted by key, since the
/// host keeps them in a `BTreeMap`), and the lookback settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    pub lookback: Option<Lookback>,
}

impl<'a> Params<'a> {
    /// Decodes a `SmartModuleInitInput`, which is just `SmartModuleExtraParams`.
    pub fn decode(bytes: &'a [u8], version: u32) -> Result<Self, DecodeError> {
        Self::read(&mut Reader::new(bytes), version)
    }

    fn read(r: &mut Reader<'a>, version: u32) -> Result<Self, DecodeError> {
        let count = r.u16("param count")?;
        let mut pairs = Vec::with_capacity(usize::from(count).min(r.remaining() / 4));
        for _ in 0..count {
            let key = r.string("param name")?;
            let value = r.string("param value")?;
            pairs.push((key, value));
        }
        let mut lookback = None;
        if version >= LOOKBACK_MIN_VERSION && r.bool("lookback flag")? {
            let last = r.u64("lookback last")?;
            let mut age_ms = None;
            if version >= LOOKBACK_AGE_MIN_VERSION && r.bool("lookback age flag")? {
                let secs = r.u64("lookback age seconds")?;
                let nanos = r.u32("lookback age nanoseconds")?;
                age_ms = Some(
                    secs.saturating_mul(1000)
                        .saturating_add(u64::from(nanos / 1_000_000)),
                );
            }
            lookback = Some(Lookback { last, age_ms });
        }
        Ok(Self { pairs, lookback })
    }

    /// Builds params directly, for native tests of policy code.
    pub fn from_pairs(pairs: &[(&'a str, &'a str)]) -> Self {
        Self {
            pairs: pairs.to_vec(),
            lookback: None,
        }
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.pairs.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}
