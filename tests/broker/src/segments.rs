//! The batches an SPU stored for a partition, read from its segment files.
//!
//! The SPU builds a producer-side chain for every batch it is sent (each batch travels as a
//! partition entry of its own in the produce request), and stores what the chain gives back
//! as one batch. So the stored batches of a partition written only through a chain count the
//! chain's builds, which the CLI does not report.
//!
//! A segment (`<partition dir>/<base offset, 20 digits>.log`) is a sequence of batches, each
//! `base_offset: i64`, `batch_len: i32` (the bytes that follow: the header, then the records),
//! then a header whose `last_offset_delta: i32` sits 11 bytes in (after the leader epoch, the
//! magic byte, the CRC and the attributes); all big-endian, as `fluvio-protocol` encodes
//! `Batch`. A file may end in zeros (space the SPU set aside); a batch cut short means the
//! SPU is still writing it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The bytes before a batch's header: its base offset and its length.
const PREAMBLE: usize = 8 + 4;
/// The batch header's size: leader epoch 4, magic 1, CRC 4, attributes 2, last offset delta
/// 4, first timestamp 8, max timestamp 8, producer id 8, producer epoch 2, first sequence 4.
const HEADER: usize = 45;
/// Where `last_offset_delta` sits in the header.
const LAST_OFFSET_DELTA_AT: usize = 4 + 1 + 4 + 2;

/// One stored batch: where it starts and how many records it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBatch {
    pub base_offset: i64,
    pub records: i64,
}

#[derive(Debug)]
pub enum SegmentError {
    /// No directory named `<topic>-<partition>` under the directory searched.
    NoPartition { root: PathBuf, name: String },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A batch runs past the end of its file: the SPU is still writing it.
    Truncated { path: PathBuf, at: usize },
    /// Bytes that are not a batch.
    Malformed {
        path: PathBuf,
        at: usize,
        why: String,
    },
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentError::NoPartition { root, name } => {
                write!(f, "no partition directory {name} under {}", root.display())
            }
            SegmentError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            SegmentError::Truncated { path, at } => {
                write!(f, "{}: the batch at byte {at} is cut short", path.display())
            }
            SegmentError::Malformed { path, at, why } => {
                write!(f, "{}: byte {at}: {why}", path.display())
            }
        }
    }
}

impl std::error::Error for SegmentError {}

/// The directory of partition `partition` of `topic` somewhere under `root` (a cluster's
/// directory; the SPU keeps one directory per partition, `<topic>-<partition>`, under a
/// directory of its own id), looked for at most [`SEARCH_DEPTH`] levels down.
pub fn partition_dir(root: &Path, topic: &str, partition: u32) -> Result<PathBuf, SegmentError> {
    let name = format!("{topic}-{partition}");
    find_dir(root, &name, SEARCH_DEPTH)?.ok_or_else(|| SegmentError::NoPartition {
        root: root.to_path_buf(),
        name,
    })
}

/// How deep [`partition_dir`] looks: the cluster's directory, the SPU's data directory, the
/// SPU's own, the partition's.
pub const SEARCH_DEPTH: usize = 3;

fn find_dir(dir: &Path, name: &str, depth: usize) -> Result<Option<PathBuf>, SegmentError> {
    let io = |source| SegmentError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_type().map_err(io)?.is_dir() {
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    if let Some(found) = subdirs
        .iter()
        .find(|d| d.file_name().is_some_and(|n| n == name))
    {
        return Ok(Some(found.clone()));
    }
    if depth > 1 {
        for sub in &subdirs {
            if let Some(found) = find_dir(sub, name, depth - 1)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// Every batch stored in the partition directory `dir`, segment by segment, in order.
pub fn stored_batches(dir: &Path) -> Result<Vec<StoredBatch>, SegmentError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SegmentError::Io { path, source }
    };
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|e| e == "log") {
            segments.push(path);
        }
    }
    // Segment names are zero-padded base offsets: by name is by offset.
    segments.sort();
    let mut batches = Vec::new();
    for path in segments {
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        batches.extend(parse_segment(&bytes).map_err(|e| e.at_path(&path))?);
    }
    Ok(batches)
}

