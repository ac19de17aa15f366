//! The `sqlmig` command line.
