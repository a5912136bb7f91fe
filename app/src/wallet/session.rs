//! The wallet in this browser session: the sealed vault in storage, and — only while unlocked —
//! the seed in memory. Locking (by the user, or after [`IDLE_LOCK_MS`] without wallet activity)
//! drops the seed.

use std::sync::Arc;

use joule_light_client::{Address, SecretKey};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keys;
use super::vault::{self, Vault, VaultError};

/// Where the sealed wallet lives.
const STORAGE_KEY: &str = "joule.wallet.v1";

/// Idle time after which an unlocked wallet locks itself.
pub const IDLE_LOCK_MS: u64 = 5 * 60 * 1000;

/// What storage holds: the sealed vault and how many accounts to show (not secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The sealed mnemonic.
    pub vault: Vault,
    /// Accounts derived (0..accounts).
    pub accounts: u32,
}

/// An unlocked wallet.
pub struct Unlocked {
    seed: Zeroizing<[u8; 64]>,
    /// Accounts derived.
    pub accounts: u32,
    /// The phrase, only until the user confirms they wrote it down.
    pub backup: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unlocked {{ accounts: {} }}", self.accounts)
    }
}

impl Unlocked {
    /// Account `i`'s signing key (derived on demand, never stored).
    pub fn key(&self, i: u32) -> SecretKey {
        keys::account_key(self.seed.as_ref(), i)
    }

    /// Account `i`'s address.
    pub fn address(&self, i: u32) -> Address {
        keys::account_address(self.seed.as_ref(), i)
    }
}

/// The stored wallet, if any.
pub fn load() -> Option<Stored> {
    serde_json::from_str(&crate::storage::get(STORAGE_KEY)?).ok()
}

fn save(s: &Stored) -> Result<(), String> {
    let text = serde_json::to_string(s).map_err(|e| e.to_string())?;
    if crate::storage::set(STORAGE_KEY, &text) {
        Ok(())
    } else {
        Err("this browser refused to store the wallet".to_owned())
    }
}

/// The session's wallet, shared by every page.
#[derive(Debug, Clone, Copy)]
pub struct WalletSession {
    /// The unlocked wallet, if unlocked.
    pub unlocked: RwSignal<Option<Arc<Unlocked>>>,
    /// Whether a sealed wallet exists in storage.
    pub exists: RwSignal<bool>,
    /// Last wallet activity (ms since the epoch).
    pub last_activity: RwSignal<u64>,
    /// What a task running for the wallet (finding an imported phrase's accounts) says.
    pub note: RwSignal<Option<String>>,
}

impl WalletSession {
    /// A locked session over what storage holds.
    pub fn new() -> Self {
        WalletSession {
            unlocked: RwSignal::new(None),
            exists: RwSignal::new(load().is_some()),
            last_activity: RwSignal::new(0),
            note: RwSignal::new(None),
        }
    }

    /// Notes activity (postpones the idle lock).
    pub fn touch(&self, now_ms: u64) {
        self.last_activity.set(now_ms);
    }

    /// Locks if idle too long.
    pub fn lock_if_idle(&self, now_ms: u64) {
        if self.unlocked.with_untracked(Option::is_some)
            && now_ms.saturating_sub(self.last_activity.get_untracked()) > IDLE_LOCK_MS
        {
            self.lock();
        }
    }

    /// Drops the seed.
    pub fn lock(&self) {
        self.unlocked.set(None);
        self.note.set(None);
    }

    /// Creates a wallet with a fresh phrase, sealed under `password`; shows the phrase once.
    pub fn create(&self, password: &str, now_ms: u64) -> Result<(), String> {
        let mnemonic = keys::generate_mnemonic().map_err(|e| e.to_string())?;
        self.store_new(mnemonic, password, true, now_ms)
    }

    /// Imports a wallet from its phrase, sealed under `password`.
    pub fn import(&self, phrase: &str, password: &str, now_ms: u64) -> Result<(), String> {
        let mnemonic = keys::parse_mnemonic(phrase).map_err(|e| e.to_string())?;
        self.store_new(mnemonic, password, false, now_ms)
    }

    fn store_new(
        &self,
        mnemonic: Zeroizing<String>,
        password: &str,
        show: bool,
        now_ms: u64,
    ) -> Result<(), String> {
        let secret = vault::Secret {
            mnemonic: mnemonic.to_string(),
            accounts: 1,
        };
        let sealed = vault::seal(&secret, password).map_err(|e| e.to_string())?;
        save(&Stored {
            vault: sealed,
            accounts: 1,
        })?;
        let seed = keys::seed(&mnemonic).map_err(|e| e.to_string())?;
        self.exists.set(true);
        self.unlocked.set(Some(Arc::new(Unlocked {
            seed,
            accounts: 1,
            backup: show.then_some(mnemonic),
        })));
        self.touch(now_ms);
        Ok(())
    }

    /// Unlocks with `password`.
    pub fn unlock(&self, password: &str, now_ms: u64) -> Result<(), String> {
        if password.is_empty() {
            return Err("Enter your password.".to_owned());
        }
        let stored = load().ok_or("no wallet in this browser")?;
        let secret = vault::open(&stored.vault, password).map_err(|e| match e {
            VaultError::WrongPassword => "Wrong password.".to_owned(),
            other => other.to_string(),
        })?;
        let seed = keys::seed(&secret.mnemonic).map_err(|e| e.to_string())?;
        self.unlocked.set(Some(Arc::new(Unlocked {
            seed,
            accounts: stored.accounts.max(1),
            backup: None,
        })));
        self.touch(now_ms);
        Ok(())
    }

    /// The user wrote the phrase down: stop showing it.
    pub fn confirm_backup(&self) {
        self.unlocked.update(|u| {
            if let Some(u) = u {
                *u = Arc::new(Unlocked {
                    seed: u.seed.clone(),
                    accounts: u.accounts,
                    backup: None,
                });
            }
        });
    }

    /// Derives one more account.
    pub fn add_account(&self, now_ms: u64) -> Result<(), String> {
        let count = self
            .unlocked
            .with_untracked(|u| u.as_ref().map_or(1, |u| u.accounts));
        self.set_accounts(count + 1)?;
        self.touch(now_ms);
        Ok(())
    }

    /// Shows accounts `0..count` (at least those shown already).
    pub fn set_accounts(&self, count: u32) -> Result<(), String> {
        let mut stored = load().ok_or("no wallet in this browser")?;
        stored.accounts = stored.accounts.max(count);
        save(&stored)?;
        self.unlocked.update(|u| {
            if let Some(u) = u {
                *u = Arc::new(Unlocked {
                    seed: u.seed.clone(),
                    accounts: stored.accounts,
                    backup: u.backup.clone(),
                });
            }
        });
        Ok(())
    }
}

impl Default for WalletSession {
    fn default() -> Self {
        Self::new()
    }
}
