//! HMAC-SHA256 signatures: guides' share links and payment provider webhooks. Keys come
//! from configuration; signatures are compared in constant time by the `hmac` crate.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::ids::{CampaignId, GuideId};
use super::tenancy::Tenant;
use super::DomainError;

type HmacSha256 = Hmac<Sha256>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(secret: &[u8], message: &[u8]) -> HmacSha256 {
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

fn share_message(t: &Tenant, c: &CampaignId, g: &GuideId) -> Vec<u8> {
    format!("share|{t}|{c}|{g}").into_bytes()
}

/// A guide's share token for one campaign: `{guide}.{signature}`, the signature the
/// full 32-byte HMAC-SHA256 tag in hex.
pub fn share_token(secret: &[u8], t: &Tenant, c: &CampaignId, g: &GuideId) -> String {
    let sig = mac(secret, &share_message(t, c, g)).finalize().into_bytes();
    format!("{g}.{}", hex(&sig))
}

/// The guide a share token credits, if it was signed by us for this campaign.
pub fn verify_share_token(
    secret: &[u8],
    t: &Tenant,
    c: &CampaignId,
    token: &str,
) -> Result<GuideId, DomainError> {
    let bad = || DomainError::invalid("share_token", "not a share link of this campaign");
    if secret.is_empty() {
        return Err(bad());
    }
    let (guide, sig) = token.rsplit_once('.').ok_or_else(bad)?;
    let guide = GuideId::parse(guide).map_err(|_| bad())?;
    let sig = unhex(sig).ok_or_else(bad)?;
    // The whole tag, never a prefix: a one-byte tag would fall to 256 guesses.
    mac(secret, &share_message(t, c, &guide))
        .verify_slice(&sig)
        .map_err(|_| bad())?;
    Ok(guide)
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

    #[test]
    fn a_share_token_is_bound_to_its_tenant_campaign_and_guide() {
        let t = Tenant::parse("demo", "south-china").unwrap();
        let c = CampaignId::parse("summer").unwrap();
        let g = GuideId::parse("gz-1").unwrap();
        let token = share_token(b"s", &t, &c, &g);
        assert_eq!(verify_share_token(b"s", &t, &c, &token).unwrap(), g);
        let other = CampaignId::parse("winter").unwrap();
        assert!(verify_share_token(b"s", &t, &other, &token).is_err());
        let forged = token.replacen("gz-1", "gz-2", 1);
        assert!(verify_share_token(b"s", &t, &c, &forged).is_err());
    }

    #[test]
    fn a_share_token_needs_its_whole_tag() {
        let t = Tenant::parse("demo", "south-china").unwrap();
        let c = CampaignId::parse("summer").unwrap();
        let g = GuideId::parse("gz-1").unwrap();
        let token = share_token(b"s", &t, &c, &g);
        let (_, sig) = token.rsplit_once('.').unwrap();
        assert_eq!(sig.len(), 64, "the full HMAC-SHA256 tag");
        for bytes in 1..32 {
            let truncated = format!("gz-1.{}", &sig[..bytes * 2]);
            assert!(
                verify_share_token(b"s", &t, &c, &truncated).is_err(),
                "a {bytes}-byte prefix of the right tag must not verify"
            );
        }
    }
}
