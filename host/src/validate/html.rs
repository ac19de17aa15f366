//! The validation report as one self-contained HTML page (`sqlmig validate -o html --out
//! validation.html`), for the application owners: the verdict, then per database the schema's
//! differences and each table's rows, method and differing keys, then the workload's timings.
//! In the assessment report's style; nothing to fetch.

use std::fmt::Write;

use super::report::{Report, Verdict, bytes, compared, describe};
use crate::report_html::{STYLE, esc};

/// The page for `r`.
pub fn render(r: &Report) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let s = &r.summary;
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sqlmig validation: {} → {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Migration validation</h1>\n\
         <p class=\"meta\">{} → {} · mode {} · generated {} by sqlmig {} · {:.1} s, {} read</p>",
        esc(&r.source),
        esc(&r.target),
        esc(&r.source),
        esc(&r.target),
        esc(&r.mode),
        esc(&r.generated_at),
        env!("CARGO_PKG_VERSION"),
        s.seconds,
        bytes(s.bytes_read)
    );
    let _ = writeln!(
        h,
        "<div class=\"cards\"><div class=\"card {}\"><b>{}</b><span>verdict</span></div>{}{}{}{}</div>",
        if r.equal { "ready" } else { "blocked" },
        r.verdict(),
        card("ready", s.tables_equal, "tables equal"),
        card("blocked", s.tables_different, "tables different"),
        card("warn", s.tables_not_compared, "tables not compared"),
        card("blocked", s.schema_differences, "schema differences"),
    );
    for d in &r.databases {
        let _ = writeln!(h, "<h2>{} → {}</h2>", esc(&d.source), esc(&d.target));
        if d.missing_on_target {
            let _ = writeln!(
                h,
                "<p class=\"failure\">The target has no database {}.</p>",
                esc(&d.target)
            );
            continue;
        }
        if let Some(e) = &d.error {
            let _ = writeln!(h, "<p class=\"failure\">Not compared: {}</p>", esc(e));
            continue;
        }
        if let Some(schema) = &d.schema {
            let compared = compared(schema);
            if schema.differences.is_empty() {
                let _ = writeln!(
                    h,
                    "<p><span class=\"badge ready\">schema equal</span> {}</p>",
                    esc(&compared)
                );
            } else {
                let _ = writeln!(
                    h,
                    "<p><span class=\"badge blocked\">{} schema difference(s)</span> among {}</p>\n\
                     <table><tr><th>Kind</th><th>Object</th><th>What</th><th>Source</th><th>Target</th></tr>",
                    schema.differences.len(),
                    esc(&compared)
                );
                for x in &schema.differences {
                    let _ = writeln!(
                        h,
                        "<tr><td>{}</td><td class=\"where\">{}</td><td>{}</td><td class=\"where\">{}</td><td class=\"where\">{}</td></tr>",
                        esc(&x.kind),
                        esc(&x.object),
                        esc(&x.what),
                        esc(x.source.as_deref().unwrap_or("—")),
                        esc(x.target.as_deref().unwrap_or("—"))
                    );
                }
                h.push_str("</table>\n");
            }
        }
        h.push_str(
            "<table><tr><th>Table</th><th>Result</th><th>Rows (source / target)</th><th>Method</th><th>Read</th></tr>\n",
        );
        for t in &d.tables {
            match &t.comparison {
                None => {
                    let _ = writeln!(
                        h,
                        "<tr><td class=\"where\">{}</td><td><span class=\"badge warn\">not compared</span></td><td colspan=\"3\">{}</td></tr>",
                        esc(&t.table),
                        esc(t.not_compared.as_deref().unwrap_or(""))
                    );
                }
                Some(c) => {
                    let verdict = Verdict::of(c);
                    let class = match verdict {
                        Verdict::Equal => "ready",
                        Verdict::Incomplete => "warn",
                        Verdict::Different(_) => "blocked",
                    };
                    let mut notes = String::new();
                    for n in c.notes.iter().chain(c.incomplete.iter()) {
                        let _ = write!(notes, "<br><span class=\"none\">{}</span>", esc(n));
                    }
                    let _ = writeln!(
                        h,
                        "<tr><td class=\"where\">{}</td><td><span class=\"badge {class}\">{}</span></td><td>{} / {}</td><td>{}{notes}</td><td>{} rows, {}</td></tr>",
                        esc(&c.table),
                        esc(&verdict.words()),
                        c.rows_source,
                        c.rows_target,
                        esc(&c.method),
                        c.rows_read,
                        bytes(c.bytes_read)
                    );
                    if !c.differences.is_empty() {
                        let _ = write!(
                            h,
                            "<tr><td></td><td colspan=\"4\"><table><tr><th>Key</th><th>Difference</th></tr>"
                        );
                        for x in &c.differences {
                            let (key, what) = describe(x);
                            let _ = write!(
                                h,
                                "<tr><td class=\"where\">{}</td><td>{}</td></tr>",
                                esc(&key),
                                esc(&what)
                            );
                        }
                        if c.truncated {
                            h.push_str("<tr><td colspan=\"2\" class=\"none\">stopped at --max-diffs</td></tr>");
                        }
                        h.push_str("</table></td></tr>\n");
                    }
                }
            }
        }
        h.push_str("</table>\n");
    }
    if let Some(p) = &r.performance {
        let _ = writeln!(
            h,
            "<h2>Performance</h2>\n<p>{} — each query run {} times on each side after a warm-up; flagged at {:.2}× the source's median.</p>\n\
             <table><tr><th>Query</th><th>Database</th><th>Source p50 / p95</th><th>Target p50 / p95</th><th>Ratio</th></tr>",
            esc(&p.file),
            p.runs,
            p.slower_than
        );
        for q in &p.queries {
            match &q.error {
                Some(e) => {
                    let _ = writeln!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td colspan=\"3\" class=\"failure\">{}</td></tr>",
                        esc(&q.name),
                        esc(&q.database),
                        esc(e)
                    );
                }
                None => {
                    let _ = writeln!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td>{:.1} / {:.1} ms</td><td>{:.1} / {:.1} ms</td><td><span class=\"badge {}\">{:.2}×</span></td></tr>",
                        esc(&q.name),
                        esc(&q.database),
                        q.source_p50_ms,
                        q.source_p95_ms,
                        q.target_p50_ms,
                        q.target_p95_ms,
                        if q.slower { "blocked" } else { "ready" },
                        q.ratio
                    );
                }
            }
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn card(class: &str, n: usize, what: &str) -> String {
    format!(
        "<div class=\"card {class}\"><b>{n}</b><span>{}</span></div>",
        esc(what)
    )
}
