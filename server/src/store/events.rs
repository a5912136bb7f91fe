//! Events of the system steps (trades' fills and settlements), kept per shard block in the
//! order their shard header's `events_root` commits to, and an account's events by position,
//! newest first — written in the block's own write transaction, like its receipts.

use joule_light_client::codec::{self, Decode, Encode, Reader};
use joule_light_client::event::Event;
use joule_light_client::{Address, ShardId};
use redb::{TableDefinition, WriteTransaction};

use super::{decode, BlockCommit, Result, Store};

/// A shard block's events: (height, shard) → count u32 | events.
const EVENTS: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("events");
/// An account's events: address [20] | height u64 BE | shard u16 BE | index u32 BE → ().
const ACCOUNT_EVENTS: TableDefinition<&[u8], ()> = TableDefinition::new("account_events");

/// Where an event is: its block, shard and position among the shard block's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventAt {
    /// Block height.
    pub height: u64,
    /// Shard.
    pub shard: ShardId,
    /// Position in the shard block's events.
    pub index: u32,
}

struct EventList(Vec<Event>);

impl Encode for EventList {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode_to(out);
        for e in &self.0 {
            e.encode_to(out);
        }
    }
}

impl Decode for EventList {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let n = r.u32()?;
        // Each event is at least its tag: a count beyond the bytes left is corrupt.
        let mut out = Vec::with_capacity((n as usize).min(r.remaining()));
        for _ in 0..n {
            out.push(Event::decode_from(r)?);
        }
        Ok(EventList(out))
    }
}

fn account_key(account: &Address, at: EventAt) -> [u8; 34] {
    let mut k = [0u8; 34];
    k[..20].copy_from_slice(&account.0);
    k[20..28].copy_from_slice(&at.height.to_be_bytes());
    k[28..30].copy_from_slice(&at.shard.to_be_bytes());
    k[30..].copy_from_slice(&at.index.to_be_bytes());
    k
}

/// Writes the block's events and their accounts' index rows into `tx`.
pub(super) fn write(tx: &WriteTransaction, c: &BlockCommit) -> Result<()> {
    let height = c.block.header.height;
    let mut events = tx.open_table(EVENTS)?;
    let mut by_account = tx.open_table(ACCOUNT_EVENTS)?;
    for (shard, sc) in c.shards.iter().enumerate() {
        if sc.events.is_empty() {
            continue;
        }
        let shard = shard as ShardId;
        events.insert(
            (height, shard),
            EventList(sc.events.clone()).encode().as_slice(),
        )?;
        for (index, e) in sc.events.iter().enumerate() {
            let at = EventAt {
                height,
                shard,
                index: index as u32,
            };
            by_account.insert(account_key(&e.account(), at).as_slice(), ())?;
        }
    }
    Ok(())
}

impl Store {
    /// The events of `shard`'s block at `height`, in order (empty if none).
    pub fn events_at(&self, height: u64, shard: ShardId) -> Result<Vec<Event>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(EVENTS)?;
        Ok(t.get((height, shard))?
            .map(|g| decode::<EventList>("events", g.value()))
            .transpose()?
            .map_or_else(Vec::new, |l| l.0))
    }

    /// Where `account`'s events are, newest first: `limit` of them after skipping `skip`, and
    /// how many it has in all.
    pub fn account_events(
        &self,
        account: &Address,
        skip: u64,
        limit: u64,
    ) -> Result<(Vec<EventAt>, u64)> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(ACCOUNT_EVENTS)?;
        let low = account_key(
            account,
            EventAt {
                height: 0,
                shard: 0,
                index: 0,
            },
        );
        let high = account_key(
            account,
            EventAt {
                height: u64::MAX,
                shard: u16::MAX,
                index: u32::MAX,
            },
        );
        let range = || t.range(low.as_slice()..=high.as_slice());
        let total = range()?.count() as u64;
        let mut out = Vec::new();
        for row in range()?.rev().skip(skip as usize).take(limit as usize) {
            let (k, _) = row?;
            let k = k.value();
            let at = |a: usize, b: usize| -> [u8; 8] {
                let mut x = [0u8; 8];
                x[8 - (b - a)..].copy_from_slice(&k[a..b]);
                x
            };
            out.push(EventAt {
                height: u64::from_be_bytes(at(20, 28)),
                shard: u64::from_be_bytes(at(28, 30)) as u16,
                index: u64::from_be_bytes(at(30, 34)) as u32,
            });
        }
        Ok((out, total))
    }
}
