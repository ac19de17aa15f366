//! Module DDL: CREATE/ALTER/DROP of procedures, functions, triggers and views. T-SQL requires
//! such a CREATE to be the only statement of its batch, so the batch text is the module's
//! definition; bodies are recorded even where sqlparser cannot parse them, since assessment
//! reads module text, not its results.

/// What a module statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Alter,
    Drop,
}

/// A module statement found at the start of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleDdl {
    pub action: Action,
    /// sys.objects type code and description.
    pub type_code: &'static str,
    pub type_desc: &'static str,
    /// The name as written, in parts.
    pub name: Vec<String>,
}

impl ModuleDdl {
    /// Whether the module is a view (which also becomes a SQLite view).
    pub fn is_view(&self) -> bool {
        self.type_code == "V"
    }
}

/// Skips whitespace and comments.
fn skip_trivia(s: &str) -> &str {
    let mut s = s.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return s;
        }
    }
}

/// The next keyword (letters only), uppercased, and the rest.
fn word(s: &str) -> (String, &str) {
    let s = skip_trivia(s);
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    (s[..end].to_ascii_uppercase(), &s[end..])
}

/// A possibly multi-part, possibly bracketed or quoted name.
fn name(s: &str) -> Option<Vec<String>> {
    let mut s = skip_trivia(s);
    let mut parts = Vec::new();
    loop {
        let (part, rest) = if let Some(r) = s.strip_prefix('[') {
            let end = r.find(']')?;
            (r[..end].to_string(), &r[end + 1..])
        } else if let Some(r) = s.strip_prefix('"') {
            let end = r.find('"')?;
            (r[..end].to_string(), &r[end + 1..])
        } else {
            let end = s
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '#' | '@' | '$')))
                .unwrap_or(s.len());
            (s[..end].to_string(), &s[end..])
        };
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match rest.strip_prefix('.') {
            Some(r) => s = r,
            None => return Some(parts),
        }
    }
}

/// The module statement a batch starts with, if it does.
pub fn parse(batch: &str) -> Option<ModuleDdl> {
    let (first, rest) = word(batch);
    let (action, rest) = match first.as_str() {
        "CREATE" => {
            let (w, r) = word(rest);
            if w == "OR" {
                let (w2, r2) = word(r);
                (
                    if w2 == "ALTER" {
                        Action::Alter
                    } else {
                        return None;
                    },
                    r2,
                )
            } else {
                (Action::Create, rest)
            }
        }
        "ALTER" => (Action::Alter, rest),
        "DROP" => (Action::Drop, rest),
        _ => return None,
    };
    let (kind, rest) = word(rest);
    let (type_code, type_desc) = match kind.as_str() {
        "PROC" | "PROCEDURE" => ("P", "SQL_STORED_PROCEDURE"),
        "FUNCTION" => ("FN", "SQL_SCALAR_FUNCTION"),
        "TRIGGER" => ("TR", "SQL_TRIGGER"),
        "VIEW" => ("V", "VIEW"),
        _ => return None,
    };
    let rest = if action == Action::Drop {
        // DROP PROCEDURE IF EXISTS name
        let (w, r) = word(rest);
        if w == "IF" { word(r).1 } else { rest }
    } else {
        rest
    };
    Some(ModuleDdl {
        action,
        type_code,
        type_desc,
        name: name(rest)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_past_comments_and_brackets() {
        let m =
            parse("-- audit\n/* v2 */ CREATE PROCEDURE [dbo].[usp_Get Orders] @id int AS SELECT 1")
                .unwrap();
        assert_eq!(m.action, Action::Create);
        assert_eq!(m.type_code, "P");
        assert_eq!(m.name, ["dbo", "usp_Get Orders"]);
        let m =
            parse("create or alter function dbo.f() returns int as begin return 1 end").unwrap();
        assert_eq!((m.action, m.type_code), (Action::Alter, "FN"));
        let m = parse("DROP PROCEDURE IF EXISTS dbo.p").unwrap();
        assert_eq!(
            (m.action, m.name.clone()),
            (Action::Drop, vec!["dbo".into(), "p".into()])
        );
        assert!(parse("SELECT 1; CREATE PROCEDURE p AS SELECT 1").is_none());
        assert!(parse("CREATE TABLE t (x int)").is_none());
    }
}
