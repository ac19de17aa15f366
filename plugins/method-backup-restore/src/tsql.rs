//! T-SQL text: identifiers quoted, literals escaped — for previews and for the three-part names
//! a verification query needs (values travel as parameters).

/// `[name]` with `]` doubled: a database named `x]; DROP DATABASE y; --` stays a name.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `N'text'` with `'` doubled, for previews.
pub fn literal(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// A blob folder name for a database: letters, digits, `-` and `_` kept, the rest `_`, and a
/// short hash of the exact name so that `a]b` and `a'b` do not share a folder.
pub fn folder(database: &str) -> String {
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = database.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{safe}-{hash:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals_cannot_escape() {
        assert_eq!(
            quote_name("x]; DROP DATABASE y; --"),
            "[x]]; DROP DATABASE y; --]"
        );
        assert_eq!(literal("O'Brien"), "N'O''Brien'");
        assert_ne!(folder("a]b"), folder("a'b"));
        assert!(folder("Sales ] 'Q'").starts_with("Sales____Q_-"));
    }
}
