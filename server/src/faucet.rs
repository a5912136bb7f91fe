//! The devnet faucet's rate limiter: one grant per address per cooldown, and a global token
//! bucket so a script cannot drain it or flood the mempool.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use joule_light_client::{Address, SecretKey};
use thiserror::Error;

use crate::mempool::RejectReason;

/// Time an address waits between grants.
pub const ADDRESS_COOLDOWN: Duration = Duration::from_secs(30);
/// Grants the bucket holds.
pub const BUCKET_CAPACITY: f64 = 20.0;
/// Grants added per second.
pub const BUCKET_REFILL_PER_S: f64 = 2.0;

/// Why the faucet refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FaucetError {
    /// This chain has no faucet.
    #[error("this chain has no faucet")]
    Disabled,
    /// Asked too often.
    #[error("faucet rate limit reached; retry in {retry_after_s} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// The mempool refused the grant.
    #[error("faucet transaction refused: {0}")]
    Rejected(RejectReason),
}

/// The faucet's key and limits.
pub struct Faucet {
    key: SecretKey,
    amount: u64,
    last_grant: HashMap<Address, Instant>,
    tokens: f64,
    refilled_at: Option<Instant>,
}

impl Faucet {
    /// A faucet signing with `key`, granting `amount` per request.
    pub fn new(key: SecretKey, amount: u64) -> Self {
        Self {
            key,
            amount,
            last_grant: HashMap::new(),
            tokens: BUCKET_CAPACITY,
            refilled_at: None,
        }
    }

    /// The faucet's key.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// Tokens per grant.
    pub fn amount(&self) -> u64 {
        self.amount
    }

    /// Takes one grant for `to` at `now`, or says how long to wait.
    pub fn admit(&mut self, to: Address, now: Instant) -> Result<(), FaucetError> {
        self.check(to, now)?;
        self.record(to, now);
        Ok(())
    }

    /// Whether `to` may have a grant at `now` (nothing is taken: a grant that then fails,
    /// say for a full mempool, must not start the address's cooldown).
    pub fn check(&mut self, to: Address, now: Instant) -> Result<(), FaucetError> {
        if let Some(prev) = self.last_grant.get(&to) {
            let since = now.saturating_duration_since(*prev);
            if since < ADDRESS_COOLDOWN {
                return Err(FaucetError::RateLimited {
                    retry_after_s: (ADDRESS_COOLDOWN - since).as_secs().max(1),
                });
            }
        }
        self.refill(now);
        if self.tokens < 1.0 {
            return Err(FaucetError::RateLimited { retry_after_s: 1 });
        }
        Ok(())
    }

    /// Takes the grant [`Self::check`] allowed.
    pub fn record(&mut self, to: Address, now: Instant) {
        self.refill(now);
        self.tokens = (self.tokens - 1.0).max(0.0);
        self.last_grant
            .retain(|_, t| now.saturating_duration_since(*t) < ADDRESS_COOLDOWN);
        self.last_grant.insert(to, now);
    }

    fn refill(&mut self, now: Instant) {
        if let Some(at) = self.refilled_at {
            let dt = now.saturating_duration_since(at).as_secs_f64();
            self.tokens = (self.tokens + dt * BUCKET_REFILL_PER_S).min(BUCKET_CAPACITY);
        }
        self.refilled_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_takes_nothing_only_a_recorded_grant_starts_the_cooldown() {
        let mut f = Faucet::new(SecretKey::from_seed(&[1; 32]), 5);
        let (a, t0) = (Address([1; 20]), Instant::now());
        // Checked, then the grant failed (say the mempool was full): asking again works.
        f.check(a, t0).unwrap();
        f.check(a, t0).unwrap();
        f.record(a, t0);
        assert!(matches!(
            f.check(a, t0),
            Err(FaucetError::RateLimited { .. })
        ));
    }

    #[test]
    fn per_address_cooldown_and_bucket() {
        let mut f = Faucet::new(SecretKey::from_seed(&[1; 32]), 5);
        let t0 = Instant::now();
        f.admit(Address([1; 20]), t0).unwrap();
        assert!(matches!(
            f.admit(Address([1; 20]), t0),
            Err(FaucetError::RateLimited { .. })
        ));
        f.admit(Address([1; 20]), t0 + ADDRESS_COOLDOWN).unwrap();
        let mut granted = 0;
        for i in 0..100u8 {
            if f.admit(Address([i.wrapping_add(2); 20]), t0 + ADDRESS_COOLDOWN)
                .is_ok()
            {
                granted += 1;
            }
        }
        // The bucket refilled to capacity during the cooldown; the repeat grant took one.
        assert_eq!(granted, BUCKET_CAPACITY as usize - 1);
    }
}
