//! The vault: what the wallet keeps in browser storage. The mnemonic and the number of accounts
//! are sealed with XChaCha20-Poly1305 under a key stretched from the password by Argon2id (fresh
//! random salt and nonce at every seal); only the sealed form, the KDF parameters and the public
//! addresses are ever stored. A wrong password fails authentication and says so.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Argon2id memory in KiB (OWASP's 19 MiB minimum, with two passes).
pub const KDF_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const KDF_PASSES: u32 = 2;
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Associated data binding the ciphertext to this format.
const AD: &[u8] = b"joule wallet vault v1";

/// What the vault protects.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[zeroize(drop)]
pub struct Secret {
    /// The BIP-39 recovery phrase.
    pub mnemonic: String,
    /// Accounts derived so far (0..accounts).
    pub accounts: u32,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the phrase, even in a debug log.
        write!(
            f,
            "Secret {{ mnemonic: <hidden>, accounts: {} }}",
            self.accounts
        )
    }
}

/// The sealed vault, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault {
    /// Format version.
    pub version: u32,
    /// Argon2id memory (KiB).
    pub kdf_memory_kib: u32,
    /// Argon2id passes.
    pub kdf_passes: u32,
    /// Salt, hex.
    pub salt: String,
    /// Nonce, hex.
    pub nonce: String,
    /// Ciphertext with its tag, hex.
    pub ciphertext: String,
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The password does not open this vault.
    #[error("wrong password")]
    WrongPassword,
    /// The password is too short to seal with.
    #[error("the password needs at least {MIN_PASSWORD_LEN} characters")]
    WeakPassword,
    /// The stored vault is malformed or of an unknown version.
    #[error("the stored wallet is damaged or from another version: {0}")]
    Corrupt(String),
    /// The browser gave no randomness.
    #[error("the browser could not provide randomness: {0}")]
    Randomness(String),
}

fn stretch(
    password: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let params = Params::new(memory_kib, passes, 1, Some(32))
        .map_err(|e| VaultError::Corrupt(format!("KDF parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, key.as_mut())
        .map_err(|e| VaultError::Corrupt(format!("KDF: {e}")))?;
    Ok(key)
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| VaultError::Randomness(e.to_string()))?;
    Ok(b)
}

/// Seals `secret` under `password`.
pub fn seal(secret: &Secret, password: &str) -> Result<Vault, VaultError> {
    seal_with(secret, password, KDF_MEMORY_KIB, KDF_PASSES)
}

/// Seals with explicit KDF costs (tests use cheap ones).
pub fn seal_with(
    secret: &Secret,
    password: &str,
    memory_kib: u32,
    passes: u32,
) -> Result<Vault, VaultError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(VaultError::WeakPassword);
    }
    let salt: [u8; 16] = random()?;
    let nonce: [u8; 24] = random()?;
    let key = stretch(password, &salt, memory_kib, passes)?;
    let plain =
        Zeroizing::new(serde_json::to_vec(secret).map_err(|e| VaultError::Corrupt(e.to_string()))?);
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: AD,
            },
        )
        .map_err(|_| VaultError::Corrupt("encryption failed".into()))?;
    Ok(Vault {
        version: 1,
        kdf_memory_kib: memory_kib,
        kdf_passes: passes,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Opens `vault` with `password`.
pub fn open(vault: &Vault, password: &str) -> Result<Secret, VaultError> {
    if vault.version != 1 {
        return Err(VaultError::Corrupt(format!("version {}", vault.version)));
    }
    // Bounded, so a tampered vault cannot make the browser allocate gigabytes.
    if !(8..=256 * 1024).contains(&vault.kdf_memory_kib) || !(1..=10).contains(&vault.kdf_passes) {
        return Err(VaultError::Corrupt("KDF parameters out of range".into()));
    }
    let bad = |what: &str| VaultError::Corrupt(format!("bad {what}"));
    let salt = hex::decode(&vault.salt).map_err(|_| bad("salt"))?;
    let nonce = hex::decode(&vault.nonce).map_err(|_| bad("nonce"))?;
    let ciphertext = hex::decode(&vault.ciphertext).map_err(|_| bad("ciphertext"))?;
    if nonce.len() != 24 || salt.len() < 8 {
        return Err(bad("salt or nonce length"));
    }
    let key = stretch(password, &salt, vault.kdf_memory_kib, vault.kdf_passes)?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: AD,
                },
            )
            .map_err(|_| VaultError::WrongPassword)?,
    );
    serde_json::from_slice(&plain).map_err(|e| VaultError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn secret() -> Secret {
        Secret {
            mnemonic: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about".into(),
            accounts: 2,
        }
    }

    #[test]
    fn seal_and_open_round_trip_with_fresh_salt_and_nonce() {
        let a = seal_with(&secret(), "correct horse", 64, 1).unwrap();
        let b = seal_with(&secret(), "correct horse", 64, 1).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(open(&a, "correct horse").unwrap(), secret());
        // Nothing secret in the stored form, nor in a debug print of the secret.
        let stored = serde_json::to_string(&a).unwrap();
        assert!(!stored.contains("abandon") && !stored.contains("correct"));
        assert!(!format!("{:?}", secret()).contains("abandon"));
    }

    #[test]
    fn wrong_password_and_tampering_are_refused() {
        let v = seal_with(&secret(), "correct horse", 64, 1).unwrap();
        assert_eq!(open(&v, "wrong horse!"), Err(VaultError::WrongPassword));
        let mut flipped = v.clone();
        let mut ct = hex::decode(&flipped.ciphertext).unwrap();
        ct[0] ^= 1;
        flipped.ciphertext = hex::encode(ct);
        assert_eq!(
            open(&flipped, "correct horse"),
            Err(VaultError::WrongPassword)
        );
        let mut greedy = v;
        greedy.kdf_memory_kib = u32::MAX;
        assert!(matches!(
            open(&greedy, "correct horse"),
            Err(VaultError::Corrupt(_))
        ));
        assert_eq!(
            seal_with(&secret(), "short", 64, 1),
            Err(VaultError::WeakPassword)
        );
    }

    #[test]
    fn default_costs_open() {
        // The real parameters (Argon2id, 19 MiB, 2 passes) work in this browser.
        let v = seal(&secret(), "correct horse").unwrap();
        assert_eq!(
            (v.kdf_memory_kib, v.kdf_passes),
            (KDF_MEMORY_KIB, KDF_PASSES)
        );
        assert_eq!(open(&v, "correct horse").unwrap().accounts, 2);
    }
}
