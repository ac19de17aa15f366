//! The HTML reports' kit (assess, sku recommend, validate): text escaping and the pages' shared
//! style sheet.

/// Text made safe for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report pages' style sheet (inline: a page fetches nothing).
pub const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1b1b1b}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd}.meta{color:#666}\
.cards{display:flex;gap:1em;margin:1em 0}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:8em}\
.card b{display:block;font-size:1.8em}.card.blocked b{color:#b00020}.card.warn b{color:#a15c00}.card.ready b{color:#1b7f3b}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #eee;vertical-align:top}\
tr.instance td{font-weight:600;background:#fafafa}.badge,.level{border-radius:3px;padding:0 .4em;font-size:.85em;white-space:nowrap}\
.badge.blocked,.level.issue{background:#fde7e9;color:#b00020}.badge.warn,.level.warning{background:#fff4e0;color:#a15c00}\
.badge.ready{background:#e6f4ea;color:#1b7f3b}.badge.none,.level.info{background:#eef;color:#334}\
details.rule{border:1px solid #eee;border-radius:6px;padding:.4em .8em;margin:.5em 0}summary{cursor:pointer}\
.where{font-family:ui-monospace,Consolas,monospace;font-size:.9em}.failure{color:#b00020}.none{color:#666}";

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::esc("<script>\"x\" & 'y'"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
    }
}
