//! Block production: select from the mempool, execute every shard, build and finalise the
//! header, commit atomically, then publish.

use std::sync::Arc;
use std::time::Instant;

use joule_light_client::api::{BlockResponse, StatsPoint};
use joule_light_client::block::shards_tree;
use joule_light_client::event::{events_tree, Event};
use joule_light_client::receipt::{outcomes_tree, receipts_tree};
use joule_light_client::{BlockHeader, Hash, ShardHeader, ShardId, SignedTransaction};
use tokio::sync::watch;

use joule_light_client::api::ShardExecMetrics;
use rayon::prelude::*;

use super::exec::{ShardBlockInput, ShardBlockOutput};
use super::state::NextTrees;
use super::vm::{GovContext, MarketContext, ProposalWindow};
use crate::mempool::{IdSet, Mempool};
use crate::node::{now_ms, Node, NodeError, STATS_WINDOW};
use crate::store::{BlockCommit, ShardCommit, StoredBlock};
use joule_light_client::codec::decode_exact;
use joule_light_client::dao::GovParams;
use joule_light_client::market::{meter_key, params_key, previous_params_key, MarketParams, Meter};
use joule_light_client::{Address, ExecStatus, Payload, Receipt};

/// A block executed on a base state but not yet final: what its header commits to and what
/// committing it writes. Deterministic in its base state and inputs, so every node that
/// executes the same transactions on the same parent gets the same one.
#[derive(Debug)]
pub struct Executed {
    /// The header (a multi-validator network's proposer names itself; the devnet's finalizer
    /// names the proposer).
    pub header: BlockHeader,
    /// The shard headers, in shard order.
    pub shard_headers: Vec<ShardHeader>,
    /// What each shard's block writes.
    pub shards: Vec<ShardCommit>,
    /// Selected transactions execution skipped, with reasons.
    pub skipped: Vec<(SignedTransaction, String)>,
    trees: Vec<NextTrees>,
    new_receipts: Vec<Vec<Receipt>>,
    market: MarketContext,
    timing: [Instant; 3],
}

impl Executed {
    /// The block's hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Transactions included, in shard order.
    pub fn txs(&self) -> Vec<Vec<SignedTransaction>> {
        self.shards
            .iter()
            .map(|s| s.txs.iter().map(|(stx, _)| stx.clone()).collect())
            .collect()
    }

    /// Applies the block to `chain` (a speculative copy: the state a child executes on).
    pub fn apply_to(&self, chain: &mut crate::node::ChainState) {
        for (state, sc) in chain.shards.iter_mut().zip(&self.shards) {
            state.apply(&sc.writes, &sc.objects);
        }
        chain.pending_receipts = self.new_receipts.clone();
        chain.head = Some(Arc::new(StoredBlock {
            header: self.header.clone(),
            shards: self.shard_headers.clone(),
            commit: joule_light_client::Commit {
                height: self.header.height,
                block_hash: self.hash(),
                signatures: Vec::new(),
            },
        }));
    }
}

/// What a block is built from besides its transactions.
#[derive(Debug, Clone)]
pub struct BlockPlan {
    /// The header's time.
    pub timestamp_ms: u64,
    /// The header's proposer.
    pub proposer: joule_light_client::PublicKey,
}

impl Node {
    /// Produces, commits and publishes the next block.
    pub fn produce_block(&self) -> Result<Arc<BlockResponse>, NodeError> {
        let started = Instant::now();
        let g = &self.genesis;
        let chain = self.chain();
        let height = chain.height() + 1;
        let selected = {
            let mempool = self.mempool();
            let max = g.max_txs_per_shard_block as usize;
            self.on_pool(|| mempool.select(g.shard_count, max, |a| chain.account(a)))
        };
        let min_ts = chain
            .head
            .as_ref()
            .map_or(g.genesis_time_ms, |b| b.header.timestamp_ms)
            + 1;
        let plan = BlockPlan {
            timestamp_ms: now_ms().max(min_ts),
            proposer: self.finalizer.proposer(height),
        };
        let mut executed = self.execute_on(&chain, selected, &plan, started);
        drop(chain);
        let commit = self.finalizer.finalize(&executed.header)?;
        executed.timing[0] = started;
        self.commit_executed(executed, commit)
    }

