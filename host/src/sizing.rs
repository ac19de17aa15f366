//! Sizing the target: from what a source needs (CPU, memory, IO, log rate, storage, features) to
//! the Managed Instance that holds it, against Microsoft's documented limits.

pub mod limits;
pub mod recommend;

pub use recommend::{Dimension, FileNeed, Need, Options, Recommendation, Sizing, recommend};
