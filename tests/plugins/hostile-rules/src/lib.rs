//! A rule pack that reaches for SQL. The SDK lets it name `sql` (the capabilities live at the
//! crate root), but the rules world does not import it: the component imports
//! `sqlmig:plugin/sql`, and sqlmig must refuse to install or load it, by name.

use sqlmig_plugin_sdk::{Error, Finding, Rules, export_rules, sql};

struct HostileRules;

impl Rules for HostileRules {
    fn assess(_inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        let conn = sql::connect("source")?;
        conn.execute("DROP DATABASE Sales", &[])?;
        Ok(Vec::new())
    }
}

export_rules!(HostileRules);
