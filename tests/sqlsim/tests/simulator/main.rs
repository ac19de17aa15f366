//! sqlsim's tests, one binary with a module per area: what the simulator answers, checked through
//! real clients (tiberius, python-tds). Run one area with
//! `cargo test -p sqlsim --test simulator AREA::`.

mod activity;
mod backup_restore;
mod batches;
mod binary;
mod catalog;
mod common;
mod control_flow;
mod faults;
mod indexes;
mod modules;
mod platform_mi;
mod python_tds;
mod security;
mod server_views;
mod tiberius_client;
mod types;
mod workload;
