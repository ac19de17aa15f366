//! Plugin runtime costs: cold load (compile), warm load (from the disk cache), instantiate +
//! `describe`, one hook round trip, and one `sql.query` round trip through a host stub.
//!
//! `cargo bench -p sqlmig-tests --bench plugin_runtime`; figures go to docs/benchmarks.md.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sqlmig::capabilities::{CapabilitySet, Grants, Services};
use sqlmig::runtime::{HookCall, Limits, LoadedPlugin, Runtime};
use sqlmig_tests::doubles::ScriptedSql;
use sqlmig_tests::plugins::{FULL_MANIFEST, FULL_WASM};

fn grants() -> Grants {
    let m = sqlmig_tests::manifest(FULL_MANIFEST);
    Grants {
        plugin: m.label(),
        plugin_name: m.name.clone(),
        asked: m.capabilities.clone(),
        granted: CapabilitySet {
            sql: vec!["source".into()],
            ..Default::default()
        },
    }
}

fn bench(c: &mut Criterion) {
    let wasm = std::fs::read(FULL_WASM).unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let mut g = c.benchmark_group("plugin");
    g.warm_up_time(Duration::from_secs(1));

    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let cold = Runtime::new(None).unwrap();
    g.bench_function("cold load (compile)", |b| {
        b.iter(|| LoadedPlugin::load(&cold, &wasm, "full", grants(), Limits::default()).unwrap())
    });

    g.sample_size(50).measurement_time(Duration::from_secs(5));
    let cache = tempfile::tempdir().unwrap();
    let warm = Runtime::new(Some(cache.path().to_path_buf())).unwrap();
    LoadedPlugin::load(&warm, &wasm, "full", grants(), Limits::default()).unwrap();
    g.bench_function("warm load (disk cache)", |b| {
        b.iter(|| LoadedPlugin::load(&warm, &wasm, "full", grants(), Limits::default()).unwrap())
    });

    g.bench_function("warm load + instantiate + describe", |b| {
        b.iter(|| {
            let p = LoadedPlugin::load(&warm, &wasm, "full", grants(), Limits::default()).unwrap();
            tokio
                .block_on(p.call(&Services::default(), HookCall::Describe))
                .unwrap()
        })
    });

    let loaded = LoadedPlugin::load(&warm, &wasm, "full", grants(), Limits::default()).unwrap();
    g.sample_size(100);
    g.bench_function("hook round trip (instantiate + describe)", |b| {
        b.iter(|| {
            tokio
                .block_on(loaded.call(&Services::default(), HookCall::Describe))
                .unwrap()
        })
    });

    let services = Services {
        sql: Some(Arc::new(ScriptedSql::default())),
        ..Default::default()
    };
    for n in [0u32, 1000] {
        let req = format!(r#"{{"queries":{n}}}"#);
        g.bench_function(format!("validate with {n} sql.query calls"), |b| {
            b.iter(|| {
                tokio
                    .block_on(loaded.call(&services, HookCall::Validate(req.clone())))
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
