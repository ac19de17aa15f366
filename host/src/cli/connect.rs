//! The TLS flags the commands that reach a source and a target share.

use clap::Args;

use crate::sqlserver::Encrypt;
use crate::sqlserver::source_target::Tls;

/// How connections are encrypted.
#[derive(Clone, Debug, Args)]
pub struct TlsArgs {
    /// How connections are encrypted.
    #[arg(long, value_enum, default_value_t = Encrypt::Strict)]
    pub encrypt: Encrypt,
    /// Accept servers' self-signed certificates.
    #[arg(long)]
    pub trust_server_certificate: bool,
}

impl TlsArgs {
    /// The settings the flags give.
    pub fn settings(&self) -> Tls {
        Tls {
            encrypt: self.encrypt,
            trust_server_certificate: self.trust_server_certificate,
        }
    }
}
