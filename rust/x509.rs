//! X.509 certificate fields for mod_ssl's SSL_CLIENT_* / SSL_SERVER_* variables.
//!
//! Owns: decoding one DER certificate (x509-parser) into the raw fields mod_ssl prints:
//! subject and issuer attributes (OID, value), serial bytes, version, validity (Unix
//! seconds), signature and key algorithm OIDs, subjectAltName's e-mail and DNS names.
//! Must not: format them (httpd/sslcert.py writes mod_ssl's formats) or verify anything
//! (tls.rs does).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

/// One name's relative distinguished names in certificate order, each a list of
/// (dotted OID, value as text; `#hex` of the DER value when it is not a string type, as
/// OpenSSL's ASN1_STRFLGS_DUMP_UNKNOWN writes it).
fn name_parts(name: &X509Name<'_>) -> Vec<Vec<(String, String)>> {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let value = match atv.as_str() {
                        Ok(text) => text.to_string(),
                        Err(_) => format!("#{}", hex(atv.attr_value().data)),
                    };
                    (atv.attr_type().to_id_string(), value)
                })
                .collect()
        })
        .collect()
}

/// The subjectAltName entries mod_ssl names (SSL_*_SAN_Email_n, SSL_*_SAN_DNS_n), in order:
/// ("Email" | "DNS", value).
fn alt_names(cert: &X509Certificate<'_>) -> Vec<(&'static str, String)> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::RFC822Name(mail) => Some(("Email", mail.to_string())),
            GeneralName::DNSName(dns) => Some(("DNS", dns.to_string())),
            _ => None,
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// x509_fields(der) -> dict: subject, issuer, serial (upper-case hex of the magnitude, as
/// i2a_ASN1_INTEGER), version (1-3), not_before/not_after (Unix seconds), sig_alg and
/// key_alg (dotted OIDs), san (subjectAltName's ("Email" | "DNS", value)). ValueError if
/// `der` is not a certificate.
#[pyfunction]
pub fn x509_fields<'py>(py: Python<'py>, der: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| PyValueError::new_err(format!("not an X.509 certificate: {e}")))?;
    let fields = PyDict::new(py);
    fields.set_item("subject", name_parts(cert.subject()))?;
    fields.set_item("issuer", name_parts(cert.issuer()))?;
    let magnitude: Vec<u8> = cert.raw_serial().iter().copied().skip_while(|&b| b == 0).collect();
    fields.set_item("serial", if magnitude.is_empty() { "00".into() } else { hex(&magnitude) })?;
    fields.set_item("version", cert.version().0 + 1)?;
    fields.set_item("not_before", cert.validity().not_before.timestamp())?;
    fields.set_item("not_after", cert.validity().not_after.timestamp())?;
    fields.set_item("sig_alg", cert.signature_algorithm.algorithm.to_id_string())?;
    fields.set_item("key_alg", cert.public_key().algorithm.algorithm.to_id_string())?;
    fields.set_item("san", alt_names(&cert))?;
    Ok(fields)
}
