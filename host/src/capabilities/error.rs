//! The host-side form of the contract's `error` variant, shared by every capability backend.

/// A SQL Server error with its number preserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlErrorInfo {
    pub number: i32,
    pub state: u8,
    pub class: u8,
    pub message: String,
    pub procedure: Option<String>,
    pub line: u32,
}

/// An error a plugin can act on; mirrors the contract's `error` variant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("SQL Server error {} (state {}, class {}, line {}): {}", .0.number, .0.state, .0.class, .0.line, .0.message)]
    Sql(SqlErrorInfo),
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl CapabilityError {
    /// The same kind of error with `message` (a SQL error keeps its number, with `message`).
    pub fn with_message(self, message: String) -> CapabilityError {
        match self {
            CapabilityError::AccessDenied(_) => CapabilityError::AccessDenied(message),
            CapabilityError::NotFound(_) => CapabilityError::NotFound(message),
            CapabilityError::Timeout(_) => CapabilityError::Timeout(message),
            CapabilityError::Sql(mut i) => {
                i.message = message;
                CapabilityError::Sql(i)
            }
            CapabilityError::LimitExceeded(_) => CapabilityError::LimitExceeded(message),
            CapabilityError::Unsupported(_) => CapabilityError::Unsupported(message),
            CapabilityError::InvalidInput(_) => CapabilityError::InvalidInput(message),
            CapabilityError::Unavailable(_) => CapabilityError::Unavailable(message),
        }
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            CapabilityError::AccessDenied(m)
            | CapabilityError::NotFound(m)
            | CapabilityError::Timeout(m)
            | CapabilityError::LimitExceeded(m)
            | CapabilityError::Unsupported(m)
            | CapabilityError::InvalidInput(m)
            | CapabilityError::Unavailable(m) => m,
            CapabilityError::Sql(i) => &i.message,
        }
    }
}
