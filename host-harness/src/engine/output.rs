//! Reading what a module hands back through `copy_records`, bounded by the bytes it handed.
//!
//! `fluvio-protocol`'s decoders trust the lengths they read: a record value's length is
//! turned into `BytesMut::with_capacity(len)` before the bytes are looked at, so 14 bytes
//! claiming a value of 2^62 bytes (or a negative one) abort or panic the host. Before
//! decoding, the bytes are walked once along the exact layout the decoder follows (the same
//! fields, in the same order, at the same API version), and every length is checked against
//! the bytes left. Only bytes that pass are handed to `fluvio-protocol`, so the records are
//! decoded by the same code as in the broker, and nothing it allocates can be larger than the
//! range the module handed back, which lies inside the module's own memory.

/// Which output type the bytes must be, as the decoder reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputType {
    /// `SmartModuleOutput`: records and an optional transform runtime error.
    Transform,
    /// `SmartModuleAggregateOutput`: a `SmartModuleOutput` and, from version 16, the
    /// accumulator.
    Aggregate,
    /// `SmartModuleInitOutput`: the init error's hint.
    Init,
    /// `SmartModuleLookbackOutput`: the look-back error.
    LookBack,
}

impl OutputType {
    /// The type's name, as errors give it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            OutputType::Transform => "SmartModuleOutput",
            OutputType::Aggregate => "SmartModuleAggregateOutput",
            OutputType::Init => "SmartModuleInitOutput",
            OutputType::LookBack => "SmartModuleLookbackOutput",
        }
    }
}

/// Why the bytes cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// A length larger than the bytes left after it (or negative, which the decoder would
    /// take as huge).
    Length {
        field: &'static str,
        claimed: i64,
        left: usize,
    },
    /// Anything else the decoder would refuse: bytes missing, a bool that is not 0 or 1, a
    /// varint longer than ten bytes.
    Shape {
        field: &'static str,
        problem: String,
    },
}

/// What the scan learnt: how much host memory the decoded output will take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Footprint {
    pub(crate) records: usize,
    /// Host bytes: a `Record` struct per record plus every payload byte.
    pub(crate) bytes: usize,
}

/// Host bytes of one decoded record besides its key and value.
const RECORD_SIZE: usize = std::mem::size_of::<fluvio_protocol::record::Record>();

/// Walks `bytes` as `ty` at `version`; `Ok` means `fluvio-protocol` can decode them without
/// allocating past them.
pub(crate) fn scan(bytes: &[u8], ty: OutputType, version: i16) -> Result<Footprint, Malformed> {
    let mut s = Scanner {
        rest: bytes,
        footprint: Footprint::default(),
    };
    match ty {
        OutputType::Transform => s.output()?,
        OutputType::Aggregate => {
            s.output()?;
            if version >= 16 {
                s.byte_vec("accumulator")?;
            }
        }
        OutputType::Init => s.string("error.hint")?,
        OutputType::LookBack => {
            s.string("error.hint")?;
            s.take(8, "error.offset")?;
            s.option_data("error.record_key")?;
            s.data("error.record_value")?;
        }
    }
    Ok(s.footprint)
}

struct Scanner<'a> {
    rest: &'a [u8],
    footprint: Footprint,
}