    /// The next block on `chain` with `selected` transactions per shard: executes every shard
    /// and computes the roots and header. Nothing is written.
    pub fn execute_on(
        &self,
        chain: &crate::node::ChainState,
        selected: Vec<Vec<SignedTransaction>>,
        plan: &BlockPlan,
        started: Instant,
    ) -> Executed {
        let g = &self.genesis;
        let n = g.shard_count;
        let height = chain.height() + 1;
        let selected_at = Instant::now();
        let market = self.market_context(chain);
        let gov = Arc::new(self.gov_context(chain));
        // The market's and governance's steps due at this height, on every shard, before the
        // transactions.
        let system = self
            .on_pool(|| super::market::system_steps(&chain.shards, &market, &gov.params, height));
        // Shards execute side by side on the executor's pool (their Block-STM workers share
        // it); each executor call is deterministic on its own input.
        let run_shard = |s: u16| {
            let input = ShardBlockInput {
                shard: s,
                height,
                shard_count: n,
                fee: g.min_fee,
                incoming: &chain.pending_receipts[usize::from(s)],
                txs: &selected[usize::from(s)],
                market,
                system: &system[usize::from(s)],
                gov: &gov,
            };
            let t = Instant::now();
            let (out, stats) = self.executor.execute(&chain.shards[usize::from(s)], input);
            let metrics = ShardExecMetrics {
                shard: s,
                txs: stats.txs as u32,
                threads: stats.threads as u32,
                incarnations: stats.incarnations as u64,
                validations: stats.validations as u64,
                mode: stats.mode,
                exec_us: t.elapsed().as_micros() as u64,
            };
            (out, metrics)
        };
        let executed: Vec<(ShardBlockOutput, ShardExecMetrics)> = match self.executor.pool() {
            Some(pool) => pool.install(|| (0..n).into_par_iter().map(run_shard).collect()),
            None => (0..n).map(run_shard).collect(),
        };
        let (outputs, metrics): (Vec<ShardBlockOutput>, Vec<ShardExecMetrics>) =
            executed.into_iter().unzip();
        let events: Vec<Vec<Event>> = system.into_iter().map(|w| w.events).collect();

        // The next state trees and the shard headers' other roots, all side by side: the state
        // trees' updates are parallel inside, the outcome and receipt trees are not (with 4
        // shards, 10,000 outcomes and up to 15,000 receipts to hash).
        let (trees, roots): (Vec<NextTrees>, Vec<[Hash; 3]>) = {
            let trees = || {
                (0..outputs.len())
                    .into_par_iter()
                    .map(|s| chain.shards[s].next_trees(&outputs[s].writes, &outputs[s].objects))
                    .collect()
            };
            let roots = || {
                outputs
                    .par_iter()
                    .zip(&chain.pending_receipts)
                    .map(|(out, incoming)| {
                        let (tx, (outgoing, incoming)) = rayon::join(
                            || outcomes_tree(&out.outcomes).root(),
                            || {
                                rayon::join(
                                    || receipts_tree(&out.outgoing).root(),
                                    || receipts_tree(incoming).root(),
                                )
                            },
                        );
                        [tx, outgoing, incoming]
                    })
                    .collect()
            };
            self.on_pool(|| rayon::join(trees, roots))
        };
        let shard_headers: Vec<ShardHeader> = outputs
            .iter()
            .zip(trees.iter().zip(&roots))
            .enumerate()
            .map(|(s, (out, (tree, [tx, outgoing, incoming])))| ShardHeader {
                shard: s as ShardId,
                height,
                tx_root: *tx,
                outgoing_receipts_root: *outgoing,
                incoming_receipts_root: *incoming,
                state_root: tree.accounts.root(),
                objects_root: tree.objects.root(),
                events_root: events_tree(&events[s]).root(),
                tx_count: out.outcomes.len() as u32,
                fees: out.fees,
            })
            .collect();

        let parent_hash = chain
            .head
            .as_ref()
            .map_or(self.genesis_hash, |b| b.header.hash());
        let header = BlockHeader {
            chain_id: g.chain_id.clone(),
            height,
            parent_hash,
            timestamp_ms: plan.timestamp_ms,
            proposer: plan.proposer,
            shards_root: shards_tree(&shard_headers).root(),
            shard_count: n,
            validator_set_hash: self.finalizer.validators(height).hash(),
            next_validator_set_hash: self.finalizer.next_validators(height).hash(),
        };
        let executed_at = Instant::now();

        let mut skipped = Vec::new();
        let mut new_receipts = vec![Vec::new(); usize::from(n)];
        let mut shards = Vec::with_capacity(usize::from(n));
        for (((s, out), txs), events) in outputs.into_iter().enumerate().zip(selected).zip(events) {
            for r in &out.outgoing {
                new_receipts[usize::from(r.dest_shard)].push(r.clone());
            }
            // Usually every selected transaction is included: they move into the commit
            // as they are, uncloned.
            let included: Vec<SignedTransaction> = if out.skipped.is_empty() {
                debug_assert!(out.included.iter().copied().eq(0..txs.len()));
                txs
            } else {
                skipped.extend(
                    out.skipped
                        .into_iter()
                        .map(|(i, why)| (txs[i].clone(), why)),
                );
                out.included.iter().map(|i| txs[*i].clone()).collect()
            };
            shards.push(ShardCommit {
                txs: included.into_iter().zip(out.outcomes).collect(),
                outgoing: out.outgoing,
                incoming: chain.pending_receipts[s].clone(),
                writes: out.writes,
                objects: out.objects,
                events,
                metrics: metrics[s],
            });
        }
        Executed {
            header,
            shard_headers,
            shards,
            skipped,
            trees,
            new_receipts,
            market,
            timing: [started, selected_at, executed_at],
        }
    }

