//! The `sqlmig` command.

fn main() -> std::process::ExitCode {
    sqlmig::cli::run()
}
