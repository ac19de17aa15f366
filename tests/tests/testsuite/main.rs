//! sqlmig's integration tests, one binary with a module per area (the shape of cargo's own
//! `tests/testsuite`): every test binary links wasmtime, sqlmig and sqlsim, so one binary links
//! them once. Run one area with `cargo test -p sqlmig-tests --test testsuite AREA::`.

mod azurite_blob;
mod blob_copy;
mod capabilities;
mod cli_assess;
mod cli_assess_scripts;
mod cli_assess_server;
mod cli_assessment_api;
mod cli_backup;
mod cli_house_rules;
mod cli_inventory;
mod cli_perf;
mod cli_plugins;
mod cli_rules_test;
mod cli_sku;
mod discover;
mod loading;
mod migrate_from_cloudsql;
mod migrate_from_rds;
mod migrate_offline;
mod migrate_online;
mod migrate_plan;
mod moto_harness;
mod platform_aws_rds;
mod platform_gcp_cloudsql;
mod rules_mi;
mod sandbox;
mod scaffold;
mod sql_backend;
mod sqlsim_backups;
mod sqlsim_rds;
mod validate;
