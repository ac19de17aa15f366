//! Migration: a method plugin plans the steps (`plan.json`), the host runs them in order —
//! databases in parallel, each step journaled in SQLite before and after so that a killed run
//! resumes without redoing finished work — and shows where a migration stands.

pub mod authority;
pub mod cutover;
pub mod gate;
mod host_steps;
pub mod journal;
pub mod launch;
pub mod plan;
pub mod plan_file;
pub mod run;
pub mod status;
pub mod upload;

pub use host_steps::HostContext;
