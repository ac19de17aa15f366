//! Output: JSON for scripts (stdout or `--out FILE`), aligned tables for people.

use std::io::Write;
use std::path::Path;

use super::Failure;

/// Writes `value` as pretty JSON to `out` or stdout. A file is written whole or not at all.
pub fn write_json(value: &serde_json::Value, out: Option<&Path>) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialize") + "\n";
    write_text(&text, out)
}

/// Writes a report as `--output` asks: its JSON (to `--out` or stdout), its HTML page (likewise),
/// or its console text on stdout.
pub fn write_report<T: serde::Serialize>(
    ctx: &super::Context,
    report: &T,
    html: impl FnOnce() -> String,
    console: impl FnOnce() -> String,
) -> Result<(), Failure> {
    match ctx.output {
        super::OutputFormat::Json => write_json(
            &serde_json::to_value(report).expect("a report serializes"),
            ctx.out.as_deref(),
        ),
        super::OutputFormat::Html => write_text(&html(), ctx.out.as_deref()),
        _ => write_text(&console(), None),
    }
}

/// Writes `text` to `out` or stdout; a file is written whole or not at all.
pub fn write_text(text: &str, out: Option<&Path>) -> Result<(), Failure> {
    match out {
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| Failure::io(format!("cannot write to stdout: {e}"))),
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let fail = |e: std::io::Error| Failure::bad_input(format!("{}: {e}", path.display()));
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
            tmp.write_all(text.as_bytes()).map_err(fail)?;
            tmp.persist(path).map_err(|e| fail(e.error))?;
            Ok(())
        }
    }
}

/// A table with a header row, printed with columns aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let mut t = Table::new(&["NAME", "VERSION"]);
        t.row(vec!["rules-mi".into(), "0.1.0".into()]);
        t.row(vec!["x".into(), "10.2.3".into()]);
        assert_eq!(
            t.render(),
            "NAME      VERSION\nrules-mi  0.1.0\nx         10.2.3\n"
        );
    }
}
