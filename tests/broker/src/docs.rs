//! The documentation's example blocks as fixtures: the fenced block that follows a known line
//! of a Markdown file, read to compare with a real run, or replaced with what the run printed;
//! and marked blocks (`<!-- begin NAME -->` ... `<!-- end NAME -->`) that a run writes whole.

use std::fmt;
use std::ops::Range;

/// A fenced block's contents and where they sit in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBlock {
    /// The text between the fences, each line ending in `\n`.
    pub text: String,
    /// The byte range of `text` in the document: what to replace to rewrite the block.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocError {
    /// No line of the document is `marker` (compared without surrounding whitespace).
    NoMarker { marker: String },
    /// `marker` is there, but no fenced block follows it before the next heading.
    NoBlock { marker: String },
    /// The block's closing fence is missing.
    Unclosed { marker: String },
    /// The marker occurs more than once, so which block is meant is ambiguous.
    Ambiguous { marker: String },
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::NoMarker { marker } => write!(f, "no line reads {marker:?}"),
            DocError::NoBlock { marker } => {
                write!(
                    f,
                    "no fenced block follows {marker:?} before the next heading"
                )
            }
            DocError::Unclosed { marker } => {
                write!(f, "the block after {marker:?} has no closing fence")
            }
            DocError::Ambiguous { marker } => write!(f, "{marker:?} occurs more than once"),
        }
    }
}

impl std::error::Error for DocError {}

/// The first fenced block after the line that reads `marker`.
pub fn fenced_block_after(doc: &str, marker: &str) -> Result<DocBlock, DocError> {
    let lines = line_spans(doc);
    let marker_at: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, r)| doc[(*r).clone()].trim() == marker.trim())
        .map(|(i, _)| i)
        .collect();
    let &[at] = marker_at.as_slice() else {
        return Err(if marker_at.is_empty() {
            DocError::NoMarker {
                marker: marker.into(),
            }
        } else {
            DocError::Ambiguous {
                marker: marker.into(),
            }
        });
    };
    let no_block = || DocError::NoBlock {
        marker: marker.into(),
    };
    let mut rest = lines[at + 1..].iter();
    let opening = loop {
        let r = rest.next().ok_or_else(no_block)?;
        let line = &doc[r.clone()];
        if line.starts_with('#') {
            return Err(no_block());
        }
        if line.trim_start().starts_with("```") {
            break r;
        }
    };
    let start = opening.end;
    for r in rest {
        if doc[r.clone()].trim() == "```" {
            return Ok(DocBlock {
                text: doc[start..r.start].to_string(),
                range: start..r.start,
            });
        }
    }
    Err(DocError::Unclosed {
        marker: marker.into(),
    })
}

/// The lines between `<!-- begin NAME ... -->` and `<!-- end NAME -->`: a block of Markdown
/// (tables, prose) that a run writes whole, where a fenced block would not render. The begin
/// line may say more after the name (`<!-- begin NAME: who writes it -->`), on one line.
pub fn marked_block(doc: &str, name: &str) -> Result<DocBlock, DocError> {
    let lines = line_spans(doc);
    let begin = format!("<!-- begin {name}");
    let end = format!("<!-- end {name} -->");
    let is_begin = |line: &str| {
        let line = line.trim();
        line.ends_with("-->")
            && line
                .strip_prefix(&begin)
                .is_some_and(|rest| rest.starts_with([' ', ':']))
    };
    let begins: Vec<usize> = (0..lines.len())
        .filter(|&i| is_begin(&doc[lines[i].clone()]))
        .collect();
    let &[at] = begins.as_slice() else {
        return Err(if begins.is_empty() {
            DocError::NoMarker { marker: begin }
        } else {
            DocError::Ambiguous { marker: begin }
        });
    };
    let start = lines[at].end;
    let mut ends = lines[at + 1..]
        .iter()
        .filter(|r| doc[(*r).clone()].trim() == end);
    let Some(close) = ends.next() else {
        return Err(DocError::Unclosed { marker: begin });
    };
    if ends.next().is_some() {
        return Err(DocError::Ambiguous { marker: end });
    }
    Ok(DocBlock {
        text: doc[start..close.start].to_string(),
        range: start..close.start,
    })
}

