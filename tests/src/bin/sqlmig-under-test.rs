//! The `sqlmig` command for the CLI tests: the same entry point as host/src/main.rs, built in
//! this package so its tests get `CARGO_BIN_EXE_sqlmig-under-test` (cargo sets that only for a
//! package's own binaries).

fn main() -> std::process::ExitCode {
    sqlmig::cli::run()
}
