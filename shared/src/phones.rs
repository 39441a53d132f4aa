//! Members' phones, kept so that no one reading the table, a log line or a response
//! learns one: stored sealed (AES-256-GCM under the stack's key, a fresh nonce each
//! time) for the CRM calls that need the number, and found by a keyed hash
//! (HMAC-SHA256 under a key derived from the same secret), so one phone binds one
//! member without the number ever being a key.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::domain::catalog::Phone;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The development key (the local server and tests); production's comes from the
/// stack's secret (`MEMBER_PHONE_KEY`).
pub const DEV_KEY: &str = "clearance-local-member-phones";

/// Seals and finds phones under one secret.
pub struct PhoneVault {
    seal_key: [u8; 32],
    lookup_key: [u8; 32],
}

impl std::fmt::Debug for PhoneVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneVault(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("a sealed phone could not be opened")]
    Unreadable,
}

/// The digits a phone is compared by: a mainland mobile with or without its +86
/// prefix is the same phone.
pub fn normalized(phone: &Phone) -> String {
    let raw: String = phone.clone().into();
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 11 && digits.starts_with('1') {
        format!("86{digits}")
    } else {
        digits
    }
}

impl PhoneVault {
    /// Two keys derived from one secret of any length: one seals, one hashes.
    pub fn new(secret: &[u8]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(secret);
            h.finalize().into()
        };
        PhoneVault {
            seal_key: derive(b"clearance/phone/seal/"),
            lookup_key: derive(b"clearance/phone/lookup/"),
        }
    }

    /// The phone's look-up hash (hex): equal for the same phone, useless without the
    /// key.
    pub fn lookup_hash(&self, phone: &Phone) -> String {
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup_key) else {
            return String::new();
        };
        mac.update(normalized(phone).as_bytes());
        crate::domain::signing::hex(&mac.finalize().into_bytes())
    }

    /// The phone sealed: base64url of nonce then ciphertext.
    pub fn seal(&self, phone: &Phone) -> String {
        let cipher = Aes256Gcm::new(&self.seal_key.into());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let raw: String = phone.clone().into();
        // Encryption into a Vec only fails on lengths far beyond a phone's.
        let sealed = cipher.encrypt(&nonce, raw.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        B64.encode(out)
    }

    /// A sealed phone opened (for the CRM call that needs the number).
    pub fn open(&self, sealed: &str) -> Result<Phone, VaultError> {
        let bytes = B64.decode(sealed).map_err(|_| VaultError::Unreadable)?;
        if bytes.len() < 12 {
            return Err(VaultError::Unreadable);
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| VaultError::Unreadable)?;
        let cipher = Aes256Gcm::new(&self.seal_key.into());
        let plain = cipher
            .decrypt(&Nonce::from(nonce), body)
            .map_err(|_| VaultError::Unreadable)?;
        let text = String::from_utf8(plain).map_err(|_| VaultError::Unreadable)?;
        Phone::try_from(text).map_err(|_| VaultError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> Phone {
        Phone::try_from(s.to_owned()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_sealed_phone_opens_only_under_its_key_and_never_shows_its_digits() {
        let vault = PhoneVault::new(b"k1");
        let p = phone("+86 138 1234 5678");
        let sealed = vault.seal(&p);
        assert!(!sealed.contains("5678") && !sealed.contains("13812345678"));
        assert_eq!(vault.open(&sealed), Ok(p.clone()));
        // a fresh nonce each time
        assert_ne!(vault.seal(&p), sealed);
        assert_eq!(
            PhoneVault::new(b"k2").open(&sealed),
            Err(VaultError::Unreadable)
        );
        assert_eq!(vault.open("garbage"), Err(VaultError::Unreadable));
    }

    #[test]
    fn the_same_phone_written_two_ways_has_one_lookup_hash_per_key() {
        let vault = PhoneVault::new(b"k1");
        let a = vault.lookup_hash(&phone("13812345678"));
        assert_eq!(a, vault.lookup_hash(&phone("+86 138-1234-5678")));
        assert_ne!(a, vault.lookup_hash(&phone("13812345679")));
        assert_ne!(a, PhoneVault::new(b"k2").lookup_hash(&phone("13812345678")));
        assert!(!a.contains("12345678"));
    }
}
