//! The validation report as one self-contained HTML page (`sqlmig validate -o html --out
//! validation.html`), for the application owners, from the template `templates/validate.html`
//! (askama, which escapes every value): the verdict, then per database the schema's differences
//! and each table's rows, method and differing keys, then the workload's timings. In the
//! assessment report's style; nothing to fetch.

use askama::Template;
use sqlmig_protocol::validation::{RowDifference, SchemaComparison, TableComparison};

use super::report::{Report, Verdict, bytes, compared, describe};

/// The page for `r`.
pub fn render(r: &Report) -> String {
    Page {
        r,
        version: crate::HOST_VERSION,
    }
    .render()
    .expect("the validation page renders")
}

#[derive(Template)]
#[template(path = "validate.html")]
struct Page<'a> {
    r: &'a Report,
    version: &'static str,
}

impl Page<'_> {
    fn bytes(&self, n: &u64) -> String {
        bytes(*n)
    }

    fn compared(&self, schema: &SchemaComparison) -> String {
        compared(schema)
    }

    fn describe(&self, d: &RowDifference) -> (String, String) {
        describe(d)
    }

    /// The style class of a table's result.
    fn verdict_class(&self, c: &TableComparison) -> &'static str {
        match Verdict::of(c) {
            Verdict::Equal => "ready",
            Verdict::Incomplete => "warn",
            Verdict::Different(_) => "blocked",
        }
    }

    fn verdict_words(&self, c: &TableComparison) -> String {
        Verdict::of(c).words()
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::{DatabaseReport, Summary};
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        let report = Report {
            schema: "sqlmig.validation/1".into(),
            generated_at: "2026-12-07T00:00:00Z".into(),
            source: "sql01".into(),
            target: "mi01".into(),
            mode: "checksum".into(),
            equal: false,
            summary: Summary::default(),
            databases: vec![DatabaseReport::not_compared(
                "<b>Sales</b>".into(),
                "Sales".into(),
                "<script>alert(1)</script>".into(),
            )],
            performance: None,
        };
        let page = render(&report);
        assert!(
            !page.contains("<b>Sales") && !page.contains("<script>"),
            "{page}"
        );
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
    }
}
