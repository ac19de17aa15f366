//! The sizing report as one self-contained HTML file (`sqlmig sku recommend -o html --out
//! sizing.html`), in the assessment report's style, from the template `templates/sizing.html`
//! (askama, which escapes every value): per instance the recommendation, why, the headroom per
//! dimension and the move forecast. Nothing to fetch: it opens anywhere, offline.

use askama::Template;

use super::Sizing;
use super::forecast::{DatabaseForecast, approx};
use super::per_database::DatabaseSizing;
use super::report::Report;

/// The page for `report`.
pub fn render(report: &Report) -> String {
    Page {
        report,
        version: crate::HOST_VERSION,
    }
    .render()
    .expect("the sizing page renders")
}

#[derive(Template)]
#[template(path = "sizing.html")]
struct Page<'a> {
    report: &'a Report,
    version: &'static str,
}

impl Page<'_> {
    /// An id for an instance's section, made of safe characters only.
    fn anchor(&self, server: &str) -> String {
        server
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    }

    /// A duration as the forecast words it ("≈ 12 min").
    fn approx(&self, seconds: &f64) -> String {
        approx(*seconds)
    }

    /// How long the online method's log catch-up takes, if it ever catches up.
    fn catch_up(&self, d: &DatabaseForecast) -> String {
        d.catch_up_s.map_or("never".into(), approx)
    }

    /// What a database alone would need.
    fn alone(&self, d: &DatabaseSizing) -> String {
        match &d.alone {
            Sizing::Fits(r) => format!(
                "{} {} vCores ({})",
                r.tier.label(),
                r.vcores,
                r.driver.name()
            ),
            Sizing::DoesNotFit { .. } => "no instance".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::{InstanceSizing, Source};
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        let report = Report {
            schema: "sqlmig.sku/1",
            percentile: 95.0,
            scaling_factor: 100.0,
            limits_taken: "resource-limits".into(),
            instances: vec![InstanceSizing {
                server: "<img src=x onerror=alert(1)>".into(),
                source: Source {
                    edition: "Enterprise".into(),
                    product_version: "16.0".into(),
                    logical_cpus: 8.0,
                    samples: 1,
                },
                need: Default::default(),
                sizing: Sizing::DoesNotFit {
                    reasons: vec!["<script>alert(2)</script>".into()],
                },
                forecast: None,
                databases: Vec::new(),
            }],
        };
        let page = render(&report);
        assert!(
            !page.contains("<img") && !page.contains("<script>"),
            "{page}"
        );
        assert!(
            page.contains("&#60;script&#62;alert(2)&#60;/script&#62;"),
            "{page}"
        );
        // The id made of it is safe characters only.
        assert!(
            page.contains("id=\"-img-src-x-onerror-alert-1--\""),
            "{page}"
        );
    }
}
