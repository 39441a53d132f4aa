//! HMAC-SHA256 signatures: payment provider webhooks here, guides' share links in
//! `attribution`. Keys come from configuration; signatures are compared in constant time
//! by the `hmac` crate, always over the whole tag.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::DomainError;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying `sha256=<hex>` of the raw body (our webhooks, and our signed
/// calls to partners).
pub const SIGNATURE_HEADER: &str = "x-clearance-signature";

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn mac(secret: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(message);
    m
}

/// `sha256=<hex>` over `body`, as payment webhooks carry it.
pub fn sign_body(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex(&mac(secret, body).finalize().into_bytes()))
}

/// Checks a webhook signature header against the body.
pub fn verify_body(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), DomainError> {
    let bad = || DomainError::Unauthenticated;
    // An unset secret must never make every signature "valid".
    if secret.is_empty() {
        return Err(bad());
    }
    let given = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(unhex)
        .ok_or_else(bad)?;
    mac(secret, body).verify_slice(&given).map_err(|_| bad())
}

/// A digest of a request body, to tell a replay from a different request under the
/// same idempotency key.
pub fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_signature_covers_every_byte_of_the_body() {
        let sig = sign_body(b"k", b"{\"a\":1}");
        assert!(verify_body(b"k", b"{\"a\":1}", Some(&sig)).is_ok());
        assert!(verify_body(b"k", b"{\"a\":2}", Some(&sig)).is_err());
        assert!(verify_body(b"other", b"{\"a\":1}", Some(&sig)).is_err());
        assert!(verify_body(b"k", b"{\"a\":1}", None).is_err());
        assert!(verify_body(b"k", b"{\"a\":1}", Some("sha256=zz")).is_err());
        let unkeyed = sign_body(b"", b"{}");
        assert!(
            verify_body(b"", b"{}", Some(&unkeyed)).is_err(),
            "no secret, no trust"
        );
    }
}
