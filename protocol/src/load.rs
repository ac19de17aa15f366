//! Reading an inventory: a malformed one is refused with the file, the JSON path and what was
//! wrong, so the DBA can fix it by hand.

use std::fmt;
use std::path::Path;

use crate::model::{Inventory, SCHEMA};

/// Why an inventory could not be read.
#[derive(Debug)]
pub struct InventoryError {
    /// The file (or `-` for stdin).
    pub file: String,
    /// Where in the document, e.g. `instances[0].databases[2].compatibility_level`; empty for
    /// the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: at {}: {}", self.file, self.path, self.message)
        }
    }
}

impl std::error::Error for InventoryError {}

/// Parses an inventory read from `file` (named in errors).
pub fn parse(text: &str, file: &str) -> Result<Inventory, InventoryError> {
    let fail = |path: String, message: String| InventoryError {
        file: file.to_string(),
        path,
        message,
    };
    let de = &mut serde_json::Deserializer::from_str(text);
    let inventory: Inventory = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON: {inner}")
        } else {
            inner.to_string()
        };
        fail(path, message)
    })?;
    if inventory.schema != SCHEMA {
        return Err(fail(
            "schema".into(),
            format!(
                "is {:?}; this sqlmig reads {SCHEMA:?} (write the inventory again with `sqlmig discover`)",
                inventory.schema
            ),
        ));
    }
    Ok(inventory)
}

/// Parses one instance (a platform plugin's `collect` answer), naming the JSON path of a problem.
pub fn parse_instance(text: &str) -> Result<crate::model::Instance, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        format!("at {path}: {}", e.into_inner())
    })
}

/// Reads and parses the inventory at `path`.
pub fn read(path: &Path) -> Result<Inventory, InventoryError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InventoryError {
        file: file.clone(),
        path: String::new(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, &file)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_wrong_type_is_named_by_its_path() {
        let text = r#"{"schema": "sqlmig.inventory/1", "instances": [
            {"name": "A", "databases": [{"name": "x", "database_id": 5, "compatibility_level": "high"}]}]}"#;
        let e = parse(text, "inv.json").unwrap_err();
        assert_eq!(e.path, "instances[0].databases[0].compatibility_level");
        assert!(
            e.to_string().starts_with(
                "inv.json: at instances[0].databases[0].compatibility_level: invalid type"
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_fields_bad_json_and_other_versions_are_refused() {
        let e = parse(
            r#"{"schema": "sqlmig.inventory/1", "instances": [{"databases": []}]}"#,
            "f",
        )
        .unwrap_err();
        assert_eq!(e.path, "instances[0]");
        assert!(e.message.contains("missing field `name`"), "{e}");
        let e = parse(r#"{"schema": "sqlmig.inventory/1", "instances": [}"#, "f").unwrap_err();
        assert!(e.message.starts_with("not valid JSON"), "{e}");
        let e = parse(r#"{"schema": "sqlmig.inventory/2"}"#, "f").unwrap_err();
        assert_eq!(e.path, "schema");
    }

    #[test]
    fn unknown_fields_are_ignored_for_later_writers() {
        let inv = parse(r#"{"schema": "sqlmig.inventory/1", "future": 1, "instances": [{"name": "A", "new_thing": true}]}"#, "f").unwrap();
        assert_eq!(inv.instances[0].name, "A");
    }
}
