//! BIP-39 mnemonics in English: entropy ↔ words (11 bits a word, the checksum the first bits
//! of the entropy's SHA-256) and the seed (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic").
//! Written here on the SHA-2 and HMAC the wallet already uses for SLIP-0010: the `bip39`
//! crate brought a second SHA-2 implementation of its own (about 19 KB of the app's wasm).
//! English words are plain ASCII, which is already the NFKD form the seed hashes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

/// The standard English word list (`bip-0039/english.txt`), one word a line, sorted.
const ENGLISH: &str = include_str!("english.txt");

/// Word counts BIP-39 defines (128 to 256 bits of entropy).
const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// Why a phrase was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Bip39Error {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("a recovery phrase has 12, 15, 18, 21 or 24 words, not {0}")]
    WordCount(usize),
    /// A word not in the English list.
    #[error("word {0} is not a BIP-39 English word")]
    UnknownWord(usize),
    /// The words do not end in their checksum: one is mistyped or out of order.
    #[error("the checksum does not match: a word is mistyped or out of order")]
    Checksum,
    /// Entropy of a length BIP-39 does not define.
    #[error("entropy must be 16 to 32 bytes, a multiple of 4")]
    EntropyLength,
}

fn words() -> impl Iterator<Item = &'static str> {
    ENGLISH.lines()
}

fn word(index: usize) -> &'static str {
    words().nth(index).expect("an 11-bit index is below 2048")
}

/// The phrase for `entropy` (16 to 32 bytes, a multiple of 4), words separated by one space.
pub fn phrase_of(entropy: &[u8]) -> Result<Zeroizing<String>, Bip39Error> {
    if !(16..=32).contains(&entropy.len()) || !entropy.len().is_multiple_of(4) {
        return Err(Bip39Error::EntropyLength);
    }
    let checksum = Sha256::digest(entropy);
    let bits = entropy.len() * 8 + entropy.len() / 4;
    let bit = |i: usize| {
        let byte = if i < entropy.len() * 8 {
            entropy[i / 8]
        } else {
            checksum[(i - entropy.len() * 8) / 8]
        };
        usize::from(byte >> (7 - i % 8) & 1)
    };
    let mut out = Zeroizing::new(String::new());
    for w in 0..bits / 11 {
        let index = (0..11).fold(0, |acc, b| acc << 1 | bit(w * 11 + b));
        if w > 0 {
            out.push(' ');
        }
        out.push_str(word(index));
    }
    Ok(out)
}

/// Checks a phrase of lower-case English words separated by single spaces: its length, its
/// words and its checksum.
pub fn check(phrase: &str) -> Result<(), Bip39Error> {
    let list: Vec<&str> = words().collect();
    let given: Vec<&str> = phrase.split(' ').collect();
    if !WORD_COUNTS.contains(&given.len()) {
        return Err(Bip39Error::WordCount(given.len()));
    }
    let mut bits = Zeroizing::new(Vec::with_capacity(given.len() * 11));
    for (n, w) in given.iter().enumerate() {
        let index = list
            .binary_search(w)
            .map_err(|_| Bip39Error::UnknownWord(n + 1))?;
        bits.extend((0..11).rev().map(|b| (index >> b) & 1 == 1));
    }
    let entropy_bits = given.len() * 11 * 32 / 33;
    let entropy = Zeroizing::new(
        bits[..entropy_bits]
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |acc, &b| acc << 1 | u8::from(b)))
            .collect::<Vec<u8>>(),
    );
    let checksum = Sha256::digest(entropy.as_slice());
    let expected =
        (0..given.len() * 11 - entropy_bits).map(|i| checksum[i / 8] >> (7 - i % 8) & 1 == 1);
    if bits[entropy_bits..].iter().copied().eq(expected) {
        Ok(())
    } else {
        Err(Bip39Error::Checksum)
    }
}

/// The 64-byte seed of `phrase` (checked first) with `passphrase`: PBKDF2-HMAC-SHA512 with
/// 2048 rounds and the salt "mnemonic" + passphrase. One 64-byte block is the whole output.
pub fn seed(phrase: &str, passphrase: &str) -> Result<Zeroizing<[u8; 64]>, Bip39Error> {
    check(phrase)?;
    let prf = Hmac::<Sha512>::new_from_slice(phrase.as_bytes()).expect("HMAC takes any key");
    let mut mac = prf.clone();
    mac.update(b"mnemonic");
    mac.update(passphrase.as_bytes());
    mac.update(&1u32.to_be_bytes());
    let mut u = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
    let mut out = Zeroizing::new(*u);
    for _ in 1..2048 {
        let mut mac = prf.clone();
        mac.update(u.as_ref());
        *u = mac.finalize().into_bytes().into();
        out.iter_mut().zip(u.iter()).for_each(|(o, x)| *o ^= x);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_word_list_is_the_standard_one() {
        // SHA-256 of bip-0039/english.txt as published with BIP-39.
        assert_eq!(
            hex::encode(Sha256::digest(ENGLISH.as_bytes())),
            "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
        );
        let list: Vec<&str> = words().collect();
        assert_eq!(list.len(), 2048);
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "sorted, for the binary search"
        );
    }

    #[test]
    fn bip39_vectors() {
        // From the BIP-39 test vectors (passphrase "TREZOR").
        let cases = [
            (
                "00000000000000000000000000000000",
                "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
                "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
            ),
            (
                "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
                "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title",
                "bc09fca1804f7e69da93c2f2028eb238c227f2e9dda30cd63699232578480a4021b146ad717fbb7e451ce9eb835f43620bf5c514db0f8add49f5d121449d3e87",
            ),
            (
                "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
                "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad",
            ),
        ];
        for (entropy, phrase, seed_hex) in cases {
            let entropy = hex::decode(entropy).unwrap();
            assert_eq!(phrase_of(&entropy).unwrap().as_str(), phrase);
            assert_eq!(check(phrase), Ok(()));
            assert_eq!(
                hex::encode(seed(phrase, "TREZOR").unwrap().as_ref()),
                seed_hex
            );
        }
    }

    #[test]
    fn mistyped_or_reordered_phrases_are_refused() {
        let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        assert_eq!(
            check(&phrase.replace("about", "abandon")),
            Err(Bip39Error::Checksum)
        );
        assert_eq!(
            check(&phrase.replace("about", "aboot")),
            Err(Bip39Error::UnknownWord(12))
        );
        assert_eq!(check("abandon about"), Err(Bip39Error::WordCount(2)));
        assert_eq!(phrase_of(&[0; 15]), Err(Bip39Error::EntropyLength));
    }
}
