//! TLS for the users' own connections.
//!
//! One rustls configuration per run, built the first time a user opens an `https://`
//! connection and shared by every user after that: the system's root certificates are read
//! once (not once per user, as a client per user would), and the session-resumption cache is
//! shared, so 10,000 users reconnecting to one server resume instead of doing 10,000 full
//! handshakes, as a browser's or oha's single client would. Each user still has its own TLS
//! connection.
//!
//! Certificates are verified by default, against the platform's roots (on Linux the system
//! store, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`). `--insecure` accepts any
//! certificate and any name, but still checks the handshake's signatures, so a connection is
//! at least to whoever holds the certificate's key.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::metrics::sample::{Failure, FailureKind};

/// The run's TLS client configuration, made on first use.
#[derive(Debug, Default)]
pub struct Tls {
    insecure: bool,
    config: OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl Tls {
    pub fn new(insecure: bool) -> Tls {
        Tls {
            insecure,
            config: OnceLock::new(),
        }
    }

    /// The shared configuration (ALPN offers HTTP/2 and HTTP/1.1, as browsers do).
    pub fn config(&self) -> Result<Arc<ClientConfig>, Failure> {
        self.config
            .get_or_init(|| build(self.insecure).map(Arc::new))
            .clone()
            .map_err(|e| Failure::new(FailureKind::Tls, e))
    }
}

fn build(insecure: bool) -> Result<ClientConfig, String> {
    // Named explicitly: more than one provider may be compiled in, and then rustls has no
    // process default to pick.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if insecure {
        Arc::new(AnyCertificate {
            schemes: provider.signature_verification_algorithms,
        })
    } else {
        Arc::new(
            rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| format!("cannot load the system's root certificates: {e}"))?,
        )
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// `--insecure`: any certificate for any name, with the handshake's signatures checked.
#[derive(Debug)]
struct AnyCertificate {
    schemes: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.schemes)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.schemes)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.supported_schemes()
    }
}

/// The name to verify the certificate against: a DNS name, or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Failure> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|e| {
        Failure::new(
            FailureKind::Tls,
            format!("TLS error: `{host}` is not a valid server name: {e}"),
        )
    })
}
