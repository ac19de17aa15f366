//! The published JSON Schema (docs/inventory.schema.json) is the one the types describe, and
//! inventories validate against it.
#![cfg(feature = "schema")]

use sqlmig_protocol::{Database, DatabaseFile, Instance, Inventory, json_schema};

const PUBLISHED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/inventory.schema.json");

#[test]
fn the_published_schema_is_current() {
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    if std::env::var_os("SQLMIG_BLESS").is_some() {
        std::fs::write(PUBLISHED, &generated).unwrap();
    }
    let published = std::fs::read_to_string(PUBLISHED).unwrap_or_default();
    assert!(
        published == generated,
        "docs/inventory.schema.json is stale: run `SQLMIG_BLESS=1 cargo test -p sqlmig-protocol --features schema --test schema`"
    );
}

#[test]
fn inventories_validate_and_malformed_ones_do_not() {
    let validator = jsonschema::validator_for(&json_schema()).unwrap();
    let mut inv = Inventory::new();
    inv.instances.push(Instance {
        name: "SQL01".into(),
        databases: vec![Database {
            name: "Sales".into(),
            database_id: 5,
            compatibility_level: 130,
            files: vec![DatabaseFile {
                name: "Sales".into(),
                type_desc: "ROWS".into(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    });
    let good = serde_json::to_value(&inv).unwrap();
    assert!(validator.is_valid(&good));
    let mut bad = good.clone();
    bad["instances"][0]["databases"][0]["compatibility_level"] = "high".into();
    let errors: Vec<String> = validator
        .iter_errors(&bad)
        .map(|e| e.instance_path.to_string())
        .collect();
    assert_eq!(errors, vec!["/instances/0/databases/0/compatibility_level"]);
    let mut no_name = good;
    no_name["instances"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert!(!validator.is_valid(&no_name));
}
