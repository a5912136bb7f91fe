//! Keys: a BIP-39 mnemonic (the backup the user writes down) → its seed → ed25519 keys by
//! SLIP-0010 hardened derivation along `m/44'/7777'/i'/0'/0'` for account `i`. (7777 is Joule's
//! coin type here; it is not a registered SLIP-44 number.)

use hmac::{Hmac, Mac};

use super::bip39;
use joule_light_client::{Address, SecretKey};
use sha2::Sha512;
use zeroize::Zeroizing;

/// Joule's coin type in the derivation path.
pub const COIN_TYPE: u32 = 7777;

const HARDENED: u32 = 0x8000_0000;

/// Why a mnemonic was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    /// Not a valid English BIP-39 phrase (unknown word, wrong length or checksum).
    #[error("not a valid recovery phrase: {0}")]
    Mnemonic(String),
    /// The browser gave no randomness.
    #[error("the browser could not provide randomness: {0}")]
    Randomness(String),
}

/// A new 24-word mnemonic from the browser's cryptographic randomness.
pub fn generate_mnemonic() -> Result<Zeroizing<String>, KeysError> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(entropy.as_mut()).map_err(|e| KeysError::Randomness(e.to_string()))?;
    bip39::phrase_of(entropy.as_ref()).map_err(|e| KeysError::Mnemonic(e.to_string()))
}

/// Checks a typed phrase (extra spaces and letter case forgiven) and returns it normalised.
///
/// English BIP-39 words are plain ASCII, which is already in the NFKD form BIP-39 hashes, so
/// no Unicode tables are needed: non-ASCII input is refused instead.
pub fn parse_mnemonic(phrase: &str) -> Result<Zeroizing<String>, KeysError> {
    if !phrase.is_ascii() {
        return Err(KeysError::Mnemonic(
            "the phrase must be English BIP-39 words (plain letters)".into(),
        ));
    }
    let normal = Zeroizing::new(
        phrase
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(" "),
    );
    bip39::check(&normal).map_err(|e| KeysError::Mnemonic(e.to_string()))?;
    Ok(normal)
}

/// The 64-byte BIP-39 seed of a (valid) mnemonic, without a passphrase.
pub fn seed(mnemonic: &str) -> Result<Zeroizing<[u8; 64]>, KeysError> {
    bip39::seed(&parse_mnemonic(mnemonic)?, "").map_err(|e| KeysError::Mnemonic(e.to_string()))
}

/// SLIP-0010 ed25519: the private key and chain code at a path of hardened indices.
pub fn slip10_derive(seed: &[u8], path: &[u32]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let split = |i: &[u8]| {
        let mut k = Zeroizing::new([0u8; 32]);
        let mut c = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&i[..32]);
        c.copy_from_slice(&i[32..]);
        (k, c)
    };
    let mut mac = Hmac::<Sha512>::new_from_slice(b"ed25519 seed").expect("HMAC takes any key");
    mac.update(seed);
    let (mut key, mut chain) = split(&mac.finalize().into_bytes());
    for index in path {
        let mut mac = Hmac::<Sha512>::new_from_slice(chain.as_ref()).expect("HMAC takes any key");
        mac.update(&[0]);
        mac.update(key.as_ref());
        mac.update(&(index | HARDENED).to_be_bytes());
        (key, chain) = split(&mac.finalize().into_bytes());
    }
    (key, chain)
}

/// Account `index`'s signing key.
pub fn account_key(seed: &[u8], index: u32) -> SecretKey {
    let (key, _) = slip10_derive(seed, &[44, COIN_TYPE, index, 0, 0]);
    SecretKey::from_seed(&key)
}

/// Account `index`'s address.
pub fn account_address(seed: &[u8], index: u32) -> Address {
    Address::from_public_key(&account_key(seed, index).public_key())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn slip10_ed25519_vector_1() {
        // SLIP-0010, test vector 1 for ed25519.
        let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let (k, c) = slip10_derive(&seed, &[]);
        assert_eq!(
            hex::encode(k.as_ref()),
            "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"
        );
        assert_eq!(
            hex::encode(c.as_ref()),
            "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb"
        );
        let (k, c) = slip10_derive(&seed, &[0]);
        assert_eq!(
            hex::encode(k.as_ref()),
            "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"
        );
        assert_eq!(
            hex::encode(c.as_ref()),
            "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69"
        );
        let (k, _) = slip10_derive(&seed, &[0, 1]);
        assert_eq!(
            hex::encode(k.as_ref()),
            "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2"
        );
    }

    #[test]
    fn bip39_vector_and_parsing() {
        // BIP-39 English vector: zero entropy, passphrase "TREZOR".
        let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        assert_eq!(
            hex::encode(bip39::seed(phrase, "TREZOR").unwrap().as_ref()),
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
        );
        let messy = "  Abandon abandon ABANDON abandon abandon abandon\nabandon abandon abandon abandon abandon about ";
        assert_eq!(parse_mnemonic(messy).unwrap().as_str(), phrase);
        assert!(parse_mnemonic("abandon abandon abandon").is_err());
        assert!(parse_mnemonic("abandón abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about").is_err());
        let wrong_checksum = phrase.replace("about", "abandon");
        assert!(parse_mnemonic(&wrong_checksum).is_err());
    }

    #[test]
    fn generated_mnemonics_are_fresh_valid_and_give_distinct_accounts() {
        let a = generate_mnemonic().unwrap();
        let b = generate_mnemonic().unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.split(' ').count(), 24);
        let s = seed(&a).unwrap();
        assert_eq!(parse_mnemonic(&a).unwrap().as_str(), a.as_str());
        assert_ne!(
            account_address(s.as_ref(), 0),
            account_address(s.as_ref(), 1)
        );
        assert_eq!(
            account_address(s.as_ref(), 0),
            account_address(seed(&a).unwrap().as_ref(), 0)
        );
    }
}
