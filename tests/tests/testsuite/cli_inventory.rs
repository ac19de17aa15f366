//! `sqlmig inventory show/diff/schema` through the real binary, and malformed inventories refused
//! with the file and JSON path.

use std::path::{Path, PathBuf};

use sqlmig_protocol::{CollectionStatus, Database, DatabaseFile, Gap, Instance, Inventory, Server};
use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn snapshot(compat: u32, extra_db: bool) -> Inventory {
    let db = |name: &str, id: i64, compat: u32| Database {
        name: name.into(),
        database_id: id,
        compatibility_level: compat,
        size_mb: 2048.0,
        files: vec![DatabaseFile {
            name: name.into(),
            type_desc: "ROWS".into(),
            size_mb: 2048.0,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut inv = Inventory::new();
    let mut dbs = vec![db("master", 1, 160), db("Sales", 5, compat)];
    if extra_db {
        dbs.push(db("Archive", 6, 160));
    }
    inv.instances.push(Instance {
        name: "SQL01".into(),
        status: CollectionStatus::Partial,
        gaps: vec![Gap {
            what: "server.cpu_count".into(),
            reason: "VIEW SERVER STATE permission was denied".into(),
            error_number: Some(300),
        }],
        server: Some(Server {
            product_version: "13.0.6300.0".into(),
            major_version: 13,
            edition: "Enterprise Edition (64-bit)".into(),
            engine_edition: 3,
            ..Default::default()
        }),
        databases: dbs,
        ..Default::default()
    });
    inv
}

fn write(dir: &Path, name: &str, inv: &Inventory) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(inv).unwrap()).unwrap();
    p
}

#[test]
fn show_summarises_and_names_the_gaps() {
    let s = sqlmig();
    let f = write(s.home.path(), "inv.json", &snapshot(130, false));
    let out = s.run(&["inventory", "show", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("SQL01"), "{text}");
    assert!(text.contains("partial (1 gaps)"), "{text}");
    assert!(text.contains("13.0.6300.0"), "{text}");
    assert!(
        text.contains("server.cpu_count: VIEW SERVER STATE permission was denied (error 300)"),
        "{text}"
    );
    let json = s.json(&["inventory", "show", f.to_str().unwrap(), "-o", "json"]);
    assert_eq!(json[0]["user_databases"], 1);
    assert_eq!(json[0]["user_size_mb"], 2048.0);
    assert_eq!(json[0]["gaps"][0]["error_number"], 300);
}

#[test]
fn diff_lists_changes_by_name_and_exits_1() {
    let s = sqlmig();
    let a = write(s.home.path(), "a.json", &snapshot(130, false));
    let b = write(s.home.path(), "b.json", &snapshot(150, true));
    let out = s.run(&[
        "inventory",
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("~ instances[SQL01].databases[Sales].compatibility_level: 130 → 150"),
        "{text}"
    );
    assert!(
        text.contains("+ instances[SQL01].databases[Archive]"),
        "{text}"
    );
    let same = s.run(&[
        "inventory",
        "diff",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).contains("no differences"));
}

#[test]
fn malformed_inventories_are_refused_with_file_and_path() {
    let s = sqlmig();
    let mut v = serde_json::to_value(snapshot(130, false)).unwrap();
    v["instances"][0]["databases"][1]["compatibility_level"] = "one-thirty".into();
    let f = s.home.path().join("broken.json");
    std::fs::write(&f, v.to_string()).unwrap();
    for args in [
        vec!["inventory", "show", f.to_str().unwrap()],
        vec![
            "inventory",
            "diff",
            f.to_str().unwrap(),
            f.to_str().unwrap(),
        ],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("broken.json"), "{err}");
        assert!(
            err.contains("at instances[0].databases[1].compatibility_level"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let missing = s.run(&["inventory", "show", "/nonexistent/inv.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/inv.json: cannot read it"));
}

#[test]
fn schema_prints_the_published_schema() {
    let s = sqlmig();
    let schema = s.json(&["inventory", "schema"]);
    let published: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/inventory.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(schema, published);
}
