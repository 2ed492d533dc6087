//! Rendering the reports of `harness test` and `harness inspect`: as text for a person
//! ([`text`]), or as JSON for a program ([`json`]: one document, or one line per record).

use host_harness::report::OutputFormat;

use super::inspect::InspectReport;
use super::run::TestReport;

pub mod json;
pub mod text;

/// The report of `harness test` in `format`.
pub fn test_report(report: &TestReport, format: OutputFormat) -> String {
    match format {
        OutputFormat::Text => text::test_report(report),
        OutputFormat::Jsonl => json::lines(&json::test_records(report)),
        OutputFormat::Json => json::document(&json::test_document(report)),
    }
}

/// The report of `harness inspect` in `format`: with `--summary`, a table or the
/// origin-stats document (compact, as the module prints it, for JSON and JSON lines alike).
pub fn inspect_report(report: &InspectReport, format: OutputFormat) -> String {
    match (&report.summary, format) {
        (Some(stats), OutputFormat::Text) => text::summary_table(stats, report),
        (Some(stats), OutputFormat::Json | OutputFormat::Jsonl) => json::summary(stats),
        (None, OutputFormat::Text) => text::inspect_report(report),
        (None, OutputFormat::Jsonl) => json::inspect_lines(report),
        (None, OutputFormat::Json) => json::document(&json::inspect_document(report)),
    }
}
