//! Writing a chunk of source records to the target, in order, so that a refused record does
//! not take the others down with it.
//!
//! Fluvio refuses a whole produce request when its chain refuses one record (nothing of it is
//! stored). The bridge then finds the refused record and writes the others again, in order:
//! the module's error names the record (its key and value) for a producer-side chain, and for
//! a refusal at the topic hook, which only reads "a storage error occurred", the chunk is
//! halved until the refused record stands alone. Records before a refused one are stored
//! before the records after it, so order is kept.

use std::collections::VecDeque;
use std::time::Duration;

use fluvio_protocol::record::RecordData;

/// A record as read from the source partition: its offset, and its key and value, copied byte
/// for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub offset: i64,
    pub key: Option<RecordData>,
    pub value: RecordData,
}

impl SourceRecord {
    /// Bytes of key and value, for batch sizing.
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, |k| k.len()) + self.value.len()
    }
}

/// How the target answered one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Accepted: every record passed the chain (the topic hook may still have dropped some).
    Stored,
    /// A module refused a record; nothing of the write was stored. The error names the record
    /// as the module saw it, which is the source record when the refusing module is first.
    Refused {
        hint: String,
        key: Option<Vec<u8>>,
        value: Vec<u8>,
    },
    /// Refused without naming a record: the topic hook, or the target's storage.
    RefusedUnexplained { detail: String },
    /// More bytes than the target takes in one write.
    TooLarge,
    /// The connection or the partition's leader failed: retry from the last commit.
    Transient(String),
    /// The target cannot take this link's writes at all.
    Fatal(Fatal),
}

/// Why the target can never take the link's writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    /// The chain cannot be built: a module missing, params refused at init, a trap.
    Chain(String),
    /// The topic refuses every producer (a native mirror's home, a missing topic).
    Closed(String),
}

/// A record the target refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub record: SourceRecord,
    pub hint: String,
}

/// What delivering a chunk did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Records the target accepted.
    pub delivered: usize,
    /// Refused records, in offset order.
    pub refusals: Vec<Refusal>,
    /// Writes made, the first included (more than one only when something was refused).
    pub writes: usize,
    /// With `stop_at_refusal`: the first refusal stopped the delivery; the records after it
    /// were not written.
    pub stopped: bool,
}

/// A delivery that could not finish: retry later (transient) or give up (fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverError {
    Transient(String),
    Fatal(Fatal),
}

/// Where the records go: the target's produce path (or a stand-in in tests).
pub trait Target {
    /// Writes `records` as one produce request and waits for the answer.
    fn write(
        &mut self,
        records: &[SourceRecord],
    ) -> impl std::future::Future<Output = WriteOutcome>;
}

/// Pause before writing a lone record again that the hook refused without a reason, so that a
/// passing storage failure is not taken for a refusal.
pub const RECHECK_PAUSE: Duration = Duration::from_millis(200);

enum Step {
    Write {
        from: usize,
        to: usize,
    },
    /// A lone record refused without a reason: written once more before it counts as refused.
    Recheck {
        at: usize,
        detail: String,
    },
    Refuse {
        at: usize,
        hint: String,
    },
}

