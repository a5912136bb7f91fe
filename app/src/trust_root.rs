//! The user's trust root: which chain this browser trusts, and where that choice came from.
//!
//! A checkpoint (chain id, genesis hash, genesis validator set hash; see
//! [`joule_light_client::checkpoint`]) is the one thing the light client takes on faith, so it
//! never comes silently from the node being checked. In order of precedence:
//! - one the user **pinned** in this browser (stored in `localStorage`);
//! - one **built into** this build of the app for a known network (`JOULE_CHECKPOINT` at
//!   build time);
//! - one carried by the **link** the user opened (`?checkpoint=…`, as the node prints it):
//!   pinned when nothing else is, and otherwise only after the user chooses it;
//! - otherwise the node's own checkpoint is shown as a fingerprint the user **accepts** once.
//!
//! A node that presents another chain than the trusted one gets a full-page warning and no
//! verified marks until the user deliberately switches.

use joule_light_client::api::ChainInfo;
use joule_light_client::Checkpoint;

/// Where the pinned checkpoint lives.
const STORAGE_KEY: &str = "joule.checkpoint.v1";

/// How this browser came to trust a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// Pinned by the user in this browser (accepted, switched to, or from a link).
    Pinned,
    /// Built into this app for a known network.
    BuiltIn,
}

/// What the app may verify against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// Verify against `checkpoint`.
    Trusted {
        /// The trusted checkpoint.
        checkpoint: Checkpoint,
        /// Where it came from.
        source: RootSource,
    },
    /// Nothing is trusted yet: the user must compare and accept the node's checkpoint.
    Ask {
        /// What the node presents.
        presented: Checkpoint,
    },
    /// The node, or a link, presents another chain than the trusted one.
    Mismatch {
        /// What this browser trusts.
        trusted: Checkpoint,
        /// The other chain.
        presented: Checkpoint,
        /// Whether a link proposed it (the node may still be the trusted chain's).
        via_link: bool,
    },
}

impl Root {
    /// The checkpoint to verify against, when there is one.
    pub fn trusted(&self) -> Option<&Checkpoint> {
        match self {
            Root::Trusted { checkpoint, .. } => Some(checkpoint),
            _ => None,
        }
    }

    /// Why nothing is verified, when the root is not settled.
    pub fn blocked_reason(&self) -> Option<&'static str> {
        match self {
            Root::Trusted { .. } => None,
            Root::Ask { .. } => Some("you have not chosen to trust this chain's checkpoint yet"),
            Root::Mismatch { .. } => {
                Some("this node presents another chain than the checkpoint you trust")
            }
        }
    }
}

/// The checkpoint the node presents (from its unverified `/chain`): the hash is recomputed
/// from the genesis header, so it is what the light client would check.
pub fn presented(chain: &ChainInfo) -> Checkpoint {
    Checkpoint::of_genesis(&chain.genesis)
}

/// Decides what to trust (see the module doc). `link` is a checkpoint from the URL the user
/// has not dismissed. Returns the root and, when the link's checkpoint should now be
/// pinned (nothing else was trusted), that checkpoint.
pub fn decide(
    pinned: Option<Checkpoint>,
    built_in: Option<Checkpoint>,
    link: Option<Checkpoint>,
    presented: Checkpoint,
) -> (Root, Option<Checkpoint>) {
    let root = pinned
        .map(|c| (c, RootSource::Pinned))
        .or(built_in.map(|c| (c, RootSource::BuiltIn)));
    let (checkpoint, source, to_pin) = match (root, link) {
        (None, None) => return (Root::Ask { presented }, None),
        (None, Some(l)) => (l.clone(), RootSource::Pinned, Some(l)),
        (Some((c, _)), Some(l)) if l != c => {
            let root = Root::Mismatch {
                trusted: c,
                presented: l,
                via_link: true,
            };
            return (root, None);
        }
        (Some((c, source)), _) => (c, source, None),
    };
    if checkpoint == presented {
        (Root::Trusted { checkpoint, source }, to_pin)
    } else {
        let root = Root::Mismatch {
            trusted: checkpoint,
            presented,
            via_link: false,
        };
        (root, to_pin)
    }
}

