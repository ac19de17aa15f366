//! Azure Blob Storage: SAS tokens and the real backend of the `blob` capability.

pub mod azure_blob;
pub mod copy;
pub mod sas;
