//! The assessment as one self-contained HTML file (`sqlmig assess -o html --out report.html`):
//! readiness overview, findings by rule (with impact and remediation) and by database. Styles are
//! inline and there is no script, image or font to fetch, so the file opens anywhere, offline,
//! and can be mailed as it is.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::findings::{Finding, Level};
use super::readiness::Readiness;
use super::report::Assessment;
use crate::report_html::{STYLE, esc};

/// The report for `a`.
pub fn render(a: &Assessment) -> String {
    let mut h = String::with_capacity(64 * 1024 + a.findings.len() * 512);
    let s = &a.summary;
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sqlmig assessment: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Azure SQL Managed Instance assessment</h1>\n\
         <p class=\"meta\">{} · generated {} by {} · rule packs: {}</p>",
        esc(&a.inventory),
        esc(&a.inventory),
        esc(&a.generated_at),
        esc(&format!("sqlmig {}", env!("CARGO_PKG_VERSION"))),
        esc(&a.rule_packs.join(", ")),
    );
    let _ = writeln!(
        h,
        "<div class=\"cards\">{}{}{}{}</div>",
        card("blocked", s.blocked_databases, "databases blocked"),
        card("warn", s.databases_with_warnings, "ready with warnings"),
        card("ready", s.ready_databases, "ready"),
        card(
            "",
            s.instances,
            if s.instances == 1 {
                "instance"
            } else {
                "instances"
            }
        ),
    );
    let _ = writeln!(
        h,
        "<p>{} issues, {} warnings, {} notes over {} user databases.</p>",
        s.issues, s.warnings, s.infos, s.databases
    );
    for f in &a.failures {
        let _ = writeln!(
            h,
            "<p class=\"failure\">{} could not assess {}: {}</p>",
            esc(&f.rule_pack),
            esc(&f.instance),
            esc(&f.error)
        );
    }
    readiness(&mut h, a);
    by_rule(&mut h, a);
    by_database(&mut h, a);
    not_run(&mut h, a);
    h.push_str("</body>\n</html>\n");
    h
}

fn card(class: &str, n: usize, what: &str) -> String {
    format!(
        "<div class=\"card {class}\"><b>{n}</b><span>{}</span></div>",
        esc(what)
    )
}

fn badge(r: Readiness) -> String {
    let class = match r {
        Readiness::Blocked => "blocked",
        Readiness::ReadyWithWarnings => "warn",
        Readiness::Ready => "ready",
        Readiness::NotCollected => "none",
    };
    format!("<span class=\"badge {class}\">{}</span>", r.label())
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Issue => "issue",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}

fn readiness(h: &mut String, a: &Assessment) {
    h.push_str("<h2 id=\"readiness\">Readiness</h2>\n<table>\n<tr><th>Instance</th><th>Database</th><th>Readiness</th><th>Issues</th><th>Warnings</th></tr>\n");
    for i in &a.readiness {
        let _ = writeln!(
            h,
            "<tr class=\"instance\"><td>{}</td><td>(instance)</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.name),
            badge(i.readiness),
            i.issues,
            i.warnings
        );
        for d in &i.databases {
            let _ = writeln!(
                h,
                "<tr><td></td><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                anchor(&i.name, Some(&d.name)),
                esc(&d.name),
                badge(d.readiness),
                d.issues,
                d.warnings
            );
        }
    }
    h.push_str("</table>\n");
}

fn by_rule(h: &mut String, a: &Assessment) {
    h.push_str("<h2 id=\"rules\">Findings by rule</h2>\n");
    let mut rules: BTreeMap<(Level, &str), Vec<&Finding>> = BTreeMap::new();
    for f in &a.findings {
        rules
            .entry((f.level, f.rule_id.as_str()))
            .or_default()
            .push(f);
    }
    if rules.is_empty() {
        h.push_str("<p>Nothing found.</p>\n");
    }
    for ((lvl, id), found) in rules {
        let first = found[0];
        let _ = writeln!(
            h,
            "<details class=\"rule\"{}><summary><span class=\"level {}\">{}</span> <code>{}</code> {} <small>({} {})</small></summary>",
            if lvl == Level::Info { "" } else { " open" },
            level(lvl),
            level(lvl),
            esc(id),
            esc(&first.title),
            found.len(),
            if found.len() == 1 { "place" } else { "places" },
        );
        for (label, text) in [
            ("Impact.", &first.impact),
            ("What to do.", &first.remediation),
        ] {
            if !text.is_empty() {
                let _ = writeln!(h, "<p><b>{label}</b> {}</p>", esc(text));
            }
        }
        if let Some(url) = first
            .help_url
            .as_deref()
            .filter(|u| u.starts_with("https://"))
        {
            let _ = writeln!(h, "<p><a href=\"{}\">Documentation</a></p>", esc(url));
        }
        h.push_str("<ul>\n");
        for f in found {
            let _ = writeln!(
                h,
                "<li><span class=\"where\">{}</span> — {}</li>",
                esc(&f.place(" / ")),
                esc(&f.message)
            );
        }
        h.push_str("</ul>\n</details>\n");
    }
}

fn by_database(h: &mut String, a: &Assessment) {
    h.push_str("<h2 id=\"databases\">Findings by database</h2>\n");
    for i in &a.readiness {
        let instance_findings: Vec<&Finding> = a
            .findings
            .iter()
            .filter(|f| f.instance == i.name && f.database.is_none())
            .collect();
        let _ = writeln!(h, "<h3>{} {}</h3>", esc(&i.name), badge(i.readiness));
        list(h, &instance_findings);
        for d in &i.databases {
            let found: Vec<&Finding> = a
                .findings
                .iter()
                .filter(|f| f.instance == i.name && f.database.as_deref() == Some(d.name.as_str()))
                .collect();
            let _ = writeln!(
                h,
                "<h4 id=\"{}\">{} {}</h4>",
                anchor(&i.name, Some(&d.name)),
                esc(&d.name),
                badge(d.readiness)
            );
            list(h, &found);
        }
    }
}

fn not_run(h: &mut String, a: &Assessment) {
    if a.not_run.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"not-run\">Rules that did not run</h2>\n<table>\n<tr><th>Rule</th><th>Why</th><th>Where</th></tr>\n");
    for n in &a.not_run {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&n.rule_id),
            esc(&n.reason),
            esc(&n.places.join(", "))
        );
    }
    h.push_str("</table>\n");
}

fn list(h: &mut String, found: &[&Finding]) {
    if found.is_empty() {
        h.push_str("<p class=\"none\">No findings.</p>\n");
        return;
    }
    h.push_str("<table>\n<tr><th>Level</th><th>Rule</th><th>Where</th><th>What</th></tr>\n");
    for f in found {
        let mut at = f
            .object
            .clone()
            .or_else(|| f.file.clone())
            .unwrap_or_default();
        if let Some(l) = f.line {
            at = format!("{at}:{l}");
        }
        let _ = writeln!(
            h,
            "<tr><td><span class=\"level {}\">{}</span></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            level(f.level),
            level(f.level),
            esc(&f.rule_id),
            esc(&at),
            esc(&f.message)
        );
    }
    h.push_str("</table>\n");
}

/// An id for a database's section, made of safe characters only.
fn anchor(instance: &str, database: Option<&str>) -> String {
    let raw = format!("db-{instance}-{}", database.unwrap_or(""));
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_safe() {
        assert_eq!(
            anchor("SQL01\\SALES", Some("Sales DB")),
            "db-SQL01-SALES-Sales-DB"
        );
    }
}
