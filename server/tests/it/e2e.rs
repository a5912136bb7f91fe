//! End-to-end in a real browser: a node serving the built app (`dist/`), driven through
//! chromedriver with Debian's headless Chromium over the W3C WebDriver protocol.
//!
//! Ignored by plain `cargo test` because it needs `trunk build` output and Chromium; `make test`
//! builds the app and runs it with `--ignored`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::support::TestNode;

/// The W3C WebDriver key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub(super) struct Driver {
    process: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    pub(super) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let process = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (run scripts/setup.sh)"));
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let resp: Value = ureq::post(&format!("{base}/session"))
            .send_json(caps)
            .unwrap()
            .into_json()
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        Self {
            process,
            base,
            session,
            _profile: profile,
        }
    }

    pub(super) fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = ureq::request(method, &url);
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match resp {
            Ok(r) => r.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(_, r)) => {
                json!({ "error": r.into_json::<Value>().unwrap()["value"].take() })
            }
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    /// Runs `js` in the page and returns what it returns.
    pub(super) fn script(&self, js: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": js, "args": [] })),
        )
    }

    /// Runs `js`, which calls `done(value)` when it has finished, and returns that value.
    fn script_async(&self, js: &str) -> Value {
        let js = format!("const done = arguments[arguments.length - 1];\n{js}");
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": js, "args": [] })),
        )
    }

    pub(super) fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// Text of the first element matching `css`, once it exists and `ok` accepts it.
    pub(super) fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_text_within(css, ok, Duration::from_secs(20))
    }

    /// Like [`Driver::wait_text`], failing after `bound`.
    pub(super) fn wait_text_within(
        &self,
        css: &str,
        ok: impl Fn(&str) -> bool,
        bound: Duration,
    ) -> String {
        let deadline = Instant::now() + bound;
        let mut last = String::new();
        loop {
            if let Some(id) = self.find(css) {
                let text = self.cmd("GET", &format!("/element/{id}/text"), None);
                // A re-render may replace the element between the two calls; then try again.
                last = text.as_str().unwrap_or_default().to_owned();
                if ok(&last) {
                    return last;
                }
            }
            if Instant::now() > deadline {
                let source = self.cmd("GET", "/source", None);
                let source = source.as_str().unwrap_or_default();
                panic!("no element {css} with the expected text (last: {last:?}); page:\n{source}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching `css` now, if any.
    pub(super) fn find(&self, css: &str) -> Option<String> {
        let found = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        found[ELEMENT_KEY].as_str().map(str::to_owned)
    }

    /// The first element matching `css`, waiting for the app to render it.
    pub(super) fn element(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(id) = self.find(css) {
                return id;
            }
            assert!(Instant::now() < deadline, "no element {css}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails if an element matches `css` (call after the page settled on something else).
    pub(super) fn assert_absent(&self, css: &str) {
        let found = self.cmd(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let n = found.as_array().map_or(0, Vec::len);
        if n > 0 {
            let source = self.cmd("GET", "/source", None);
            panic!(
                "{css} must not be on the page; page:\n{}",
                source.as_str().unwrap_or_default()
            );
        }
    }

    pub(super) fn click(&self, css: &str) {
        let id = self.element(css);
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// With `JOULE_SCREENSHOTS=DIR` set, saves the page as `DIR/name.png` (how the README's
    /// screenshots are made); otherwise does nothing.
    pub(super) fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let Ok(dir) = std::env::var("JOULE_SCREENSHOTS") else {
            return;
        };
        let data = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Replaces the text of the input `css` with `text`.
    pub(super) fn fill(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.cmd("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Types `text` into the input `css` and presses Enter.
    pub(super) fn submit_text(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.cmd("POST", &format!("/element/{id}/clear"), Some(json!({})));
        let keys = format!("{text}\u{E007}");
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": keys })),
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A node serving the built app, two blocks in.
fn node_with_app() -> TestNode {
    let node = TestNode::start_with_dist(dist());
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    node
}

pub(super) fn dist() -> std::path::PathBuf {
    let d = std::env::var("JOULE_DIST")
        .map(Into::into)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    assert!(
        d.join("index.html").exists(),
        "{} has no index.html: run `make app` first",
        d.display()
    );
    d
}

/// The checkpoint a user pins to trust `node`'s chain (what `joule node` prints at start).
pub(super) fn checkpoint(node: &TestNode) -> joule_light_client::Checkpoint {
    joule_light_client::Checkpoint::of_genesis(&node.chain().genesis)
}

/// `path` on `base`, with the link's checkpoint for `node`'s chain (as the node prints it).
/// Opens the dashboard through the checkpoint link and waits for its verified head: the link
/// pins the checkpoint, and a page opened before that took would ask first.
fn open_trusted(driver: &Driver, node: &TestNode) {
    driver.goto(&trusted_url(&node.base, node, "/"));
    driver.wait_text("#lc-head", |t| t.starts_with("✓ verified head #"));
}

pub(super) fn trusted_url(base: &str, node: &TestNode, path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{base}{path}{sep}checkpoint={}", checkpoint(node))
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn dashboard_shows_the_chain_and_a_head_verified_in_the_browser() {
    let node = node_with_app();
    let driver = Driver::start();
    // First use: the node's checkpoint as a fingerprint to compare, and nothing verified
    // until the user accepts it.
    driver.goto(&format!("{}/", node.base));
    let fingerprint = driver.wait_text("#trust-ask .fingerprint", |t| !t.is_empty());
    assert_eq!(fingerprint, checkpoint(&node).fingerprint());
    driver.assert_absent(".verified");
    driver.screenshot("trust");
    driver.click("#trust-accept");
    assert_eq!(driver.wait_text("#chain-id", |t| t != "…"), "joule-devnet");
    driver.wait_text("#chain-checkpoint", |t| t.contains(&fingerprint));
    let head = driver.wait_text("#head-height", |t| t.starts_with('#'));
    let height: u64 = head.trim_start_matches('#').parse().unwrap();
    assert!(height >= 1, "{head}");
    driver.wait_text(".card .verified", |t| {
        t.contains("verified in your browser")
    });

    // The light client follows the chain from the checkpoint, and a reload resumes from the
    // trusted state kept in browser storage.
    driver.wait_text("#lc-head", |t| {
        t.trim_start_matches("✓ verified head #")
            .parse::<u64>()
            .is_ok_and(|h| h >= 2)
    });
    driver.wait_text("#lc-start", |t| t.contains("checkpoint"));
    driver.wait_text("#lc-source", |t| t.contains("block stream"));
    driver.wait_text("#tps-now", |t| t.contains("tx/s in block #"));
    // Some traffic over a few blocks: the live chart rises.
    let chain = node.chain();
    let to = super::support::address(&joule_server::devnet::account_key(61));
    for i in 20..60 {
        let key = joule_server::devnet::account_key(i);
        node.submit(&super::support::transfer(
            &chain,
            &key,
            0,
            to,
            1_000_000_000,
        ))
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    driver.wait_text("#tps-now", |t| !t.contains("peak 0 tx/s"));
    // Totals and the latest transactions, as the node reports them.
    driver.wait_text("#total-txs", |t| t.parse::<u64>().is_ok_and(|n| n >= 40));
    driver.element("#latest-txs tbody tr td a[href^='/transactions/']");
    let cold = driver.script("return document.querySelector('#lc-cold').dataset.ms");
    println!("cold load to a verified head: {cold} ms (fresh browser profile)");
    driver.screenshot("dashboard");

    // The theme toggle cycles system → light → dark, and the choice survives a reload.
    let theme = || driver.script("return document.documentElement.dataset.theme ?? 'system'");
    assert_eq!(theme(), "system");
    driver.click("#theme");
    assert_eq!(theme(), "light");
    driver.click("#theme");
    assert_eq!(theme(), "dark");
    driver.goto(&format!("{}/", node.base));
    driver.wait_text("#chain-id", |t| !t.is_empty());
    assert_eq!(theme(), "dark");
    driver.click("#theme");
    assert_eq!(theme(), "system");
    driver.goto(&format!("{}/", node.base));
    driver.wait_text("#lc-start", |t| {
        t.contains("resumed from this browser's storage")
    });

    // Into a block through the table, then a deep link loaded directly.
    driver.click("tbody tr td a");
    let title = driver.wait_text("h1", |t| t.starts_with("Block #"));
    assert!(title.len() > "Block #".len());
    driver.wait_text("p.verified", |t| t.contains("Commit verified"));
    driver.goto(&format!("{}/blocks/1", node.base));
    driver.wait_text("h1", |t| t == "Block #1");
    driver.goto(&format!("{}/no/such/page", node.base));
    driver.wait_text("h1", |t| t == "Page not found");
    // Every block, newest first, a page at a time.
    driver.goto(&format!("{}/blocks", node.base));
    driver.wait_text("h1", |t| t == "Blocks");
    driver.element("#latest-blocks tbody tr td a[href^='/blocks/']");

    // An account's balance, verified in the browser down from a block commit; an unused
    // address proven absent; a malformed one refused with a reason.
    let funded = joule_light_client::Address::from_public_key(
        &joule_server::devnet::account_key(3).public_key(),
    );
    driver.goto(&format!("{}/accounts/{funded}", node.base));
    driver.wait_text("#account-verified", |t| {
        t.contains("Balance and nonce verified")
    });
    assert_eq!(
        driver.wait_text("#acc-balance", |t| !t.is_empty()),
        "1000000 JOULE"
    );
    let nobody = joule_light_client::Address([7; 20]);
    driver.goto(&format!("{}/accounts/{nobody}", node.base));
    driver.wait_text("#account-verified", |t| t.contains("no account exists"));
    driver.goto(&format!("{}/accounts/joule1nope", node.base));
    driver.wait_text("p.error", |t| t.contains("not an address"));

    // A cross-shard transfer: its page says what it did, in words, with the inclusion verified.
    let chain = node.chain();
    let (_, from) = super::support::devnet_key_where(chain.genesis.shard_count, |s| s == 0);
    let (_, to) = super::support::devnet_key_where(chain.genesis.shard_count, |s| s == 1);
    let stx = super::support::transfer(
        &chain,
        &from,
        0,
        super::support::address(&to),
        12_500_000_000,
    );
    let id = node.submit(&stx).unwrap();
    // Opened at once: the page follows it into a block and its receipt to the credit,
    // proving each, without being reopened.
    driver.goto(&format!("{}/transactions/{id}", node.base));
    driver.wait_text("#tx-verified", |t| t.contains("Inclusion verified"));
    driver.wait_text("#tx-receipt", |t| t.contains("credited by shard 1"));
    let at = node.wait_included(&id).inclusion.expect("included").at;
    let from_address = super::support::address(&from);
    driver.element(&format!("td a[href='/accounts/{from_address}']"));
    let summary = driver.wait_text("#tx-summary", |t| !t.is_empty());
    assert!(summary.contains("sent 12.5 JOULE to"), "{summary}");
    driver.wait_text("#tx-status", |t| t == "Included: succeeded");
    driver.screenshot("transaction");
    driver.element("button.copy[aria-label='Copy from']");

    // The sender's account: the transfer in its history, exported as CSV.
    driver.goto(&format!(
        "{}/accounts/{}",
        node.base,
        super::support::address(&from)
    ));
    driver.wait_text("#account-verified", |t| t.contains("verified"));
    driver.element("button.copy[aria-label='Copy address']");
    driver.wait_text("#history", |t| {
        t.contains("Out") && t.contains("12.5 JOULE")
    });
    driver.click("#export-csv");
    driver.wait_text("#export-note", |t| t.contains("Saved 1 transaction as CSV"));

    // Its shard block: verified (header in block, both receipt lists), executed by Block-STM.
    driver.goto(&format!(
        "{}/blocks/{}/shards/{}",
        node.base, at.height, at.shard_header.shard
    ));
    driver.wait_text("#shard-verified", |t| {
        t.contains("Verified in your browser")
    });
    driver.wait_text("#shard-metrics", |t| t.contains("Executed Block-STM"));
    // The block page lists it among the block's transactions, proven.
    driver.goto(&format!("{}/blocks/{}", node.base, at.height));
    driver.element(&format!("#block-txs a[href='/transactions/{id}']"));

    // Search: a height, a transaction id, then something that is neither.
    driver.submit_text("#search", "1");
    driver.wait_text("h1", |t| t == "Block #1");
    driver.submit_text("#search", &id.to_hex());
    driver.wait_text("#tx-summary", |t| t.contains("sent 12.5 JOULE"));
    // Its first digits are enough.
    driver.submit_text("#search", "1");
    driver.wait_text("h1", |t| t == "Block #1");
    driver.submit_text("#search", &id.to_hex()[..10]);
    driver.wait_text("#tx-summary", |t| t.contains("sent 12.5 JOULE"));
    driver.submit_text("#search", "not-a-thing");
    driver.wait_text("#search-error", |t| !t.is_empty());
    // The error belongs to that query: it is gone on the next page.
    driver.click("a.brand");
    driver.wait_text("h1", |t| t == "Explorer");
    driver.assert_absent("#search-error");
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn forged_answers_show_the_failure_and_never_the_verified_mark() {
    use super::proxy::{self, Forgery};
    let node = node_with_app();
    let driver = Driver::start();
    let funded = joule_light_client::Address::from_public_key(
        &joule_server::devnet::account_key(3).public_key(),
    );
    let nobody = joule_light_client::Address([7; 20]);
    // A cross-shard transfer, for the transaction, receipt and shard-block forgeries.
    let chain = node.chain();
    let (_, from) = super::support::devnet_key_where(chain.genesis.shard_count, |s| s == 0);
    let (_, to) = super::support::devnet_key_where(chain.genesis.shard_count, |s| s == 1);
    let stx = super::support::transfer(&chain, &from, 0, super::support::address(&to), 7);
    let id = node.submit(&stx).unwrap();
    let at = node.wait_included(&id).inclusion.expect("included").at;
    node.wait_until("the receipt credited", |n| {
        n.get::<joule_light_client::api::TxResponse>(&format!("/transactions/{id}"))
            .receipt
            .is_some_and(|r| r.applied.is_some())
    });
    let shard_page = format!("/blocks/{}/shards/{}", at.height, at.shard_header.shard);

    // One site whose lies change between page loads (the browser keeps its trust per site).
    let lying = proxy::start(node.base.clone(), Forgery::None);
    driver.goto(&trusted_url(&lying.base, &node, "/"));
    driver.wait_text("#lc-head", |t| t.starts_with("✓ verified head #"));
    let refused = |forgery: Forgery, path: &str, why: &str| {
        lying.set_forgery(forgery);
        driver.goto(&format!("{}{path}", lying.base));
        let alert = driver.wait_text("p.unverified", |t| t.contains("Not verified"));
        assert!(alert.contains(why), "{forgery:?} on {path}: {alert}");
        driver.assert_absent(".verified");
    };
    // Fields beside a proof: a balance the proof contradicts, a balance for an address the
    // proof shows empty, another sender, a shard block row.
    refused(
        Forgery::InflateBalances,
        &format!("/accounts/{funded}"),
        "balance",
    );
    refused(
        Forgery::FakeAbsentBalance,
        &format!("/accounts/{nobody}"),
        "balance",
    );
    let source = driver.cmd("GET", "/source", None);
    assert!(!source.as_str().unwrap_or_default().contains("999 JOULE"));
    refused(
        Forgery::ForgeSender,
        &format!("/transactions/{id}"),
        "sender",
    );
    refused(Forgery::ForgeShardRow, &shard_page, "transaction #0");
    // A receipt with another amount: the inclusion is proven, the receipt refused, and the
    // forged amount is nowhere under a mark.
    lying.set_forgery(Forgery::InflateReceipts);
    driver.goto(&format!("{}/transactions/{id}", lying.base));
    driver.wait_text("#tx-verified", |t| t.contains("Inclusion verified"));
    let receipt = driver.wait_text("#tx-receipt", |t| t.contains("Not verified"));
    assert!(receipt.contains("receipt's amount"), "{receipt}");
    let marks = driver.script(
        "return [...document.querySelectorAll('.verified')].map(e => e.textContent).join(' | ')",
    );
    assert!(
        !marks
            .as_str()
            .unwrap_or_default()
            .contains("1000.000000007"),
        "{marks}"
    );
    // Honest again: the same receipt verifies, credit and all.
    lying.set_forgery(Forgery::None);
    driver.goto(&format!("{}/transactions/{id}", lying.base));
    driver.wait_text("#tx-receipt", |t| t.contains("credited by shard 1"));

    // A node that serves commits with too few signatures: block page and account refuse them.
    refused(
        Forgery::StripSignatures,
        "/blocks/1",
        "insufficient voting power",
    );
    refused(
        Forgery::StripSignatures,
        &format!("/accounts/{funded}"),
        "insufficient voting power",
    );
    // A new site (empty storage) that forges from the start: the light client refuses the
    // checkpoint and never reports a verified head.
    let forging = proxy::start(node.base.clone(), Forgery::StripSignatures).base;
    driver.goto(&trusted_url(&forging, &node, "/"));
    let alert = driver.wait_text("#light-client p.error", |t| t.contains("checkpoint"));
    assert!(alert.contains("insufficient voting power"), "{alert}");
    driver.assert_absent("#lc-head");

    // A node whose answers are honest but whose block stream lies: the light client keeps
    // its verified head, names each refused block, and the dashboard's head is not marked.
    let lying = proxy::start(node.base.clone(), Forgery::StripStreamedSignatures).base;
    driver.goto(&trusted_url(&lying, &node, "/"));
    driver.wait_text("#lc-head", |t| t.starts_with("✓ verified head #"));
    let failure = driver.wait_text("#lc-failures", |t| !t.is_empty());
    assert!(failure.contains("insufficient voting power"), "{failure}");
    driver.wait_text("#head-height + .unverified", |t| {
        t.contains("insufficient voting power")
    });
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn a_changed_checkpoint_gets_the_warning_and_no_marks() {
    use super::proxy::{self, Forgery};
    let (a, b) = (node_with_app(), node_with_app());
    let site = proxy::start(a.base.clone(), Forgery::None);
    let driver = Driver::start();
    driver.goto(&trusted_url(&site.base, &a, "/"));
    driver.wait_text("#lc-head", |t| t.starts_with("✓ verified head #"));

    // The same site now serves another devnet: a full-page warning, both fingerprints, and
    // no verified mark on any page.
    site.set_upstream(b.base.clone());
    for path in ["/", "/blocks/1"] {
        driver.goto(&format!("{}{path}", site.base));
        driver.wait_text("#trust-mismatch h1", |t| t.contains("another chain"));
        assert!(driver
            .wait_text("#trust-pinned", |t| !t.is_empty())
            .contains(&checkpoint(&a).fingerprint()));
        assert!(driver
            .wait_text("#trust-presented", |t| !t.is_empty())
            .contains(&checkpoint(&b).fingerprint()));
        driver.assert_absent(".verified");
    }
    driver.screenshot("trust-warning");
    // A link naming the new chain asks too, and the user may keep the chain they trust.
    driver.goto(&trusted_url(&site.base, &b, "/"));
    driver.wait_text("#trust-mismatch h1", |t| t.contains("This link"));
    driver.click("#trust-keep");
    driver.wait_text("#trust-mismatch h1", |t| t.contains("This node presents"));
    driver.assert_absent(".verified");

    // Switching is deliberate, and then the new chain verifies.
    driver.click("#trust-switch");
    driver.wait_text("#lc-head", |t| t.starts_with("✓ verified head #"));
    driver.wait_text("#chain-checkpoint", |t| {
        t.contains(&checkpoint(&b).fingerprint())
    });
    driver.goto(&format!("{}/blocks/1", site.base));
    driver.wait_text("p.verified", |t| t.contains("Commit verified"));
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn wallet_creates_funds_and_sends_and_no_secret_leaves_the_browser() {
    use joule_light_client::api::{FaucetRequest, SubmitRequest};
    use joule_light_client::{Address, SignedTransaction};

    use super::proxy::{self, Forgery};
    let node = node_with_app();
    // Every request the app sends goes through a recording proxy.
    let proxy = proxy::start(node.base.clone(), Forgery::None);
    let driver = Driver::start();
    let password = "correct horse battery";

    // Create: the recovery phrase is shown once.
    driver.goto(&trusted_url(&proxy.base, &node, "/wallet"));
    driver.fill("#wallet-password", password);
    driver.fill("#wallet-confirm", password);
    driver.click("#wallet-create");
    let phrase = driver.wait_text("#mnemonic", |t| t.split_whitespace().count() == 24);
    let words: Vec<&str> = phrase.split_whitespace().collect();
    // The wallet opens only once some of the words are typed back: a wrong one is named.
    driver.click("#backup-done");
    driver.element("#backup-check");
    let asked = driver.script(
        "return [...document.querySelectorAll('#backup-check input')].map(i => Number(i.dataset.word))",
    );
    let asked: Vec<usize> = serde_json::from_value(asked).unwrap();
    assert_eq!(asked.len(), 3);
    for &p in &asked {
        driver.fill(&format!("#backup-word-{p}"), "zoo");
    }
    driver.click("#backup-confirm");
    driver.wait_text("#backup-error", |t| {
        t.contains(&format!("Word #{}", asked[0]))
    });
    for &p in &asked {
        driver.fill(&format!("#backup-word-{p}"), words[p - 1]);
    }
    driver.click("#backup-confirm");
    let me = driver.wait_text("tbody tr td.mono a", |t| t.starts_with("joule1"));
    driver.assert_absent("#mnemonic");
    let me = Address::parse(&me).unwrap();

    // Lock; an empty password, a wrong one, then the right one.
    driver.click("#lock");
    driver.click("#unlock");
    driver.wait_text("#unlock-error", |t| t.contains("Enter your password"));
    driver.fill("#unlock-password", "not my password");
    driver.click("#unlock");
    driver.wait_text("#unlock-error", |t| t.contains("Wrong password"));
    driver.fill("#unlock-password", password);
    driver.click("#unlock");
    driver.wait_text("#balance-0", |t| t.contains("0 JOULE ✓"));

    // Faucet, then a cross-shard transfer signed in the page.
    driver.click("#faucet-0");
    driver.wait_text("#balance-0", |t| t == "1000 JOULE ✓");
    driver.wait_text("#send-from option", |t| t.contains("1000 JOULE"));
    // Receiving: the address to give, with a QR code of it.
    driver.click("#receive-0");
    assert!(driver
        .wait_text("#receive", |t| !t.is_empty())
        .contains(&me.to_string()));
    driver.element("#receive svg.qr path");
    driver.screenshot("wallet");
    let shards = node.chain().genesis.shard_count;
    let (_, to_key) = super::support::devnet_key_where(shards, |s| s != me.shard(shards));
    let to = super::support::address(&to_key);
    driver.fill("#send-to", &to.to_string());
    driver.fill("#send-amount", "2.5");
    driver.click("#send-review");
    let preview = driver.wait_text("#send-preview", |t| t.contains("2.5 JOULE"));
    assert!(preview.contains(&to.to_string()), "{preview}");
    driver.click("#send-confirm");
    driver.wait_text("#send-status", |t| t == "Included in a block.");
    // The activity list follows it until the other shard credits it.
    driver.wait_text("#activity .activity-state", |t| {
        t.contains("credited by shard")
    });

    // A node that says the next nonce is 5 higher: the wallet signs with the proven nonce
    // (one transaction sent, so 1) and says where each field comes from.
    proxy.set_forgery(Forgery::SkipNonces);
    driver.fill("#send-amount", "1");
    driver.click("#send-review");
    let preview = driver.wait_text("#send-preview", |t| t.contains("proven nonce"));
    assert!(preview.contains("1 (proven nonce"), "{preview}");
    assert!(
        preview.contains("joule-devnet (your trusted checkpoint)"),
        "{preview}"
    );
    driver.click("#send-cancel");
    driver.assert_absent("#send-preview");
    // A node whose account answer contradicts its proof: nothing is signed.
    proxy.set_forgery(Forgery::InflateBalances);
    driver.click("#send-review");
    driver.wait_text("#send-error", |t| t.contains("Nothing will be signed"));
    driver.assert_absent("#send-preview");
    // More than the proven balance: refused before anything is signed, in JOULE.
    proxy.set_forgery(Forgery::None);
    driver.fill("#send-amount", "18446744073.709551615");
    driver.click("#send-review");
    let error = driver.wait_text("#send-amount-error", |t| {
        t.contains("more than this account can send")
    });
    assert!(error.contains("At most 997.499998 JOULE"), "{error}");
    driver.assert_absent("#send-preview");
    // "Max" fills what it can send; Review opens the preview with the focus on it, and
    // Escape cancels it.
    driver.click("#send-max");
    let filled = || driver.script("return document.querySelector('#send-amount').value");
    let deadline = Instant::now() + Duration::from_secs(20);
    while filled() != "997.499998" {
        assert!(Instant::now() < deadline, "Max filled {:?}", filled());
        std::thread::sleep(Duration::from_millis(100));
    }
    driver.click("#send-review");
    driver.wait_text("#send-preview", |t| t.contains("997.499998 JOULE"));
    assert_eq!(
        driver.script("return document.activeElement.id"),
        "send-preview"
    );
    let preview = driver.element("#send-preview");
    driver.cmd(
        "POST",
        &format!("/element/{preview}/value"),
        Some(json!({ "text": "\u{E00C}" })),
    );
    driver.assert_absent("#send-preview");

    driver.click("#sent-link");
    driver.wait_text("#tx-verified", |t| t.contains("Inclusion verified"));
    driver.wait_text("#tx-summary", |t| t.contains("sent 2.5 JOULE to"));
    // The recipient's balance, verified in the browser once the receipt is applied.
    driver.goto(&format!("{}/accounts/{to}", proxy.base));
    driver.wait_text("#account-verified", |t| t.contains("verified"));
    driver.wait_text("#acc-balance", |t| t == "1000002.5 JOULE");

    // Nothing secret left the browser: no request carries the password or two consecutive
    // words of the phrase, and the only writes are the faucet request and one signed
    // transaction, both in their expected shape.
    let log = proxy.log.lock().unwrap().clone();
    assert!(!log.is_empty());
    for entry in &log {
        assert!(!entry.contains(password), "password sent: {entry}");
        for pair in words.windows(2) {
            let joined = pair.join(" ");
            assert!(!entry.contains(&joined), "recovery phrase sent: {entry}");
            assert!(
                !entry.contains(&pair.join("%20")),
                "recovery phrase sent: {entry}"
            );
        }
    }
    let writes: Vec<&String> = log.iter().filter(|e| !e.starts_with("GET ")).collect();
    assert_eq!(writes.len(), 2, "{writes:?}");
    for w in writes {
        let (line, body) = w.split_once('\n').unwrap();
        if line.starts_with("POST /api/v1/faucet ") {
            let req: FaucetRequest = serde_json::from_str(body).unwrap();
            assert_eq!(req.address, me.to_string());
            assert_eq!(
                serde_json::from_str::<Value>(body)
                    .unwrap()
                    .as_object()
                    .unwrap()
                    .len(),
                1
            );
        } else {
            assert!(line.starts_with("POST /api/v1/transactions "), "{line}");
            let req: SubmitRequest = serde_json::from_str(body).unwrap();
            assert_eq!(
                serde_json::from_str::<Value>(body)
                    .unwrap()
                    .as_object()
                    .unwrap()
                    .len(),
                1
            );
            let stx = SignedTransaction::from_bytes(&hex::decode(req.tx).unwrap()).unwrap();
            stx.verify_signature().unwrap();
            assert_eq!(stx.tx.sender_address(), me);
        }
    }

    // Importing the phrase finds the accounts it used: account 2 is funded (from outside the
    // browser), account 1 is not; the import lists 0 to 2.
    driver.click("#nav-wallet");
    driver.fill("#unlock-password", password);
    driver.click("#unlock");
    driver.click("#add-account");
    driver.click("#add-account");
    let third = driver.wait_text("tbody tr:nth-child(3) td.mono a", |t| {
        t.starts_with("joule1")
    });
    let third = Address::parse(&third).unwrap();
    let chain = node.chain();
    let (_, funder) = super::support::devnet_key_where(chain.genesis.shard_count, |_| true);
    let id = node
        .submit(&super::support::transfer(&chain, &funder, 0, third, 5))
        .unwrap();
    node.wait_included(&id);
    driver.script("localStorage.removeItem('joule.wallet.v1')");
    driver.goto(&format!("{}/wallet", proxy.base));
    driver.fill("#wallet-password", password);
    driver.fill("#wallet-confirm", password);
    driver.fill("#wallet-phrase", &phrase);
    driver.click("#wallet-import");
    driver.wait_text("#wallet-note", |t| t.contains("Found 3 account(s)"));
    let rows = driver.script("return document.querySelectorAll('table.accounts tbody tr').length");
    assert_eq!(rows, 3);
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn many_tabs_and_back_forward_never_stall_a_page() {
    // Chromium opens at most six connections per host: a tab that kept a block stream open
    // in the background, or in the back/forward cache, starved the next page's requests.
    let node = node_with_app();
    let driver = Driver::start();
    let bound = Duration::from_secs(5);
    open_trusted(&driver, &node);
    for i in 1..=8u64 {
        let tab = driver.cmd("POST", "/window/new", Some(json!({ "type": "tab" })));
        let handle = tab["handle"].as_str().expect("a new tab").to_owned();
        driver.cmd("POST", "/window", Some(json!({ "handle": handle })));
        driver.goto(&format!("{}/blocks/{i}", node.base));
        driver.wait_text_within("p.verified", |t| t.contains("Commit verified"), bound);
    }
    // Back and forward through pages the cache may keep: each shows its mark again.
    let funded = joule_light_client::Address::from_public_key(
        &joule_server::devnet::account_key(3).public_key(),
    );
    driver.goto(&format!("{}/accounts/{funded}", node.base));
    driver.wait_text_within("#account-verified", |t| t.contains("verified"), bound);
    driver.goto(&format!("{}/", node.base));
    driver.wait_text_within("#lc-head", |t| t.starts_with("✓ verified head #"), bound);
    for _ in 0..3 {
        driver.cmd("POST", "/back", Some(json!({})));
        driver.wait_text_within("#account-verified", |t| t.contains("verified"), bound);
        driver.cmd("POST", "/forward", Some(json!({})));
        driver.wait_text_within("#lc-head", |t| t.starts_with("✓ verified head #"), bound);
    }
    driver.cmd("POST", "/refresh", Some(json!({})));
    driver.wait_text_within("#lc-head", |t| t.starts_with("✓ verified head #"), bound);
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn pages_fit_a_phone_screen() {
    let node = node_with_app();
    let driver = Driver::start();
    driver.cmd(
        "POST",
        "/window/rect",
        Some(json!({ "width": 390, "height": 844 })),
    );
    let funded = joule_light_client::Address::from_public_key(
        &joule_server::devnet::account_key(3).public_key(),
    );
    let pages = [
        ("/".to_owned(), "#lc-head"),
        (format!("/accounts/{funded}"), "#account-verified"),
        ("/blocks/1".to_owned(), "p.verified"),
        ("/wallet".to_owned(), "#wallet-create"),
        ("/market".to_owned(), "#market-verified"),
        ("/market/intervals/1".to_owned(), "#delivery-start"),
        ("/dao".to_owned(), "#gov-params-verified"),
        ("/energy".to_owned(), "#energy-locked"),
    ];
    open_trusted(&driver, &node);
    for (path, mark) in pages {
        driver.goto(&format!("{}{path}", node.base));
        driver.element(mark);
        let width = driver.script("return window.innerWidth");
        assert!(
            width.as_u64().unwrap() <= 420,
            "not a phone's width: {width}"
        );
        // Nothing wider than the screen (a table may scroll inside its own box).
        let wide = driver.script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        );
        let culprits = driver.script(
            "const w = document.documentElement.clientWidth;\
             return [...document.querySelectorAll('body *')]\
               .filter(e => e.getBoundingClientRect().right > w + 1)\
               .slice(0, 3).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);",
        );
        assert_eq!(wide, 0, "{path} is wider than a phone's screen: {culprits}");
        // The header's parts sit on at most two rows.
        let rows = driver.script(
            "const boxes = [...document.querySelector('header').children]\
               .map(e => e.getBoundingClientRect()).filter(b => b.height > 0)\
               .sort((a, b) => a.top - b.top);\
             let rows = 0, bottom = -Infinity;\
             for (const b of boxes) {\
               if (b.top >= bottom - 1) { rows++; bottom = b.bottom; }\
               else bottom = Math.max(bottom, b.bottom);\
             }\
             return rows;",
        );
        assert!(
            rows.as_u64().unwrap() <= 2,
            "{path}: the header takes {rows} rows"
        );
        if path.starts_with("/accounts/") {
            driver.wait_text("#account-verified", |t| t.contains("verified"));
            driver.screenshot("phone-account");
        }
    }
}

#[test]
#[ignore = "needs the built app (dist/), Chromium and axe-core; `make test` runs it"]
fn pages_have_no_serious_accessibility_violations() {
    let axe_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../.tools/node_modules/axe-core/axe.min.js"
    );
    let axe = std::fs::read_to_string(axe_path)
        .unwrap_or_else(|e| panic!("{axe_path}: {e} (run scripts/setup.sh)"));
    let node = node_with_app();
    let driver = Driver::start();
    driver.cmd("POST", "/timeouts", Some(json!({ "script": 30_000 })));
    let funded = joule_light_client::Address::from_public_key(
        &joule_server::devnet::account_key(3).public_key(),
    );
    let pages = [
        ("/".to_owned(), "#lc-head"),
        ("/blocks".to_owned(), "table"),
        (format!("/accounts/{funded}"), "#account-verified"),
        ("/blocks/1".to_owned(), "p.verified"),
        ("/blocks/1/shards/0".to_owned(), "#shard-verified"),
        ("/wallet".to_owned(), "#wallet-create"),
        ("/market".to_owned(), "#market-verified"),
        ("/market/intervals/1".to_owned(), "#delivery-start"),
        ("/dao".to_owned(), "#gov-params-verified"),
        ("/energy".to_owned(), "#energy-locked"),
    ];
    open_trusted(&driver, &node);
    for (path, mark) in pages {
        driver.goto(&format!("{}{path}", node.base));
        driver.element(mark);
        driver.script(&axe);
        let found = driver.script_async(
            "axe.run(document, { resultTypes: ['violations'] }).then(r => done(\
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ', e.g. '\
                   + v.nodes[0].target.join(' ') + ')')),\
               e => done(['axe failed: ' + e]))",
        );
        assert_eq!(found, json!([]), "{path}");
    }
}

/// `make bench-app`: the app loaded in Chromium from a release node (`JOULE_NODE_URL`), timed by
/// the app itself from navigation start to the light client's first verified head: the very
/// first load (empty cache and storage), loads with cached files but empty storage (a new
/// checkpoint each time), and resumed loads. A measurement, not a timed test: it asserts only
/// that every load reached a verified head.
#[test]
#[ignore = "a measurement: `make bench-app` runs it against a release node"]
fn app_load_measurement() {
    let base = std::env::var("JOULE_NODE_URL")
        .expect("JOULE_NODE_URL names the node to measure (`make bench-app` sets it)");
    // Measured as a user who follows the link the node prints (the checkpoint in the URL).
    let chain: joule_light_client::api::ChainInfo = ureq::get(&format!("{base}/api/v1/chain"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let checkpoint = joule_light_client::Checkpoint::of_genesis(&chain.genesis);
    let driver = Driver::start();
    let load = |clear: bool| -> f64 {
        if clear {
            driver.script("localStorage.clear()");
        }
        driver.goto(&format!("{base}/?checkpoint={checkpoint}"));
        driver.wait_text("#lc-cold", |t| !t.is_empty());
        let ms = driver.script("return document.querySelector('#lc-cold').dataset.ms");
        ms.as_str()
            .and_then(|m| m.parse().ok())
            .expect("a time in ms")
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let first = load(false);
    let fresh = median((0..7).map(|_| load(true)).collect());
    let resumed = median((0..7).map(|_| load(false)).collect());
    println!("| load | to a verified head (ms) |");
    println!("|---|---:|");
    println!("| first (empty cache, new checkpoint) | {first:.0} |");
    println!("| cached app, new checkpoint (median of 7) | {fresh:.0} |");
    println!("| cached app, resumed from storage (median of 7) | {resumed:.0} |");
}
