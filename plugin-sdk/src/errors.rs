//! Constructors for the contract's error variants.

use crate::Error;

/// `unsupported`: this plugin does not implement `hook`.
pub fn unsupported(hook: &str) -> Error {
    Error::Unsupported(format!("this plugin does not implement the {hook} hook"))
}

/// `invalid-input` with a message saying what and where.
pub fn invalid_input(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}
