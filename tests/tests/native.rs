//! Native plugins load only with explicit trust, and a plugin speaking another ABI is refused
//! before any of its functions is called.

use std::path::Path;

use sqlmig::plugins::native::{NativeError, NativePlugin};
use sqlmig_tests::plugins::{NATIVE_FUTURE_LIB, NATIVE_GOOD_LIB};

#[test]
fn a_trusted_native_plugin_loads_and_answers() {
    let p = NativePlugin::load(Path::new(NATIVE_GOOD_LIB), true).unwrap();
    assert_eq!(p.label, "native-good 1.0.0");
    assert_eq!(p.api.to_string(), "0.1.0");
    let info: serde_json::Value = serde_json::from_str(&p.call("describe", "").unwrap()).unwrap();
    assert_eq!(info["summary"], "a trusted native plugin");
    assert_eq!(
        p.call("validate", r#"{"x":1}"#).unwrap(),
        r#"{"echo":{"x":1}}"#
    );
    let err = p.call("assess", "{}").unwrap_err().to_string();
    assert_eq!(
        err,
        "native plugin native-good 1.0.0: hook assess failed: unsupported: native-good does not implement assess"
    );
}

#[test]
fn without_trust_nothing_is_loaded() {
    let err = NativePlugin::load(Path::new(NATIVE_GOOD_LIB), false)
        .err()
        .unwrap();
    assert!(matches!(err, NativeError::NotTrusted { .. }));
    let text = err.to_string();
    assert!(
        text.contains("not sandboxed") && text.contains("--allow-native"),
        "{text}"
    );
}

#[test]
fn another_abi_is_refused_naming_both_versions() {
    let err = NativePlugin::load(Path::new(NATIVE_FUTURE_LIB), true)
        .err()
        .unwrap();
    assert!(
        matches!(err, NativeError::AbiMismatch { found: 2, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("native ABI 2") && text.contains("speaks ABI 1"),
        "{text}"
    );
}

#[test]
fn a_library_that_is_no_plugin_is_refused() {
    // The test binary's own dependency, libc, is a shared library with no plugin symbol.
    let err = NativePlugin::load(Path::new("libc.so.6"), true)
        .err()
        .unwrap();
    assert!(
        matches!(&err, NativeError::Load { detail, .. } if detail.contains("not a sqlmig native plugin")),
        "{err:?}"
    );
}