impl Scanner<'_> {
    fn shape(field: &'static str, problem: impl Into<String>) -> Malformed {
        Malformed::Shape {
            field,
            problem: problem.into(),
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&[u8], Malformed> {
        if self.rest.len() < n {
            return Err(Self::shape(
                field,
                format!("needs {n} bytes, {} left", self.rest.len()),
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, Malformed> {
        let b = self.take(4, field)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, Malformed> {
        let b = self.take(2, field)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn bool(&mut self, field: &'static str) -> Result<bool, Malformed> {
        match self.take(1, field)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(Self::shape(
                field,
                format!("is {other}, not a bool (0 or 1)"),
            )),
        }
    }

    /// A zigzag varint as `fluvio-protocol` reads it. It shifts by 7 per byte with no
    /// bound, so more than ten bytes would shift an i64 past its width.
    fn varint(&mut self, field: &'static str) -> Result<i64, Malformed> {
        let mut num: i64 = 0;
        for i in 0..10 {
            let b = self.take(1, field)?[0];
            num |= ((b & 0x7f) as i64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok((num >> 1) ^ -(num & 1));
            }
        }
        Err(Self::shape(field, "is a varint longer than ten bytes"))
    }

    /// A length that the decoder allocates or reads: at most the bytes left.
    fn length(&mut self, claimed: i64, field: &'static str) -> Result<usize, Malformed> {
        let left = self.rest.len();
        match usize::try_from(claimed) {
            Ok(n) if n <= left => Ok(n),
            _ => Err(Malformed::Length {
                field,
                claimed,
                left,
            }),
        }
    }

    /// `RecordData`: a varint length, then the bytes.
    fn data(&mut self, field: &'static str) -> Result<(), Malformed> {
        let claimed = self.varint(field)?;
        let n = self.length(claimed, field)?;
        self.take(n, field)?;
        self.footprint.bytes = self.footprint.bytes.saturating_add(n);
        Ok(())
    }

    fn option_data(&mut self, field: &'static str) -> Result<(), Malformed> {
        if self.bool(field)? {
            self.data(field)?;
        }
        Ok(())
    }

    /// `String`: an i16 length (none when not positive), then UTF-8 bytes.
    fn string(&mut self, field: &'static str) -> Result<(), Malformed> {
        let claimed = self.i16(field)?;
        if claimed > 0 {
            let n = self.length(claimed.into(), field)?;
            self.take(n, field)?;
            self.footprint.bytes = self.footprint.bytes.saturating_add(n);
        }
        Ok(())
    }

    /// `Vec<u8>` (not varint): an i32 count (none when not positive), then the bytes.
    fn byte_vec(&mut self, field: &'static str) -> Result<(), Malformed> {
        let claimed = self.i32(field)?;
        if claimed > 0 {
            let n = self.length(claimed.into(), field)?;
            self.take(n, field)?;
            self.footprint.bytes = self.footprint.bytes.saturating_add(n);
        }
        Ok(())
    }

    /// `Record`: a varint total length the decoder checks against the bytes left, the
    /// preamble (attributes, timestamp delta, offset delta), key, value and header count.
    fn record(&mut self) -> Result<(), Malformed> {
        let total = self.varint("record length")?;
        if total > 0 {
            // The decoder refuses a record longer than what is left.
            self.length(total, "record length")?;
        }
        self.take(1, "record attributes")?;
        self.varint("record timestamp delta")?;
        self.varint("record offset delta")?;
        self.option_data("record key")?;
        self.data("record value")?;
        self.varint("record headers")?;
        self.footprint.records += 1;
        self.footprint.bytes = self.footprint.bytes.saturating_add(RECORD_SIZE);
        Ok(())
    }

    /// `SmartModuleOutput`: `Vec<Record>` (i32 count), then `Option<TransformRuntimeError>`.
    fn output(&mut self) -> Result<(), Malformed> {
        let count = self.i32("successes count")?;
        // Each record takes at least 6 bytes, so the count is bounded by the bytes; the
        // decoder does not pre-allocate for it, so a large count is only a shape error.
        for _ in 0..count.max(0) {
            self.record()?;
        }
        if self.bool("error")? {
            self.string("error.hint")?;
            self.take(8, "error.offset")?;
            self.take(1, "error.kind")?;
            self.option_data("error.record_key")?;
            self.data("error.record_value")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluvio_protocol::record::Record;
    use fluvio_protocol::{Decoder, Encoder};
    use fluvio_smartmodule::dataplane::smartmodule::{
        SmartModuleAggregateOutput, SmartModuleOutput, SmartModuleTransformRuntimeError,
    };

    fn encode<E: Encoder>(e: &E) -> Vec<u8> {
        let mut out = Vec::new();
        e.encode(&mut out, 22).unwrap();
        out
    }

    #[test]
    fn valid_outputs_pass_and_are_measured() {
        let mut out =
            SmartModuleOutput::new(vec![Record::new_key_value("k", "value"), Record::new("")]);
        out.error = Some(SmartModuleTransformRuntimeError {
            hint: "no".into(),
            record_value: "v".into(),
            ..Default::default()
        });
        let bytes = encode(&out);
        let f = scan(&bytes, OutputType::Transform, 22).unwrap();
        assert_eq!(f.records, 2);
        assert_eq!(f.bytes, 2 * RECORD_SIZE + 1 + 5 + 2 + 1);
        let agg = SmartModuleAggregateOutput::new(SmartModuleOutput::default(), b"acc".to_vec());
        assert!(scan(&encode(&agg), OutputType::Aggregate, 22).is_ok());
    }

    #[test]
    fn a_value_claiming_more_than_is_left_is_refused_before_decoding() {
        // One record: length 8, attributes, deltas 0, no key, value claiming 2^61 bytes.
        let mut bytes = vec![0, 0, 0, 1, 16, 0, 0, 0, 0];
        bytes.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
        bytes.extend([0, 0]);
        assert!(matches!(
            scan(&bytes, OutputType::Transform, 22),
            Err(Malformed::Length {
                field: "record value",
                claimed: 0x2000_0000_0000_0000,
                ..
            })
        ));
        // A negative length (zigzag 1 = -1) is refused too: the decoder takes it as huge.
        let negative = [0, 0, 0, 1, 12, 0, 0, 0, 0, 1, 0, 0];
        assert!(matches!(
            scan(&negative, OutputType::Transform, 22),
            Err(Malformed::Length { claimed: -1, .. })
        ));
    }

    #[test]
    fn shapes_the_decoder_refuses_are_refused() {
        let eleven = [
            0u8, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert!(matches!(
            scan(&eleven, OutputType::Transform, 22),
            Err(Malformed::Shape { .. })
        ));
        assert!(matches!(
            scan(&[0, 0, 0, 9], OutputType::Transform, 22),
            Err(Malformed::Shape { .. })
        ));
        assert!(matches!(
            scan(&[0, 0, 0, 0, 7], OutputType::Transform, 22),
            Err(Malformed::Shape { field: "error", .. })
        ));
    }

    #[test]
    fn what_passes_the_scan_decodes() {
        // Every prefix of a valid output either fails the scan or decodes.
        let out = SmartModuleOutput::new(vec![Record::new_key_value("key", "a value")]);
        let bytes = encode(&out);
        for end in 0..=bytes.len() {
            if scan(&bytes[..end], OutputType::Transform, 22).is_ok() {
                let mut d = SmartModuleOutput::default();
                d.decode(&mut &bytes[..end], 22).unwrap();
            }
        }
    }
}
