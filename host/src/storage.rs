//! Azure Blob Storage: SAS tokens (signed, read, made and checked for a migration) and the real
//! backend of the `blob` capability.

pub mod azure_blob;
pub mod copy;
pub mod sas;
pub mod tokens;
