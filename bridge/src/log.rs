//! The bridge's own lines on stderr: start-up, progress, refusals, retries, the end.

use std::io::Write as _;

/// Writes `origin-bridge: LINE` to stderr, ignoring a closed stderr (nothing better to do).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "origin-bridge: {line}");
}
