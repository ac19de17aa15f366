//! The sqlmig inventory (`sqlmig.inventory/1`): what `sqlmig discover` collects from each
//! instance and what assessment reads offline. Shared by the host, the platform plugins that
//! write it and the rule plugins that read it.

pub mod diff;
pub mod discovery;
mod load;
pub mod migration;
mod model;
pub mod validation;

pub use load::{InventoryError, parse, parse_instance, read};
pub use model::*;

/// The JSON Schema of the document, as published in `docs/inventory.schema.json`.
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Inventory);
    schema.insert(
        "$id".into(),
        "https://sqlmig.dev/schemas/sqlmig.inventory-1.json".into(),
    );
    schema.insert(
        "title".into(),
        "sqlmig inventory (sqlmig.inventory/1)".into(),
    );
    schema.to_value()
}
