//! The documents that cross sqlmig's plugin boundary, as serde types shared by the host and the
//! plugins: the inventory (`sqlmig.inventory/1`, at this crate's root: what `sqlmig discover`
//! collects from each instance and what assessment reads offline), `discovery`, `migration`
//! (plans, their steps and step kinds, host-run step arguments) and `validation`; and the
//! contract's version, read from the WIT.

pub mod diff;
pub mod discovery;
mod load;
pub mod migration;
mod model;
pub mod validation;

pub use load::{InventoryError, parse, parse_instance, read};

/// The `sqlmig:plugin` contract's version, as its WIT says it (`package sqlmig:plugin@0.1.1;`,
/// read when this crate is built): the SDK builds plugins against it and the host implements it.
pub const CONTRACT_VERSION: &str = package_version(include_str!("../../wit/types.wit"));

/// The version in a WIT file's `package NAMESPACE:NAME@VERSION;` line.
pub const fn package_version(wit: &str) -> &str {
    let b = wit.as_bytes();
    let mut at = 0;
    while at < b.len() && b[at] != b'@' {
        at += 1;
    }
    let mut end = at;
    while end < b.len() && b[end] != b';' {
        end += 1;
    }
    assert!(end < b.len(), "the WIT has no `package …@VERSION;` line");
    let (_, rest) = b.split_at(at + 1);
    let (version, _) = rest.split_at(end - at - 1);
    match core::str::from_utf8(version) {
        Ok(v) => v,
        Err(_) => panic!("the WIT's package version is not UTF-8"),
    }
}
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

#[cfg(test)]
mod contract_tests {
    /// Every file of the WIT package says the same version, the one the host and SDK read.
    #[test]
    fn every_wit_file_carries_the_contract_version() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wit") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert_eq!(
                    super::package_version(&text),
                    super::CONTRACT_VERSION,
                    "{}",
                    path.display()
                );
                files += 1;
            }
        }
        assert!(files >= 3, "{files} WIT files in {}", dir.display());
    }
}
