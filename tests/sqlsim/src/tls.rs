//! TLS for TDS 8.0 "strict" encryption: the client starts TLS before PRELOGIN (ALPN `tds/8.0`),
//! as Azure SQL Managed Instance accepts it. sqlsim makes a self-signed certificate for
//! `localhost` and `127.0.0.1` when it starts; clients trust it explicitly.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The first byte of a TLS handshake record; a TDS PRELOGIN packet starts with 0x12.
pub const TLS_HANDSHAKE: u8 = 0x16;

/// An acceptor with a fresh self-signed certificate, and the certificate (PEM) for clients
/// that want to trust it rather than skip validation.
pub fn acceptor() -> Result<(TlsAcceptor, String), String> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(|e| format!("cannot make the test certificate: {e}"))?;
    let pem = cert.cert.pem();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"tds/8.0".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), pem))
}
