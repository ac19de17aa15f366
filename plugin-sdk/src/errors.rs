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

/// `e` with `advice` (what to do about it) added to its message; a SQL Server error keeps its
/// number and text and is returned as it is.
pub fn with_advice(e: Error, advice: &str) -> Error {
    let add = |m: String| format!("{m}; {advice}");
    match e {
        Error::AccessDenied(m) => Error::AccessDenied(add(m)),
        Error::NotFound(m) => Error::NotFound(add(m)),
        Error::Timeout(m) => Error::Timeout(add(m)),
        Error::LimitExceeded(m) => Error::LimitExceeded(add(m)),
        Error::Unsupported(m) => Error::Unsupported(add(m)),
        Error::InvalidInput(m) => Error::InvalidInput(add(m)),
        Error::Unavailable(m) => Error::Unavailable(add(m)),
        sql @ Error::SqlError(_) => sql,
    }
}