    /// Commits `executed`, made final by `commit`, on the head it was executed on; applies it
    /// to memory, prunes the mempool and publishes it.
    pub fn commit_executed(
        &self,
        executed: Executed,
        commit: joule_light_client::Commit,
    ) -> Result<Arc<BlockResponse>, NodeError> {
        let Executed {
            header,
            shard_headers,
            shards,
            skipped: mut dropped,
            trees,
            new_receipts,
            market,
            timing: [started, selected_at, executed_at],
        } = executed;
        let height = header.height;
        let block = StoredBlock {
            header,
            shards: shard_headers,
            commit,
        };
        let tree_at = executed_at;
        let included_ids: Vec<Hash> = shards
            .iter()
            .flat_map(|s| s.txs.iter().map(|(_, o)| o.tx_id))
            .collect();
        let tx_count = included_ids.len() as u64;
        let decided: IdSet = included_ids
            .iter()
            .copied()
            .chain(dropped.iter().map(|(stx, _)| stx.id()))
            .collect();
        let assembled_at = Instant::now();
        // Commit, apply and prune as one critical section: readers (the API, admission) see
        // the previous block or this one, never the store ahead of memory or the mempool behind.
        let mut chain = self.chain.write().unwrap_or_else(|p| p.into_inner());
        let parent = chain
            .head
            .as_ref()
            .map_or(self.genesis_hash, |b| b.header.hash());
        if block.header.height != chain.height() + 1 || block.header.parent_hash != parent {
            return Err(NodeError::NotOnHead {
                height,
                head: chain.height(),
            });
        }
        let mut mempool = self.mempool();
        let writes: Vec<_> = shards.iter().map(|sc| sc.writes.as_slice()).collect();
        let stale = self.on_pool(|| mempool.stale(&writes, &decided));
        dropped.extend(stale);
        let bc = BlockCommit {
            block,
            shards,
            dropped,
        };
        let store_at = Instant::now();
        let written = self.on_pool(|| self.store.write_block(&bc))?;
        let written_at = Instant::now();

        let removed: Vec<_> = included_ids
            .into_iter()
            .chain(bc.dropped.iter().map(|(stx, _)| stx.id()))
            .collect();
        // Memory is updated while the disk commits (this thread waits on it, the pool works),
        // and put back if the commit fails; the locks held, no reader sees it either way. The
        // accounts and the pool are disjoint: updated side by side (the removal, random lookups
        // in two indexes, costs as much as the accounts' update).
        let (states, pending): (&mut Vec<_>, &mut Mempool) = (&mut chain.shards, &mut mempool);
        let (committed, (replaced, removed)) = written.commit_beside(self.executor.pool(), || {
            rayon::join(
                || {
                    states
                        .iter_mut()
                        .zip(&bc.shards)
                        .zip(trees)
                        .map(|((state, sc), trees)| {
                            state.apply_with_tree(&sc.writes, &sc.objects, trees)
                        })
                        .collect::<Vec<_>>()
                },
                || pending.remove(removed),
            )
        });
        if let Err(e) = committed {
            for (state, replaced) in chain.shards.iter_mut().zip(replaced) {
                state.undo(replaced);
            }
            mempool.restore(removed);
            return Err(e.into());
        }
        let stored_at = Instant::now();
        let fees: u128 = bc.block.shards.iter().map(|s| u128::from(s.fees)).sum();
        let block = Arc::new(bc.block);
        chain.head = Some(block.clone());
        chain.pending_receipts = new_receipts;
        chain.total_txs += tx_count;
        chain.recent.push_back(StatsPoint {
            height,
            timestamp_ms: block.header.timestamp_ms,
            tx_count,
        });
        while chain.recent.len() > STATS_WINDOW {
            chain.recent.pop_front();
        }
        drop(mempool);
        drop(chain);
        self.janitor.discard((replaced, removed));
        let applied_at = Instant::now();
        *self.burned.lock().unwrap_or_else(|p| p.into_inner()) += fees;
        for (stx, reason) in &bc.dropped {
            tracing::warn!(id = %stx.id(), reason, "transaction dropped");
        }

        let response = Arc::new(BlockResponse {
            hash: block.header.hash(),
            header: block.header.clone(),
            shards: block.shards.clone(),
            commit: block.commit.clone(),
            validators: self.finalizer.validators(height),
            metrics: bc.shards.iter().map(|s| s.metrics).collect(),
        });
        self.publish(response.clone());
        // After publication: the analytics are no reader's or subscriber's business to wait for.
        self.analyze(height, &market, &bc.shards);
        self.compact_journal_if_due();
        let published_at = Instant::now();
        // After the locks and the block's publication: neither readers, admission nor
        // subscribers wait for merges. A failed step leaves the runs unmerged a while longer,
        // nothing else.
        let merging_at = Instant::now();
        let merged = self.on_pool(|| self.store.merge_accounts());
        if let Err(e) = merged {
            tracing::warn!(error = %e, "merging account runs failed; retried after the next block");
        }
        let merged_at = Instant::now();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        if tx_count > 0 {
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
            tracing::info!(
                height,
                txs = tx_count,
                elapsed_ms,
                select_ms = ms(started, selected_at),
                exec_ms = ms(selected_at, executed_at),
                tree_ms = ms(executed_at, tree_at),
                assemble_ms = ms(tree_at, assembled_at),
                lock_ms = ms(assembled_at, store_at),
                write_ms = ms(store_at, written_at),
                commit_ms = ms(written_at, stored_at),
                apply_ms = ms(stored_at, applied_at),
                publish_ms = ms(applied_at, published_at),
                merge_ms = ms(merging_at, merged_at),
                "block committed"
            );
        } else {
            tracing::debug!(height, elapsed_ms, "empty block committed");
        }
        Ok(response)
    }

