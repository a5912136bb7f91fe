//! Coverage-guided fuzzing of Joule's decoders with afl.rs: one binary per target in
//! `src/bin/`, each running the matching check of [`checks`] on afl's inputs.

pub mod checks;
