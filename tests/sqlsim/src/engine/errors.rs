//! SQL Server errors as the engine raises them: real numbers, classes and message texts.

use crate::tds::tokens::ServerMessage;

/// A SQL Server error at a line of the batch.
pub fn error(number: i32, class: u8, line: i32, text: impl Into<String>) -> ServerMessage {
    ServerMessage {
        number,
        state: 1,
        class,
        text: text.into(),
        procedure: String::new(),
        line,
    }
}

/// 102: a statement sqlparser could not parse.
pub fn syntax(line: i32, near: &str) -> ServerMessage {
    error(102, 15, line, format!("Incorrect syntax near '{near}'."))
}

/// 208: a table or view that does not exist; 1087 for a table variable not declared.
pub fn invalid_object(line: i32, name: &str) -> ServerMessage {
    if name.starts_with('@') {
        return error(
            1087,
            15,
            line,
            format!("Must declare the table variable \"{name}\"."),
        );
    }
    error(208, 16, line, format!("Invalid object name '{name}'."))
}

/// 911: `USE` of a database that does not exist.
pub fn no_database(line: i32, name: &str) -> ServerMessage {
    error(
        911,
        16,
        line,
        format!("Database '{name}' does not exist. Make sure that the name is entered correctly."),
    )
}

/// Maps an error SQLite raised to the error SQL Server raises for the same mistake. `names`
/// maps the names SQLite saw back to those the user wrote.
pub fn from_sqlite(e: &rusqlite::Error, line: i32, names: &[(String, String)]) -> ServerMessage {
    // A prepare error carries SQLite's message apart from the statement and offset rusqlite
    // adds when printing it; the server's message has no such thing.
    let text = match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    let original = |sqlite_name: &str| {
        names
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sqlite_name))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| sqlite_name.to_string())
    };
    if let Some(name) = text.strip_prefix("no such table: ") {
        return invalid_object(line, &original(name));
    }
    if let Some(col) = text.strip_prefix("no such column: ") {
        let col = col.rsplit('.').next().unwrap_or(col);
        return error(207, 16, line, format!("Invalid column name '{col}'."));
    }
    if let Some(rest) = text.strip_prefix("table ")
        && let Some(name) = rest.strip_suffix(" already exists")
    {
        let name = original(name.trim_matches('"'));
        let short = name.rsplit('.').next().unwrap_or(&name).to_string();
        return error(
            2714,
            16,
            line,
            format!("There is already an object named '{short}' in the database."),
        );
    }
    if text.contains("attempt to write a readonly database") {
        // A database in STANDBY (read-only); SQL Server names it, SQLite does not say which.
        return error(
            3906,
            16,
            line,
            "Failed to update database because the database is read-only.",
        );
    }
    if text.starts_with("UNIQUE constraint failed") {
        return error(
            2627,
            14,
            line,
            format!(
                "Violation of PRIMARY KEY or UNIQUE constraint. Cannot insert duplicate key ({text})."
            ),
        );
    }
    if text.starts_with("NOT NULL constraint failed: ") {
        let col = text.rsplit('.').next().unwrap_or_default();
        return error(
            515,
            16,
            line,
            format!(
                "Cannot insert the value NULL into column '{col}'; column does not allow nulls. INSERT fails."
            ),
        );
    }
    if let Some(name) = text.strip_prefix("no such function: ") {
        return error(
            195,
            15,
            line,
            format!("'{name}' is not a recognized built-in function name."),
        );
    }
    if text.contains("syntax error") {
        return syntax(line, text.split('"').nth(1).unwrap_or("?"));
    }
    // sqlsim's own functions raise SQL Server's errors as "Msg NUMBER: text".
    if let Some((number, message)) = text
        .strip_prefix("Msg ")
        .and_then(|r| r.split_once(": "))
        .and_then(|(n, m)| Some((n.parse::<i32>().ok()?, m)))
    {
        return error(number, 16, line, message);
    }
    error(50000, 16, line, format!("sqlsim: {text}"))
}