    /// The market's rules for the next block: the parameters in shard 0's state at the head
    /// (written at genesis; a governance step changes them there), the chain's clock.
    pub fn market_context(&self, chain: &crate::node::ChainState) -> MarketContext {
        let read = |key| {
            chain.shards[0]
                .object(&key)
                .and_then(|b| decode_exact::<MarketParams>(b).ok())
        };
        MarketContext {
            params: read(params_key()).unwrap_or(self.genesis.market),
            previous: read(previous_params_key()),
            block_interval_ms: self.genesis.block_interval_ms,
            genesis_time_ms: self.genesis.genesis_time_ms,
        }
    }

    /// Feeds the analytics: the block's accepted readings, then the intervals it settled.
    fn analyze(&self, height: u64, market: &MarketContext, shards: &[ShardCommit]) {
        let readings: Vec<(Address, u64, u64, u64)> = shards
            .iter()
            .flat_map(|s| &s.txs)
            .filter(|(_, o)| o.status == ExecStatus::Success)
            .filter_map(|(stx, _)| match stx.tx.payload {
                Payload::Reading {
                    interval,
                    produced_wh,
                    consumed_wh,
                } => Some((stx.tx.sender_address(), interval, produced_wh, consumed_wh)),
                _ => None,
            })
            .collect();
        let settled = super::market::settling_at(market, height);
        let closed = super::market::closing_at(market, height);
        if readings.is_empty() && settled.is_empty() && closed.is_empty() {
            return;
        }
        let chain = self.chain();
        let n = chain.shards.len() as u16;
        let mut t = self.analytics.lock().unwrap_or_else(|p| p.into_inner());
        for i in closed {
            let price = chain.shards[0]
                .object(&joule_light_client::market::interval_key(i))
                .and_then(|b| decode_exact::<joule_light_client::market::IntervalRecord>(b).ok())
                .and_then(|r| r.clearing)
                .map(|c| c.price);
            t.cleared(i, price);
        }
        for (meter, interval, produced, consumed) in readings {
            let m = chain.shards[usize::from(meter.shard(n))]
                .object(&meter_key(&meter))
                .and_then(|b| decode_exact::<Meter>(b).ok());
            if let Some(m) = m {
                let max_wh = market.max_wh(interval, m.capacity_w);
                t.record(meter, m.kind, max_wh, interval, produced, consumed);
            }
        }
        for i in settled {
            t.close(i);
        }
    }