/// Writes `records` in order: one write when nothing is refused; otherwise every record but
/// the refused ones is stored, in order, and the refused ones are returned with their hints.
pub async fn deliver<T: Target>(
    target: &mut T,
    records: &[SourceRecord],
    stop_at_refusal: bool,
) -> Result<Delivery, DeliverError> {
    let mut out = Delivery::default();
    let mut steps = VecDeque::from([Step::Write {
        from: 0,
        to: records.len(),
    }]);
    while let Some(step) = steps.pop_front() {
        let (from, to) = match step {
            Step::Write { from, to } if from < to => (from, to),
            Step::Write { .. } => continue,
            Step::Refuse { at, hint } => {
                out.refusals.push(Refusal {
                    record: records[at].clone(),
                    hint,
                });
                if stop_at_refusal {
                    out.stopped = true;
                    return Ok(out);
                }
                continue;
            }
            Step::Recheck { at, detail } => {
                fluvio_future::timer::sleep(RECHECK_PAUSE).await;
                out.writes += 1;
                match target.write(&records[at..=at]).await {
                    WriteOutcome::Stored => out.delivered += 1,
                    WriteOutcome::Refused { hint, .. } => {
                        steps.push_front(Step::Refuse { at, hint });
                    }
                    WriteOutcome::RefusedUnexplained { .. } => steps.push_front(Step::Refuse {
                        at,
                        hint: hook_hint(&detail),
                    }),
                    WriteOutcome::TooLarge => steps.push_front(Step::Refuse {
                        at,
                        hint: TOO_LARGE_HINT.into(),
                    }),
                    WriteOutcome::Transient(e) => return Err(DeliverError::Transient(e)),
                    WriteOutcome::Fatal(f) => return Err(DeliverError::Fatal(f)),
                }
                continue;
            }
        };
        out.writes += 1;
        let span = &records[from..to];
        match target.write(span).await {
            WriteOutcome::Stored => out.delivered += span.len(),
            WriteOutcome::Refused { hint, key, value } => {
                if span.len() == 1 {
                    steps.push_front(Step::Refuse { at: from, hint });
                } else if let Some(i) = span.iter().position(|r| same_record(r, &key, &value)) {
                    // The chain refuses at the first record it refuses: the ones before it
                    // passed, the ones after it were not looked at.
                    steps.push_front(Step::Write {
                        from: from + i + 1,
                        to,
                    });
                    steps.push_front(Step::Refuse { at: from + i, hint });
                    steps.push_front(Step::Write { from, to: from + i });
                } else {
                    push_halves(&mut steps, from, to);
                }
            }
            WriteOutcome::RefusedUnexplained { detail } => {
                if span.len() == 1 {
                    steps.push_front(Step::Recheck { at: from, detail });
                } else {
                    push_halves(&mut steps, from, to);
                }
            }
            WriteOutcome::TooLarge => {
                if span.len() == 1 {
                    steps.push_front(Step::Refuse {
                        at: from,
                        hint: TOO_LARGE_HINT.into(),
                    });
                } else {
                    push_halves(&mut steps, from, to);
                }
            }
            WriteOutcome::Transient(e) => return Err(DeliverError::Transient(e)),
            WriteOutcome::Fatal(f) => return Err(DeliverError::Fatal(f)),
        }
    }
    Ok(out)
}

const TOO_LARGE_HINT: &str =
    "the record is larger than the target accepts in one write (MessageTooLarge)";

/// What a refusal at the topic hook can say: Fluvio gives the producer no reason.
fn hook_hint(detail: &str) -> String {
    format!(
        "refused by the target topic's hook or storage ({detail}); Fluvio does not tell the \
         producer why: the reason is in the log of the target's SPU"
    )
}

fn push_halves(steps: &mut VecDeque<Step>, from: usize, to: usize) {
    let mid = from + (to - from) / 2;
    steps.push_front(Step::Write { from: mid, to });
    steps.push_front(Step::Write { from, to: mid });
}

