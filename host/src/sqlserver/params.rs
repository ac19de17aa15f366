//! Named parameters on tiberius: plugins write `@name`, tiberius binds `@P1…@Pn`. The statement's
//! parameter references are renumbered by a small T-SQL lexer that leaves string literals,
//! quoted identifiers, comments, `@@globals` and the parameter names of a procedure call
//! (`EXEC p @type = @type`: the first is the procedure's) alone, so the statement the server
//! sees is the plugin's own, still parameterized (never values pasted into text).

use crate::capabilities::CapabilityError;
use crate::capabilities::sql::Param;

/// `statement` with each `@name` of `params` written `@P{i}` (1-based, in `params` order).
pub fn number_params(statement: &str, params: &[Param]) -> Result<String, CapabilityError> {
    for (i, p) in params.iter().enumerate() {
        let name = p.name.trim_start_matches('@');
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '#' | '$'));
        if !valid {
            return Err(CapabilityError::InvalidInput(format!(
                "parameter {} is named {:?}; a parameter name is letters, digits and _",
                i + 1,
                p.name
            )));
        }
        if params[..i]
            .iter()
            .any(|q| q.name.trim_start_matches('@').eq_ignore_ascii_case(name))
        {
            return Err(CapabilityError::InvalidInput(format!(
                "parameter @{name} is given twice"
            )));
        }
    }
    let index = |word: &str| {
        params
            .iter()
            .position(|p| p.name.trim_start_matches('@').eq_ignore_ascii_case(word))
    };
    let chars: Vec<char> = statement.chars().collect();
    let mut out = String::with_capacity(statement.len() + 8);
    let mut i = 0;
    // Inside an EXEC's argument list, where `@name =` names the procedure's parameter.
    let mut in_exec = false;
    let copy_until = |out: &mut String, i: &mut usize, end: &dyn Fn(usize) -> Option<usize>| {
        let stop = end(*i).unwrap_or(chars.len());
        out.extend(&chars[*i..stop]);
        *i = stop;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            // '…' with '' inside (N'…' too: the N was copied as a word character).
            '\'' => copy_until(&mut out, &mut i, &|s| closing(&chars, s, '\'')),
            '"' => copy_until(&mut out, &mut i, &|s| closing(&chars, s, '"')),
            '[' => copy_until(&mut out, &mut i, &|s| closing(&chars, s, ']')),
            '-' if next == Some('-') => copy_until(&mut out, &mut i, &|s| {
                (s..chars.len()).find(|&k| chars[k] == '\n')
            }),
            '/' if next == Some('*') => copy_until(&mut out, &mut i, &|s| {
                (s + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars[k] == '*' && chars[k + 1] == '/')
                    .map(|k| k + 2)
            }),
            '@' if next == Some('@') => {
                // A global such as @@VERSION: copy it whole.
                let end = word_end(&chars, i + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            '@' => {
                let end = word_end(&chars, i + 1);
                let word: String = chars[i + 1..end].iter().collect();
                let names_argument = in_exec && {
                    let after = (end..chars.len()).find(|&k| !chars[k].is_whitespace());
                    after.is_some_and(|k| chars[k] == '=' && chars.get(k + 1) != Some(&'='))
                };
                match index(&word).filter(|_| !names_argument) {
                    Some(n) => out.push_str(&format!("@P{}", n + 1)),
                    None => out.extend(&chars[i..end]),
                }
                i = end;
            }
            ';' => {
                in_exec = false;
                out.push(c);
                i += 1;
            }
            c if c.is_alphabetic()
                && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')) =>
            {
                let end = word_end(&chars, i);
                let word: String = chars[i..end]
                    .iter()
                    .collect::<String>()
                    .to_ascii_uppercase();
                match word.as_str() {
                    "EXEC" | "EXECUTE" => in_exec = true,
                    "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "SET" | "DECLARE" | "IF"
                    | "WHILE" | "BEGIN" | "END" | "RETURN" | "MERGE" | "WITH" => in_exec = false,
                    _ => {}
                }
                out.extend(&chars[i..end]);
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The index after the quote closing the one at `start` (`''` inside is an escaped quote).
fn closing(chars: &[char], start: usize, close: char) -> Option<usize> {
    let mut k = start + 1;
    while k < chars.len() {
        if chars[k] == close {
            if chars.get(k + 1) == Some(&close) {
                k += 2;
                continue;
            }
            return Some(k + 1);
        }
        k += 1;
    }
    None
}

fn word_end(chars: &[char], from: usize) -> usize {
    (from..chars.len())
        .find(|&k| !(chars[k].is_alphanumeric() || matches!(chars[k], '_' | '#' | '$')))
        .unwrap_or(chars.len())
}

#[cfg(test)]
mod tests {
    use super::number_params;
    use crate::capabilities::sql::{Param, SqlValue};

    fn p(name: &str) -> Param {
        Param {
            name: name.into(),
            value: SqlValue::Null,
        }
    }

    #[test]
    fn references_are_renumbered_and_everything_else_kept() {
        let sql = "SELECT @db AS d, '@db' AS s, [@db] AS q, @@VERSION, @dbx -- @db\n\
                   /* @db */ FROM t WHERE name = @DB AND id = @id";
        let out = number_params(sql, &[p("db"), p("@id")]).unwrap();
        assert_eq!(
            out,
            "SELECT @P1 AS d, '@db' AS s, [@db] AS q, @@VERSION, @dbx -- @db\n\
             /* @db */ FROM t WHERE name = @P1 AND id = @P2"
        );
        let escaped = number_params("SELECT 'it''s @a', @a", &[p("a")]).unwrap();
        assert_eq!(escaped, "SELECT 'it''s @a', @P1");
    }

    #[test]
    fn a_procedure_calls_parameter_names_are_its_own() {
        let sql = "exec msdb.dbo.rds_backup_database @source_db_name = @db, @type=@type; \
                   SELECT 1 WHERE @type = 'FULL'";
        let out = number_params(sql, &[p("db"), p("type")]).unwrap();
        assert_eq!(
            out,
            "exec msdb.dbo.rds_backup_database @source_db_name = @P1, @type=@P2; \
             SELECT 1 WHERE @P2 = 'FULL'"
        );
        // Outside a call a parameter compared on the left is still a reference.
        let out = number_params(
            "SELECT name FROM sys.databases WHERE @db = name",
            &[p("db")],
        );
        assert_eq!(
            out.unwrap(),
            "SELECT name FROM sys.databases WHERE @P1 = name"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(number_params("SELECT 1", &[p("a b")]).is_err());
        assert!(number_params("SELECT 1", &[p("")]).is_err());
        assert!(number_params("SELECT 1", &[p("a"), p("A")]).is_err());
    }
}