/// `doc` with `block` replaced by `text` (given a final newline if it lacks one).
pub fn replace_block(doc: &str, block: &DocBlock, text: &str) -> String {
    let mut out = String::with_capacity(doc.len() + text.len());
    out.push_str(&doc[..block.range.start]);
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&doc[block.range.end..]);
    out
}

/// Text as a Markdown file keeps it: no trailing spaces on a line (editors strip them, and
/// the CLI prints one after `SmartModule Info:`), no blank lines at the end.
pub fn normalise_block(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Byte ranges of the document's lines, newline included.
fn line_spans(doc: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in doc.bytes().enumerate() {
        if b == b'\n' {
            spans.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < doc.len() {
        spans.push(start..doc.len());
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Title\n\nA refused write then prints:\n\n```\nline one \nline two\n```\n\nafter\n\n## Next\n\nNo block here:\n\n## Other\n";

    #[test]
    fn the_block_after_the_marker_is_found_and_replaced_in_place() {
        let block = fenced_block_after(DOC, "A refused write then prints:").unwrap();
        assert_eq!(block.text, "line one \nline two\n");
        let doc = replace_block(DOC, &block, "new");
        assert!(doc.contains("prints:\n\n```\nnew\n```\n\nafter"), "{doc}");
        assert_eq!(
            fenced_block_after(&doc, "A refused write then prints:")
                .unwrap()
                .text,
            "new\n"
        );
    }

    #[test]
    fn a_missing_marker_or_block_is_an_error() {
        assert!(matches!(
            fenced_block_after(DOC, "nowhere"),
            Err(DocError::NoMarker { .. })
        ));
        assert!(matches!(
            fenced_block_after(DOC, "No block here:"),
            Err(DocError::NoBlock { .. })
        ));
        let twice = format!("{DOC}\nA refused write then prints:\n");
        assert!(matches!(
            fenced_block_after(&twice, "A refused write then prints:"),
            Err(DocError::Ambiguous { .. })
        ));
        assert!(matches!(
            fenced_block_after("m\n```\nopen\n", "m"),
            Err(DocError::Unclosed { .. })
        ));
    }

    #[test]
    fn a_marked_block_is_found_and_replaced_between_its_lines() {
        let doc = "intro\n<!-- begin figures: written by a run -->\n| a |\n|---|\n<!-- end figures -->\nafter\n";
        let block = marked_block(doc, "figures").unwrap();
        assert_eq!(block.text, "| a |\n|---|\n");
        let doc = replace_block(doc, &block, "new table");
        assert_eq!(
            doc,
            "intro\n<!-- begin figures: written by a run -->\nnew table\n<!-- end figures -->\nafter\n"
        );
        let empty = "<!-- begin figures -->\n<!-- end figures -->\n";
        assert_eq!(marked_block(empty, "figures").unwrap().text, "");
    }

    #[test]
    fn a_marked_block_missing_open_or_twice_is_an_error() {
        assert!(matches!(
            marked_block("text\n", "figures"),
            Err(DocError::NoMarker { .. })
        ));
        assert!(matches!(
            marked_block("<!-- begin figures -->\ntext\n", "figures"),
            Err(DocError::Unclosed { .. })
        ));
        assert!(matches!(
            marked_block(
                "<!-- begin figures-old -->\n<!-- end figures-old -->\n",
                "figures"
            ),
            Err(DocError::NoMarker { .. })
        ));
        let twice = "<!-- begin figures -->\n<!-- end figures -->\n<!-- begin figures -->\n<!-- end figures -->\n";
        assert!(matches!(
            marked_block(twice, "figures"),
            Err(DocError::Ambiguous { .. })
        ));
    }

    #[test]
    fn normalising_drops_only_trailing_spaces_and_blank_lines() {
        assert_eq!(
            normalise_block("SmartModule Info: \n    Type: Filter\n\n\n"),
            "SmartModule Info:\n    Type: Filter\n"
        );
        assert_eq!(normalise_block("  indented\n"), "  indented\n");
    }
}