/// The batches of one segment file's bytes.
pub fn parse_segment(bytes: &[u8]) -> Result<Vec<StoredBatch>, SegmentError> {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let (Some(offset), Some(len)) = (be_i64(rest, 0), be_i32(rest, 8)) else {
            return Err(SegmentError::Truncated {
                path: PathBuf::new(),
                at,
            });
        };
        let malformed = |why: String| SegmentError::Malformed {
            path: PathBuf::new(),
            at,
            why,
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l >= HEADER)
            .ok_or_else(|| malformed(format!("a batch length of {len} bytes")))?;
        if rest.len() - PREAMBLE < len {
            return Err(SegmentError::Truncated {
                path: PathBuf::new(),
                at,
            });
        }
        let delta = be_i32(rest, PREAMBLE + LAST_OFFSET_DELTA_AT)
            .ok_or_else(|| malformed("no last offset delta".into()))?;
        if offset < 0 || delta < -1 {
            return Err(malformed(format!(
                "base offset {offset}, last offset delta {delta}"
            )));
        }
        batches.push(StoredBatch {
            base_offset: offset,
            records: i64::from(delta) + 1,
        });
        at += PREAMBLE + len;
    }
    Ok(batches)
}

impl SegmentError {
    fn at_path(self, path: &Path) -> SegmentError {
        match self {
            SegmentError::Truncated { at, .. } => SegmentError::Truncated {
                path: path.to_path_buf(),
                at,
            },
            SegmentError::Malformed { at, why, .. } => SegmentError::Malformed {
                path: path.to_path_buf(),
                at,
                why,
            },
            other => other,
        }
    }
}

fn be_i64(bytes: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch as the SPU stores it, with `records` records of `body` bytes in all.
    fn batch(base_offset: i64, records: i32, body: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(base_offset.to_be_bytes());
        b.extend(((HEADER + body) as i32).to_be_bytes());
        b.extend((-1i32).to_be_bytes()); // leader epoch
        b.push(2); // magic
        b.extend(0u32.to_be_bytes()); // crc
        b.extend(0i16.to_be_bytes()); // attributes
        b.extend((records - 1).to_be_bytes());
        b.extend([0u8; 8 + 8 + 8 + 2 + 4]);
        b.extend(std::iter::repeat_n(0xab, body));
        b
    }

    #[test]
    fn batches_are_read_in_order_and_trailing_zeros_end_the_file() {
        let mut seg = batch(0, 212, 16_000);
        seg.extend(batch(212, 3, 90));
        seg.extend([0u8; 64]);
        assert_eq!(
            parse_segment(&seg).unwrap(),
            [
                StoredBatch {
                    base_offset: 0,
                    records: 212
                },
                StoredBatch {
                    base_offset: 212,
                    records: 3
                }
            ]
        );
        assert!(parse_segment(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_batch_cut_short_or_malformed_is_an_error_not_a_panic() {
        let whole = batch(0x0102_0304_0506_0708, 5, 100);
        for cut in 1..whole.len() {
            assert!(
                matches!(
                    parse_segment(&whole[..cut]),
                    Err(SegmentError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut short = batch(0, 5, 100);
        short[8..12].copy_from_slice(&10i32.to_be_bytes());
        assert!(matches!(
            parse_segment(&short),
            Err(SegmentError::Malformed { .. })
        ));
        let mut negative = batch(-4, 5, 100);
        negative[0] = 0xff;
        assert!(matches!(
            parse_segment(&negative),
            Err(SegmentError::Malformed { .. })
        ));
    }

    #[test]
    fn the_partition_directory_is_found_a_few_levels_down() {
        let root = std::env::temp_dir().join(format!("broker-segments-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("spu").join("spu-logs-5001").join("orders-0");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(root.join("spu").join("spu-logs-5001").join("orders-10")).unwrap();
        let mut seg = batch(0, 2, 10);
        seg.extend(batch(2, 1, 5));
        std::fs::write(dir.join("00000000000000000002.log"), batch(3, 4, 8)).unwrap();
        std::fs::write(dir.join("00000000000000000000.log"), seg).unwrap();
        std::fs::write(dir.join("00000000000000000000.index"), [1u8; 16]).unwrap();
        let found = partition_dir(&root, "orders", 0);
        let missing = partition_dir(&root, "orders", 1);
        let batches = stored_batches(&dir);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), dir);
        assert!(matches!(missing, Err(SegmentError::NoPartition { .. })));
        let offsets: Vec<(i64, i64)> = batches
            .unwrap()
            .iter()
            .map(|b| (b.base_offset, b.records))
            .collect();
        assert_eq!(offsets, [(0, 2), (2, 1), (3, 4)]);
    }

    #[test]
    fn any_bytes_give_an_answer() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 56) as u8
                })
                .collect();
            let _ = parse_segment(&bytes);
        }
    }
}
