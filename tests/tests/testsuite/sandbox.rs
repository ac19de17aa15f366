//! Hostile plugins fail only their own hook, with an error naming the plugin, the hook and the
//! limit or denied capability; the same host process then runs a well-behaved plugin correctly.

use sqlmig::capabilities::{CapabilityError, CapabilitySet, Services};
use sqlmig::runtime::{HookCall, HookOutput, Limits, LoadedPlugin, PluginError, Runtime};
use sqlmig_tests::plugins::{FULL_MANIFEST, FULL_WASM, HOSTILE_MANIFEST, HOSTILE_WASM};
use sqlmig_tests::{load, runtime};

fn hostile(rt: &Runtime, limits: Limits) -> LoadedPlugin {
    load(
        rt,
        HOSTILE_WASM,
        HOSTILE_MANIFEST,
        CapabilitySet::default(),
        limits,
    )
    .unwrap()
}

async fn misbehave(p: &LoadedPlugin, what: &str) -> PluginError {
    p.call(&Services::default(), HookCall::Validate(what.into()))
        .await
        .expect_err(what)
}

/// The well-behaved plugin still answers on the same runtime.
async fn still_healthy(rt: &Runtime) {
    let full = load(
        rt,
        FULL_WASM,
        FULL_MANIFEST,
        CapabilitySet::default(),
        Limits::default(),
    )
    .unwrap();
    match full
        .call(&Services::default(), HookCall::Describe)
        .await
        .unwrap()
    {
        HookOutput::Info(i) => assert_eq!(i.name, "full"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_endless_loop_hits_the_time_limit() {
    let rt = runtime();
    let limits = Limits {
        timeout_secs: 1,
        ..Limits::default()
    };
    let err = misbehave(&hostile(&rt, limits), "loop").await;
    assert!(
        matches!(
            err,
            PluginError::TimeLimit {
                hook: "validate",
                secs: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "plugin hostile 6.6.6: hook validate exceeded its time limit of 1 s"
    );
    still_healthy(&rt).await;
}

#[tokio::test]
async fn an_endless_loop_runs_out_of_fuel_first_when_fuel_is_tight() {
    let rt = runtime();
    let limits = Limits {
        fuel: 50_000_000,
        timeout_secs: 60,
        ..Limits::default()
    };
    let err = misbehave(&hostile(&rt, limits), "loop").await;
    assert!(
        matches!(
            err,
            PluginError::FuelLimit {
                fuel: 50_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("plugin hostile 6.6.6: hook validate exceeded its fuel limit")
    );
    still_healthy(&rt).await;
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let rt = runtime();
    let limits = Limits {
        memory_mib: 64,
        ..Limits::default()
    };
    let err = misbehave(&hostile(&rt, limits), "memory").await;
    assert_eq!(
        err.to_string(),
        "plugin hostile 6.6.6: hook validate exceeded its memory limit of 64 MiB"
    );
    still_healthy(&rt).await;
}

#[tokio::test]
async fn a_panic_is_a_crash_of_that_hook_with_the_panic_message() {
    let rt = runtime();
    let err = misbehave(&hostile(&rt, Limits::default()), "panic").await;
    let text = err.to_string();
    assert!(
        matches!(
            err,
            PluginError::Trap {
                hook: "validate",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.starts_with("plugin hostile 6.6.6: hook validate crashed"),
        "{text}"
    );
    assert!(text.contains("hostile plugin panics on purpose"), "{text}");
    still_healthy(&rt).await;
}

#[tokio::test]
async fn wasi_gives_no_way_out() {
    let rt = runtime();
    let out = hostile(&rt, Limits::default())
        .call(&Services::default(), HookCall::Validate("escape".into()))
        .await
        .unwrap();
    let HookOutput::Document(d) = out else {
        panic!("{out:?}")
    };
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    for attempt in ["socket", "file", "write"] {
        assert!(
            d[attempt].as_str().unwrap().starts_with("refused"),
            "{attempt} was not refused: {d}"
        );
    }
    // wasi-libc reports a virtual "/" with no preopens behind it; the host's directory stays hidden.
    let host_cwd = std::env::current_dir().unwrap().display().to_string();
    assert_ne!(d["cwd"].as_str().unwrap(), host_cwd);
    assert_eq!(
        d["env"],
        serde_json::json!([]),
        "no environment is inherited"
    );
    assert_eq!(
        d["args"],
        serde_json::json!([]),
        "no arguments are inherited"
    );
    assert!(!std::path::Path::new("/tmp/sqlmig-hostile-was-here").exists());
}

#[tokio::test]
async fn an_unasked_capability_is_denied_naming_the_manifest() {
    let rt = runtime();
    // Even an operator granting everything cannot hand a plugin what its manifest did not ask.
    let generous = CapabilitySet {
        sql: vec!["*".into()],
        state: true,
        ..Default::default()
    };
    let p = load(
        &rt,
        HOSTILE_WASM,
        HOSTILE_MANIFEST,
        generous,
        Limits::default(),
    )
    .unwrap();
    let err = misbehave(&p, "ungranted").await;
    assert!(
        matches!(
            &err,
            PluginError::Failed {
                error: CapabilityError::AccessDenied(_),
                hook: "validate",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("capability sql endpoint 'source' is not asked for by plugin hostile 6.6.6"),
        "{text}"
    );
    still_healthy(&rt).await;
}

#[tokio::test]
async fn unimplemented_hooks_answer_unsupported() {
    let rt = runtime();
    let err = hostile(&rt, Limits::default())
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: "{}".into(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PluginError::Unsupported { hook: "assess", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn every_failure_in_turn_leaves_the_runtime_serving() {
    let rt = runtime();
    let limits = Limits {
        memory_mib: 64,
        timeout_secs: 1,
        fuel: 2_000_000_000,
    };
    let p = hostile(&rt, limits);
    for what in ["loop", "memory", "panic", "ungranted", "loop"] {
        misbehave(&p, what).await;
    }
    still_healthy(&rt).await;
}