    /// Governance's parameters at the head (shard 0's state; genesis' if absent).
    pub fn gov_params(&self, chain: &crate::node::ChainState) -> GovParams {
        super::governance::gov_params_in(&chain.shards[0], self.genesis.governance)
    }

    /// Governance's rules for the next block: its parameters and every proposal's window, from
    /// the shards' indexes.
    pub fn gov_context(&self, chain: &crate::node::ChainState) -> GovContext {
        let proposals = chain
            .shards
            .iter()
            .flat_map(|s| s.indexes().proposals())
            .map(|(_, p)| {
                let w = ProposalWindow {
                    proposer: p.proposer,
                    start: p.start,
                    end: p.end,
                    state: p.state,
                };
                (p.id, w)
            })
            .collect();
        GovContext {
            params: self.gov_params(chain),
            proposals,
        }
    }

    /// Runs `f` on the executor's pool, if it has one: the producer's parallel steps must not
    /// queue behind admission's signature checks, and run beside the block's own workers.
    fn on_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.executor.pool() {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// Produces a block every interval until `shutdown` turns true.
pub async fn run_producer(node: Arc<Node>, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(node.block_interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let n = node.clone();
                match tokio::task::spawn_blocking(move || n.produce_block()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "block production failed; retrying next interval"),
                    Err(e) => tracing::error!(error = %e, "block production panicked"),
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::{Account, Address, Payload, SecretKey, Transaction};

    use crate::devnet::{account_key, DEVNET_ACCOUNT_BALANCE};
    use crate::node::{Node, NodeConfig};

    #[test]
    fn a_transaction_skipped_by_execution_is_dropped_and_the_others_are_included() {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::open(&NodeConfig::devnet(dir.path())).unwrap();
        let (chain_id, fee) = (node.genesis.chain_id.clone(), node.genesis.min_fee);
        let to = Address::from_public_key(&SecretKey::from_seed(&[9; 32]).public_key());
        let tx = |key: &SecretKey, nonce: u64, amount: u64| {
            Transaction {
                chain_id: chain_id.clone(),
                sender: key.public_key(),
                nonce,
                max_fee: fee,
                payload: Payload::Transfer { to, amount },
            }
            .sign(key)
        };
        let (a, b) = (account_key(1), account_key(2));
        let first = node.admit(tx(&a, 0, 5)).unwrap();
        // An unfunded sender in `a`'s shard (so its block mixes included and skipped), admitted
        // against a richer account than the chain holds: only execution refuses it (it cannot
        // pay the fee), which the mempool alone never lets happen.
        let shards = node.genesis.shard_count;
        let shard_of = |k: &SecretKey| Address::from_public_key(&k.public_key()).shard(shards);
        let poor = (0u8..)
            .map(|i| SecretKey::from_seed(&[i; 32]))
            .find(|k| shard_of(k) == shard_of(&a))
            .unwrap();
        let rich = Account {
            balance: DEVNET_ACCOUNT_BALANCE,
            nonce: 0,
        };
        let unpaid = node.mempool().insert(tx(&poor, 0, 1), &rich).unwrap();
        let other = node.admit(tx(&b, 0, 7)).unwrap();

        let block = node.produce_block().unwrap();
        let included: u32 = block.shards.iter().map(|s| s.tx_count).sum();
        assert_eq!(included, 2);
        node.store.wait_indexed();
        for id in [first, other] {
            assert!(node.store.tx(&id).unwrap().is_some(), "{id} included");
        }
        assert!(node.store.tx(&unpaid).unwrap().is_none());
        let (stx, reason) = node.store.dropped(&unpaid).unwrap().expect("recorded");
        assert_eq!(stx.id(), unpaid);
        assert_eq!(reason, "sender cannot pay the fee");
        assert_eq!(node.mempool_len(), 0);
    }

    #[test]
    fn a_failed_commit_leaves_memory_store_and_pool_as_before_and_the_next_block_takes_the_transactions(
    ) {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::open(&NodeConfig::devnet(dir.path())).unwrap();
        let (chain_id, fee) = (node.genesis.chain_id.clone(), node.genesis.min_fee);
        let to = Address::from_public_key(&SecretKey::from_seed(&[9; 32]).public_key());
        // Several senders, so every shard has work; one sends twice.
        let keys: Vec<SecretKey> = (1..=8).map(account_key).collect();
        let txs: Vec<_> = keys
            .iter()
            .map(|k| (k, 0))
            .chain([(&keys[0], 1)])
            .map(|(key, nonce)| {
                Transaction {
                    chain_id: chain_id.clone(),
                    sender: key.public_key(),
                    nonce,
                    max_fee: fee,
                    payload: Payload::Transfer { to, amount: 3 },
                }
                .sign(key)
            })
            .collect();
        let ids: Vec<_> = txs.into_iter().map(|t| node.admit(t).unwrap()).collect();
        let snapshot = |node: &Node| {
            let chain = node.chain();
            let roots: Vec<_> = chain.shards.iter().map(|s| s.root()).collect();
            let accounts: Vec<_> = keys
                .iter()
                .map(|k| chain.account(&Address::from_public_key(&k.public_key())))
                .chain([chain.account(&to)])
                .collect();
            (chain.height(), roots, accounts, chain.total_txs)
        };
        let before = snapshot(&node);

        node.store.fail_next_commit();
        let err = node.produce_block().unwrap_err();
        assert!(err.to_string().contains("injected commit failure"), "{err}");
        assert_eq!(snapshot(&node), before, "memory as before the block");
        assert_eq!(node.store.head_height().unwrap(), Some(0), "nothing stored");
        assert_eq!(node.mempool_len(), ids.len());
        assert!(ids.iter().all(|id| node.pending(id).is_some()));
        // Nonces still count the pending transactions, as before the failure.
        let first = Address::from_public_key(&keys[0].public_key());
        assert_eq!(node.next_nonce(&first), 2);

        let block = node.produce_block().unwrap();
        assert_eq!(block.header.height, 1);
        let included: u32 = block.shards.iter().map(|s| s.tx_count).sum();
        assert_eq!(included as usize, ids.len());
        assert_eq!(node.mempool_len(), 0);
        node.store.wait_indexed();
        for id in &ids {
            assert!(node.store.tx(id).unwrap().is_some(), "{id} included");
        }
        // Transfers from other shards are credited by receipts in the next block.
        node.produce_block().unwrap();
        assert_eq!(
            node.chain().account(&to).balance,
            before.2[8].balance + 3 * ids.len() as u64
        );
        // The restarted node reads the state that memory holds.
        let roots = snapshot(&node).1;
        drop(node);
        let reopened = Node::open(&NodeConfig::devnet(dir.path())).unwrap();
        assert_eq!(snapshot(&reopened).1, roots);
    }

    /// The determinism property across machines: a second node, with another executor
    /// (sequential against the devnet's parallel one) and its own store, executes the
    /// first node's blocks from their transactions alone and computes the same headers byte
    /// for byte, block after block (receipts crossing shards, the market's scheduled steps).
    #[test]
    fn a_second_node_executing_the_same_blocks_with_another_executor_gets_the_same_headers() {
        use rand::{Rng, SeedableRng};

        use crate::consensus::LocalValidators;
        use crate::devnet::DevnetKeys;
        use crate::genesis::Genesis;

        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Node::open(&NodeConfig {
            always_block_stm: true,
            ..NodeConfig::devnet(da.path())
        })
        .unwrap();
        let genesis = Genesis::load(&da.path().join("genesis.json")).unwrap();
        let keys = DevnetKeys::load(da.path()).unwrap();
        let b = Node::open_with(
            db.path(),
            genesis.clone(),
            Box::new(LocalValidators::new(keys.validators, genesis.validators.clone()).unwrap()),
            Box::new(crate::chain::SequentialExecutor),
            10_000,
            None,
        )
        .unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut nonces = vec![0u64; 64];
        for _ in 0..12 {
            for _ in 0..rng.gen_range(0..120) {
                let i = rng.gen_range(0..64u32);
                let key = account_key(i);
                let to = Address::from_public_key(&account_key(rng.gen_range(0..256)).public_key());
                let stx = Transaction {
                    chain_id: genesis.chain_id.clone(),
                    sender: key.public_key(),
                    nonce: nonces[i as usize],
                    max_fee: genesis.min_fee,
                    payload: Payload::Transfer {
                        to,
                        amount: rng.gen_range(1..1_000_000),
                    },
                };
                if a.admit(stx.sign(&key)).is_ok() {
                    nonces[i as usize] += 1;
                }
            }
            let block = a.produce_block().unwrap();
            a.store.wait_indexed();
            let txs: Vec<Vec<_>> = block
                .shards
                .iter()
                .map(|sh| {
                    let positions: Vec<_> = (0..sh.tx_count)
                        .map(|index| crate::store::TxPos {
                            height: sh.height,
                            shard: sh.shard,
                            index,
                        })
                        .collect();
                    a.store
                        .txs_at(&positions)
                        .unwrap()
                        .into_iter()
                        .map(|t| t.stx)
                        .collect()
                })
                .collect();
            let plan = super::BlockPlan {
                timestamp_ms: block.header.timestamp_ms,
                proposer: block.header.proposer,
            };
            let chain = b.chain();
            let ex = b.execute_on(&chain, txs, &plan, std::time::Instant::now());
            drop(chain);
            assert!(ex.skipped.is_empty());
            assert_eq!(ex.header, block.header, "height {}", block.header.height);
            assert_eq!(ex.shard_headers, block.shards);
            b.commit_executed(ex, block.commit.clone()).unwrap();
        }
        let roots = |n: &Node| -> Vec<_> { n.chain().shards.iter().map(|s| s.root()).collect() };
        assert_eq!(roots(&a), roots(&b));
        assert_eq!(a.chain().height(), 12);
    }
}
