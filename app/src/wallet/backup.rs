//! Checking that the user wrote the recovery phrase down: a few of its words, at positions
//! chosen at random, typed back before the wallet can be used.

/// Words asked for.
pub const ASKED: usize = 3;

/// `ASKED` distinct positions (1-based, ascending) among `words` words, drawn from `random`.
pub fn positions(words: usize, random: [u8; 8]) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(ASKED);
    let mut bytes = random.iter().cycle();
    while picked.len() < ASKED.min(words) {
        let p = usize::from(*bytes.next().expect("cycled")) % words + 1;
        if picked.contains(&p) {
            // A repeat: step to the next free position, so the draw always ends.
            let free = (1..=words)
                .map(|d| (p + d - 1) % words + 1)
                .find(|q| !picked.contains(q))
                .expect("fewer picked than words");
            picked.push(free);
        } else {
            picked.push(p);
        }
    }
    picked.sort_unstable();
    picked
}

/// The first asked position whose answer is not the phrase's word there (answers are
/// compared trimmed and case-insensitively), or `None` when all match.
pub fn first_wrong(phrase: &str, asked: &[usize], answers: &[String]) -> Option<usize> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    asked.iter().zip(answers).find_map(|(&p, a)| {
        let expected = words.get(p - 1)?;
        (!a.trim().eq_ignore_ascii_case(expected)).then_some(p)
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn positions_are_distinct_in_range_and_sorted() {
        for seed in 0..=255u8 {
            let p = positions(24, [seed, seed.wrapping_mul(7), 3, 3, 3, 3, 3, 3]);
            assert_eq!(p.len(), ASKED);
            assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
            assert!(p.iter().all(|&x| (1..=24).contains(&x)));
        }
        // All-equal randomness still gives three positions.
        assert_eq!(positions(24, [0; 8]).len(), ASKED);
    }

    #[test]
    fn answers_are_checked_word_by_word() {
        let phrase = "alpha bravo charlie delta";
        let ok = ["bravo".to_owned(), " Delta ".to_owned()];
        assert_eq!(first_wrong(phrase, &[2, 4], &ok), None);
        let wrong = ["bravo".to_owned(), "echo".to_owned()];
        assert_eq!(first_wrong(phrase, &[2, 4], &wrong), Some(4));
    }
}
