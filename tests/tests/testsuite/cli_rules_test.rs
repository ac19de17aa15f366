//! `sqlmig rules test`: a rule author's loop without a server — the bundled pack against its
//! committed expectations, --bless, and a failing comparison that lists what differs.

use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/inventories/mi-seed.json"
);
/// rules-mi's findings on mi-seed, checked by hand when blessed (`sqlmig rules test rules-mi
/// --inventory … --expect … --bless`); tests/tests/testsuite/rules_mi.rs says why each is there.
const SEED_EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/inventories/mi-seed.expected.json"
);
const HOUSE_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/house-rules.toml");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory.json");

#[test]
fn the_bundled_pack_meets_its_expectations() {
    let s = sqlmig();
    let out = s.run(&[
        "rules",
        "test",
        "rules-mi",
        "--inventory",
        SEED,
        "--expect",
        SEED_EXPECTED,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with("ok: 113 findings from rules-mi 0.1.0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bless_then_a_changed_expectation_fails_listing_the_difference() {
    let s = sqlmig();
    let expect = s.home.path().join("expected.json");
    let e = expect.to_str().unwrap();
    let out = s.run(&[
        "rules",
        "test",
        HOUSE_RULES,
        "--inventory",
        EXAMPLE,
        "--expect",
        e,
        "--bless",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = s.json(&[
        "rules",
        "test",
        HOUSE_RULES,
        "--inventory",
        EXAMPLE,
        "--expect",
        e,
        "-o",
        "json",
    ]);
    assert_eq!(report["passed"], true);
    assert_eq!(report["findings"], 6);

    // Drop one expected finding and invent another: one missing, one unexpected.
    let mut expected: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&expect).unwrap()).unwrap();
    let dropped = expected.remove(0);
    expected.push(serde_json::json!({"rule_id": "CONTOSO999", "level": "issue", "instance": "SQLOLD01", "database": "Inventory"}));
    std::fs::write(&expect, serde_json::to_string(&expected).unwrap()).unwrap();
    let out = s.run(&[
        "rules",
        "test",
        HOUSE_RULES,
        "--inventory",
        EXAMPLE,
        "--expect",
        e,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("missing     CONTOSO999 issue at SQLOLD01/Inventory"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "unexpected  {}",
            dropped["rule_id"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(
        text.contains("FAILED: 6 findings from contoso-house-rules 1.0.0; 1 missing, 1 unexpected"),
        "{text}"
    );
}

#[test]
fn a_missing_or_malformed_expectation_is_bad_input() {
    let s = sqlmig();
    let out = s.run(&[
        "rules",
        "test",
        "rules-mi",
        "--inventory",
        SEED,
        "--expect",
        "nope.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nope.json") && stderr(&out).contains("--bless"),
        "{}",
        stderr(&out)
    );
    let bad = s.home.path().join("bad.json");
    std::fs::write(&bad, r#"[{"rule": "x"}]"#).unwrap();
    let out = s.run(&[
        "rules",
        "test",
        "rules-mi",
        "--inventory",
        SEED,
        "--expect",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));
    let out = s.run(&[
        "rules",
        "test",
        "no-such-pack",
        "--inventory",
        SEED,
        "--expect",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