fn same_record(record: &SourceRecord, key: &Option<Vec<u8>>, value: &[u8]) -> bool {
    record.value.as_ref() == value && record.key.as_ref().map(|k| k.as_ref()) == key.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that refuses records whose value starts with `poison`, stores the rest, and
    /// says which record it refused only when `names_the_record` (a producer-side chain does,
    /// the topic hook does not).
    struct FakeTarget {
        stored: Vec<i64>,
        writes: usize,
        names_the_record: bool,
        /// Fails the write with this number (1-based) as a transient error.
        transient_at: Option<usize>,
        /// Refuses lone records unexplained this many times before storing them.
        flaky_storage: usize,
    }

    impl FakeTarget {
        fn new(names_the_record: bool) -> FakeTarget {
            FakeTarget {
                stored: Vec::new(),
                writes: 0,
                names_the_record,
                transient_at: None,
                flaky_storage: 0,
            }
        }
    }

    impl Target for FakeTarget {
        async fn write(&mut self, records: &[SourceRecord]) -> WriteOutcome {
            self.writes += 1;
            if self.transient_at == Some(self.writes) {
                return WriteOutcome::Transient("connection reset".into());
            }
            if let Some(bad) = records.iter().find(|r| r.value.starts_with(b"poison")) {
                return if self.names_the_record {
                    WriteOutcome::Refused {
                        hint: format!("no poison at {}", bad.offset),
                        key: bad.key.as_ref().map(|k| k.to_vec()),
                        value: bad.value.to_vec(),
                    }
                } else {
                    WriteOutcome::RefusedUnexplained {
                        detail: "a storage error occurred".into(),
                    }
                };
            }
            if records.len() == 1 && self.flaky_storage > 0 {
                self.flaky_storage -= 1;
                return WriteOutcome::RefusedUnexplained {
                    detail: "a storage error occurred".into(),
                };
            }
            self.stored.extend(records.iter().map(|r| r.offset));
            WriteOutcome::Stored
        }
    }

    fn records(poison_at: &[i64], n: i64) -> Vec<SourceRecord> {
        (0..n)
            .map(|i| SourceRecord {
                offset: i,
                key: (i % 2 == 0).then(|| RecordData::from(format!("k{i}"))),
                value: if poison_at.contains(&i) {
                    RecordData::from(format!("poison {i}"))
                } else {
                    RecordData::from(format!("value {i}"))
                },
            })
            .collect()
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        fluvio_future::task::run_block_on(f)
    }

    #[test]
    fn nothing_refused_is_one_write() {
        let mut t = FakeTarget::new(true);
        let d = run(deliver(&mut t, &records(&[], 100), false)).unwrap();
        assert_eq!(d.writes, 1);
        assert_eq!(d.delivered, 100);
        assert_eq!(t.stored, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_named_refusal_costs_two_more_writes_and_keeps_order() {
        let mut t = FakeTarget::new(true);
        let d = run(deliver(&mut t, &records(&[37], 100), false)).unwrap();
        assert_eq!(
            d.writes, 3,
            "the refused write, then before and after the record"
        );
        assert_eq!(d.delivered, 99);
        assert_eq!(d.refusals.len(), 1);
        assert_eq!(d.refusals[0].record.offset, 37);
        assert_eq!(d.refusals[0].hint, "no poison at 37");
        let expected: Vec<i64> = (0..100).filter(|&i| i != 37).collect();
        assert_eq!(t.stored, expected);
    }

    #[test]
    fn unexplained_refusals_are_found_by_halving_and_order_is_kept() {
        for poison in [vec![0], vec![99], vec![3, 4, 50], vec![10, 90]] {
            let mut t = FakeTarget::new(false);
            let d = run(deliver(&mut t, &records(&poison, 100), false)).unwrap();
            let expected: Vec<i64> = (0..100).filter(|i| !poison.contains(i)).collect();
            assert_eq!(t.stored, expected, "poison at {poison:?}");
            let refused: Vec<i64> = d.refusals.iter().map(|r| r.record.offset).collect();
            assert_eq!(refused, poison);
            assert!(d.refusals[0].hint.contains("SPU"), "{}", d.refusals[0].hint);
            // Halving: a few writes per refused record, not one per record.
            assert!(d.writes <= 1 + poison.len() * 16, "{} writes", d.writes);
        }
    }

    #[test]
    fn a_lone_record_the_storage_refuses_once_is_written_again() {
        let mut t = FakeTarget::new(false);
        t.flaky_storage = 1;
        let d = run(deliver(&mut t, &records(&[], 1), false)).unwrap();
        assert!(d.refusals.is_empty());
        assert_eq!(t.stored, [0]);
        assert_eq!(d.writes, 2);
    }

    #[test]
    fn stop_at_refusal_stores_what_came_before_and_nothing_after() {
        let mut t = FakeTarget::new(true);
        let d = run(deliver(&mut t, &records(&[5, 8], 10), true)).unwrap();
        assert!(d.stopped);
        assert_eq!(d.refusals.len(), 1);
        assert_eq!(t.stored, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_transient_failure_ends_the_delivery() {
        let mut t = FakeTarget::new(true);
        t.transient_at = Some(2);
        let err = run(deliver(&mut t, &records(&[5], 10), false)).unwrap_err();
        assert_eq!(err, DeliverError::Transient("connection reset".into()));
    }
}
