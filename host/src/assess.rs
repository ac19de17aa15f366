//! Assessment: rule plugins run over an inventory, offline; their findings are gathered, sorted
//! and judged into readiness per database and per instance, then reported.

pub mod assessment_api;
pub mod engine;
pub mod findings;
pub mod house_rules;
pub mod html;
pub mod packs;
pub mod readiness;
pub mod report;
pub mod scripts;
pub mod sources;

pub use engine::{RulePack, run};
pub use findings::{Finding, Level, Scope};
pub use readiness::Readiness;
pub use report::Assessment;
