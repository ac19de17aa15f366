//! Sizing the target: from what a source needs (CPU, memory, IO, log rate, storage, features) to
//! the Managed Instance that holds it, against Microsoft's documented limits.

pub mod forecast;
pub mod html;
pub use sqlmig_mi_limits as limits;
pub mod microsoft_csv;
pub mod per_database;
pub mod perf_file;
pub mod recommend;
pub mod report;
pub mod sampling;
pub mod workload;

pub use recommend::{
    DatabaseNeed, Dimension, FileNeed, Need, Options, Recommendation, Sizing, recommend,
};
