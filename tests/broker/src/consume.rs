//! Exact record bytes from `fluvio consume -O binary`.
//!
//! The CLI prints values as text lossily (invalid UTF-8 becomes U+FFFD), but `-O binary`
//! prints each value as a hex dump followed by a separator line, which gives the bytes back
//! exactly. With `-k` each record starts with `[key] `, the key printed as lossy UTF-8 and
//! `[null]` for a record without a key; the CLI has no exact form for keys, so the suite uses
//! UTF-8 keys (`fluvio produce` can only send those anyway: `--key` and `--key-separator`
//! take text) and never the key `null`.

use std::fmt;

/// The line `fluvio consume -O binary` prints after every value.
const SEPARATOR: &str =
    "------------------------------------------------------------------------------";

/// One consumed record: its key as the CLI prints it, and its exact value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// `None` when the CLI printed `[null]` (no key).
    pub key: Option<String>,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub why: String,
    pub text: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} of the consumer's output: {}: {:?}",
            self.line, self.why, self.text
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses the stdout of `fluvio consume -O binary`, with `-k` when `with_keys`.
pub fn parse_binary_records(
    text: &str,
    with_keys: bool,
) -> Result<Vec<ConsumedRecord>, ParseError> {
    let mut records = Vec::new();
    let mut current: Option<ConsumedRecord> = None;
    for (i, line) in text.lines().enumerate() {
        let err = |why: &str| ParseError {
            line: i + 1,
            why: why.to_string(),
            text: line.to_string(),
        };
        let mut body = line;
        if current.is_none() {
            if line.is_empty() {
                continue;
            }
            let key = if with_keys {
                let (key, rest) = split_key(line).ok_or_else(|| err("no `[key] ` prefix"))?;
                body = rest;
                key
            } else {
                None
            };
            current = Some(ConsumedRecord {
                key,
                value: Vec::new(),
            });
        }
        let Some(record) = current.as_mut() else {
            continue;
        };
        if body == SEPARATOR {
            records.extend(current.take());
            continue;
        }
        parse_dump_line(body, &mut record.value).map_err(|why| err(&why))?;
    }
    if current.is_some() {
        return Err(ParseError {
            line: text.lines().count(),
            why: "the output ends inside a record (no separator line)".into(),
            text: String::new(),
        });
    }
    Ok(records)
}

/// Splits `[key] rest` where `rest` is the first dump line or the separator (empty value).
fn split_key(line: &str) -> Option<(Option<String>, &str)> {
    let inner = line.strip_prefix('[')?;
    // A key may itself hold "] ": take the split after which a dump line or the separator
    // starts.
    inner.match_indices("] ").find_map(|(at, _)| {
        let rest = &inner[at + 2..];
        let starts_dump = rest.starts_with("00000000 ") || rest == SEPARATOR;
        starts_dump.then(|| {
            let key = &inner[..at];
            (Some(key.to_string()).filter(|k| k != "null"), rest)
        })
    })
}

/// One dump line: `OFFSET  hh hh ... hh  |chars|`, the offset in 8 hex digits and equal to
/// the bytes read so far.
fn parse_dump_line(line: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let offset = line
        .get(..8)
        .and_then(|o| usize::from_str_radix(o, 16).ok())
        .ok_or("no 8-digit hex offset")?;
    if offset != out.len() {
        return Err(format!("offset {offset:#x}, expected {:#x}", out.len()));
    }
    // The hex column holds only digits and spaces, so the first `|` opens the characters.
    let hex = line[8..].split('|').next().unwrap_or_default();
    let before = out.len();
    for token in hex.split_whitespace() {
        let byte = (token.len() == 2)
            .then(|| u8::from_str_radix(token, 16).ok())
            .flatten()
            .ok_or_else(|| format!("{token:?} is not a hex byte"))?;
        out.push(byte);
    }
    match out.len() - before {
        1..=16 => Ok(()),
        n => Err(format!("{n} bytes on one dump line")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI's real output for three records (captured from `fluvio consume -k -O binary`).
    const REAL: &str =
        "[k1] 00000000  00 01 ff fe 0a 6f                                 |    .o          |
------------------------------------------------------------------------------

[null] 00000000  ff 6f 01 00 00 01 02 65  31 be cc c3 96 c5 68 16  | o     e1     h |
00000010  01 ff f6 23 a1 e7 56 00  31                       |   #  V 1       |
------------------------------------------------------------------------------

[] ------------------------------------------------------------------------------

";

    #[test]
    fn real_output_gives_the_exact_bytes_and_keys() {
        let records = parse_binary_records(REAL, true).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].key.as_deref(), Some("k1"));
        assert_eq!(records[0].value, [0x00, 0x01, 0xff, 0xfe, 0x0a, 0x6f]);
        assert_eq!(records[1].key, None);
        assert_eq!(records[1].value.len(), 25);
        assert_eq!(records[1].value[..2], [0xff, 0x6f]);
        assert_eq!(records[1].value[24], 0x31);
        assert_eq!(records[2].key.as_deref(), Some(""));
        assert!(records[2].value.is_empty());
    }

    #[test]
    fn a_pipe_in_the_characters_column_does_not_end_the_hex() {
        let text = "00000000  7c 7c                                            |||               |\n\
                    ------------------------------------------------------------------------------\n";
        let records = parse_binary_records(text, false).unwrap();
        assert_eq!(records[0].value, b"||");
    }

    #[test]
    fn a_key_holding_a_bracket_and_space_is_kept_whole() {
        let text = "[a] b] 00000000  41                                               |A               |\n\
                    ------------------------------------------------------------------------------\n";
        let records = parse_binary_records(text, true).unwrap();
        assert_eq!(records[0].key.as_deref(), Some("a] b"));
        assert_eq!(records[0].value, b"A");
    }

    #[test]
    fn a_gap_in_the_offsets_or_a_missing_separator_is_an_error() {
        let gap = "00000010  41  |A|\n------------------------------------------------------------------------------\n";
        assert!(parse_binary_records(gap, false)
            .unwrap_err()
            .why
            .contains("offset"));
        let open = "00000000  41  |A|\n";
        assert!(parse_binary_records(open, false).is_err());
        assert!(parse_binary_records("garbage\n", true).is_err());
    }
}
