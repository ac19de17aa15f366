//! A plan file as the commands that act on it read it: only one no other user could have
//! written (it says where the operator's logins, SAS and token go), and with its SHA-256, which
//! ties the journal to it.

use std::path::Path;

use sha2::{Digest, Sha256};
use sqlmig_protocol::migration::{PLAN, Plan};

use crate::failure::Failure;
use crate::private_files;

/// Reads a plan file; returns it and its SHA-256 (the journal is tied to it). The plan says where
/// the operator's logins, SAS and token go, so only a plan no other user could have written is
/// read (as [`private_files::read`] checks it).
pub fn read(path: &Path) -> Result<(Plan, String), Failure> {
    let bytes = match private_files::read(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(
                Failure::bad_input(format!("{}: no such file", path.display()))
                    .hint("a plan is written by `sqlmig migrate plan --out FILE`"),
            );
        }
        Err(why) => {
            return Err(Failure::bad_input(format!(
                "{}: {why}: a plan directs where your logins, SAS and token are sent, so sqlmig \
                 runs only a plan no other user could have written",
                path.display()
            ))
            .hint(format!(
                "if the plan is as you wrote it, make it yours alone (chmod go-w {}); a \
                 colleague's plan: read it (`sqlmig migrate run {} --dry-run` once it is yours) \
                 and copy it with cp, which makes the copy yours; otherwise plan again",
                path.display(),
                path.display()
            )));
        }
    };
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let plan: Plan = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        Failure::bad_input(format!(
            "{}: not a plan: at {}: {}",
            path.display(),
            e.path(),
            e.inner()
        ))
        .hint("a plan is written by `sqlmig migrate plan --out FILE`")
    })?;
    if plan.schema != PLAN {
        return Err(Failure::bad_input(format!(
            "{}: schema {:?}, expected {PLAN:?}",
            path.display(),
            plan.schema
        )));
    }
    Ok((plan, hex::encode(Sha256::digest(&bytes))))
}
