//! The sizing report as one self-contained HTML file (`sqlmig sku recommend -o html --out
//! sizing.html`), in the assessment report's style: per instance the recommendation, why, the
//! headroom per dimension and the move forecast. Nothing to fetch: it opens anywhere, offline.

use std::fmt::Write;

use super::Sizing;
use super::forecast::approx;
use super::report::Report;
use crate::report_html::{STYLE, esc};

/// The page for `report`.
pub fn render(report: &Report) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sqlmig sizing</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Azure SQL Managed Instance sizing</h1>\n\
         <p class=\"meta\">at the {}th percentile, scaled {}% · limits: {} · sqlmig {}</p>",
        report.percentile,
        report.scaling_factor,
        esc(&report.limits_taken),
        env!("CARGO_PKG_VERSION"),
    );
    h.push_str(
        "<table>\n<tr><th>Instance</th><th>Tier</th><th>Hardware</th><th>vCores</th>\
         <th>Storage</th><th>Driven by</th><th>Move</th></tr>\n",
    );
    for i in &report.instances {
        match &i.sizing {
            Sizing::Fits(r) => {
                let _ = writeln!(
                    h,
                    "<tr><td><a href=\"#{id}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{} GB{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&i.server),
                    r.tier.label(),
                    r.hardware.label(),
                    r.vcores,
                    r.storage_gb,
                    r.iops.map_or(String::new(), |n| format!(", {n} IOPS")),
                    r.driver.name(),
                    esc(&i.forecast.as_ref().map_or(String::new(), |f| f.summary())),
                    id = anchor(&i.server),
                );
            }
            Sizing::DoesNotFit { .. } => {
                let _ = writeln!(
                    h,
                    "<tr><td><a href=\"#{}\">{}</a></td><td colspan=\"6\" class=\"blocked\">fits no Managed Instance</td></tr>",
                    anchor(&i.server),
                    esc(&i.server)
                );
            }
        }
    }
    h.push_str("</table>\n");
    for i in &report.instances {
        let _ = writeln!(
            h,
            "<h2 id=\"{}\">{}</h2>\n<p class=\"meta\">{} {} · {} logical CPUs · {} samples</p>",
            anchor(&i.server),
            esc(&i.server),
            esc(&i.source.edition),
            esc(&i.source.product_version),
            i.source.logical_cpus,
            i.source.samples
        );
        match &i.sizing {
            Sizing::Fits(r) => {
                h.push_str("<ul>\n");
                for line in &r.explanation {
                    let _ = writeln!(h, "<li>{}</li>", esc(line));
                }
                h.push_str("</ul>\n<table>\n<tr><th>Dimension</th><th>Needed</th><th>Allowed</th><th>Headroom</th></tr>\n");
                for d in &r.headroom {
                    let _ = writeln!(
                        h,
                        "<tr><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.0}%</td></tr>",
                        d.dimension.name(),
                        d.need,
                        d.limit,
                        d.headroom * 100.0
                    );
                }
                h.push_str("</table>\n");
            }
            Sizing::DoesNotFit { reasons } => {
                h.push_str("<ul>\n");
                for line in reasons {
                    let _ = writeln!(h, "<li>{}</li>", esc(line));
                }
                h.push_str("</ul>\n");
            }
        }
        if let Some(f) = &i.forecast {
            let _ = writeln!(
                h,
                "<h3>Move</h3>\n<p>{}</p>\n<table>\n<tr><th>Database</th><th>Backup</th><th>Upload</th>\
                 <th>Restore</th><th>Catch-up</th><th>Cutover</th></tr>",
                esc(&f.summary())
            );
            for d in &f.databases {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&d.database),
                    approx(d.full_backup_s),
                    approx(d.upload_s),
                    approx(d.restore_s),
                    d.catch_up_s.map_or("never".into(), approx),
                    approx(d.cutover_downtime_s)
                );
            }
            let a = &f.assumptions;
            let _ = writeln!(
                h,
                "</table>\n<p class=\"meta\">assumed: backup {} MB/s, upload {} MB/s, restore {} MB/s, \
                 backup {}× the data, log backups every {} s, {} s of recovery; target log limit {} MB/s</p>",
                a.backup_mb_s,
                a.upload_mb_s,
                a.restore_mb_s,
                a.compression_ratio,
                a.log_backup_interval_s,
                a.recovery_s,
                f.target_log_mb_s
            );
        }
        if !i.databases.is_empty() {
            h.push_str(
                "<h3>Databases</h3>\n<table>\n<tr><th>Database</th><th>Storage</th><th>IOPS</th>\
                 <th>Log</th><th>Alone it fits</th></tr>\n",
            );
            for d in &i.databases {
                let alone = match &d.alone {
                    Sizing::Fits(r) => format!(
                        "{} {} vCores ({})",
                        r.tier.label(),
                        r.vcores,
                        r.driver.name()
                    ),
                    Sizing::DoesNotFit { .. } => "no instance".into(),
                };
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{:.1} GB ({:.0}%)</td><td>{:.0}</td><td>{:.2} MB/s ({:.0}%)</td><td>{}</td></tr>",
                    esc(&d.database),
                    d.storage_gb,
                    d.storage_share_pct,
                    d.iops,
                    d.log_mb_s,
                    d.log_share_pct,
                    esc(&alone)
                );
            }
            h.push_str("</table>\n<p class=\"meta\">CPU and memory are measured per instance, not per database.</p>\n");
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn anchor(server: &str) -> String {
    server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
