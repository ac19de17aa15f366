//! Why an operation a command asked for failed: what went wrong, what to do about it, and
//! whether the operator's input or a server, storage or plugin was at fault — which decides the
//! exit code.

/// Whose fault a failure was; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Bad input or usage (a file, flag, setting or secret the operator gave): exit code 2.
    BadInput,
    /// A server, storage, plugin or the machine failed: exit code 3.
    Service,
}

/// Why an operation failed, and what to do next.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
}

impl Failure {
    /// Bad input or usage: exit code 2.
    pub fn bad_input(e: impl std::fmt::Display) -> Failure {
        Failure {
            kind: FailureKind::BadInput,
            message: e.to_string(),
            hint: None,
        }
    }

    /// A failure of a server, storage, plugin or the machine: exit code 3.
    pub fn io(e: impl std::fmt::Display) -> Failure {
        Failure {
            kind: FailureKind::Service,
            message: e.to_string(),
            hint: None,
        }
    }

    /// A plugin's failure: bad input when the hook refused the operator's input or settings
    /// (invalid input, access denied: a missing variable, refused credentials), else a service's.
    pub fn plugin(e: crate::runtime::PluginError) -> Failure {
        use crate::capabilities::CapabilityError;
        use crate::runtime::PluginError;
        match &e {
            PluginError::Failed {
                error: CapabilityError::InvalidInput(_) | CapabilityError::AccessDenied(_),
                ..
            } => Failure::bad_input(e),
            _ => Failure::io(e),
        }
    }

    /// Adds what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code this failure maps to (docs: README's exit codes).
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            FailureKind::BadInput => 2,
            FailureKind::Service => 3,
        }
    }
}