/// A checkpoint built into this build (`JOULE_CHECKPOINT=chain:genesis:set trunk build`).
pub fn built_in() -> Option<Checkpoint> {
    option_env!("JOULE_CHECKPOINT").and_then(|s| s.parse().ok())
}

/// The checkpoint pinned in this browser.
pub fn pinned() -> Option<Checkpoint> {
    crate::storage::get(STORAGE_KEY)?.parse().ok()
}

/// Pins `checkpoint` in this browser; false if storage refused (it is then trusted for this
/// page load only).
pub fn pin(checkpoint: &Checkpoint) -> bool {
    crate::storage::set(STORAGE_KEY, &checkpoint.to_string())
}

/// The `?checkpoint=` of the page's URL: `None` without one, `Err` for one that does not parse.
pub fn from_url() -> Option<Result<Checkpoint, String>> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let text = params.get("checkpoint")?;
    Some(
        text.parse()
            .map_err(|e| format!("the link's checkpoint is not valid: {e}")),
    )
}

#[cfg(test)]
mod tests {
    use joule_light_client::Hash;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn cp(n: u8) -> Checkpoint {
        Checkpoint {
            chain_id: "joule-devnet".into(),
            genesis_hash: Hash([n; 32]),
            validator_set_hash: Hash([n; 32]),
        }
    }

    #[test]
    fn first_use_asks_and_never_trusts_the_node_silently() {
        assert_eq!(
            decide(None, None, None, cp(1)),
            (Root::Ask { presented: cp(1) }, None)
        );
    }

    #[test]
    fn a_pinned_checkpoint_is_trusted_while_the_node_presents_it() {
        let trusted = Root::Trusted {
            checkpoint: cp(1),
            source: RootSource::Pinned,
        };
        assert_eq!(decide(Some(cp(1)), None, None, cp(1)), (trusted, None));
    }

    #[test]
    fn changed_checkpoint_gets_the_warning() {
        let (root, pin) = decide(Some(cp(1)), None, None, cp(2));
        assert_eq!(
            root,
            Root::Mismatch {
                trusted: cp(1),
                presented: cp(2),
                via_link: false
            }
        );
        assert_eq!(pin, None);
        assert!(root.trusted().is_none() && root.blocked_reason().is_some());
    }

    #[test]
    fn a_link_pins_only_when_nothing_is_trusted() {
        let (root, pin) = decide(None, None, Some(cp(3)), cp(3));
        assert_eq!(root.trusted(), Some(&cp(3)));
        assert_eq!(pin, Some(cp(3)));
        // A link to another chain than the pinned one asks first.
        let (root, pin) = decide(Some(cp(1)), None, Some(cp(3)), cp(3));
        assert!(matches!(root, Root::Mismatch { via_link: true, .. }));
        assert_eq!(pin, None);
        // A link to a chain the node does not serve is pinned, but nothing verifies.
        let (root, pin) = decide(None, None, Some(cp(3)), cp(4));
        assert!(matches!(
            root,
            Root::Mismatch {
                via_link: false,
                ..
            }
        ));
        assert_eq!(pin, Some(cp(3)));
    }

    #[test]
    fn a_built_in_checkpoint_yields_to_the_users_pin() {
        let (root, _) = decide(None, Some(cp(5)), None, cp(5));
        assert_eq!(
            root,
            Root::Trusted {
                checkpoint: cp(5),
                source: RootSource::BuiltIn
            }
        );
        let (root, _) = decide(Some(cp(6)), Some(cp(5)), None, cp(5));
        assert!(matches!(root, Root::Mismatch { .. }));
    }
}
