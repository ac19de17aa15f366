//! A command's failure: its message, an optional hint, and the exit code it maps to.

use std::process::ExitCode;

/// Why a command failed, and with which exit code.
#[derive(Debug)]
pub struct Failure {
    /// 2 for bad input or usage, 3 for a failure of a server, storage or plugin.
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    /// Bad input or usage: exit code 2.
    pub fn bad_input(e: impl std::fmt::Display) -> Failure {
        Failure {
            code: 2,
            message: e.to_string(),
            hint: None,
        }
    }

    /// A failure of a server, storage, plugin or the machine: exit code 3.
    pub fn io(e: impl std::fmt::Display) -> Failure {
        Failure {
            code: 3,
            message: e.to_string(),
            hint: None,
        }
    }

    /// A plugin's failure: exit code 2 when the hook refused the operator's input or settings
    /// (invalid input, access denied: a missing variable, refused credentials), else 3.
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

    /// Prints `error: …` (and `hint: …`) to stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("error: {}", self.message);
        if let Some(h) = self.hint {
            eprintln!("hint: {h}");
        }
        ExitCode::from(self.code)
    }
}
