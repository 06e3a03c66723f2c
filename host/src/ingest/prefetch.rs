//! Reading ahead: owns guessing, from a block's events alone, the state reads its
//! processing will make, and starting them early through the catch-up's shared
//! [`ReadMemo`](crate::chain::client::ReadMemo) so the processing finds them answered. At
//! an epoch block: the neurons at b-1 and the epoch storage at b, the epoch's storage-told
//! flows (owners, dividends, the owner cut) and every tracked holder's positions at b-1
//! and b; at registrations: the new hotkeys' owners and the positions of owners not yet
//! tracked. A guess made with an older tracked set or older metadata only misses (the
//! processing then reads for itself): a memoised read is keyed by its exact request and
//! block hash, so nothing read ahead can stand in for anything but that same read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::IngestError;
use super::classify::{Classified, classify};
use super::emission::{self, EpochNeurons};
use super::processor::Tracker;
use super::window::read_positions;
use crate::chain::events::BlockEvents;
use crate::chain::positions::{self, At};
use crate::chain::runtime::BASKET_ESCROW;
use crate::chain::{Account, ChainClient, ChainMeta, Hash, events};

/// What a guess is made with: the metadata and tracked coldkeys as last applied.
pub(super) struct ReadAhead {
    netuid: u16,
    state: Mutex<State>,
}

struct State {
    meta: Option<Arc<ChainMeta>>,
    tracked: Arc<BTreeSet<Account>>,
    /// The last block the monitor applied (its metadata is good for the next one).
    applied: u64,
    /// Guessing stopped after this block: it upgraded the runtime (or its events did not
    /// decode), so later blocks' events may need metadata the monitor has not read yet;
    /// decoding them with the old one could misread them (or ask for absurd allocations).
    paused_after: Option<u64>,
}

impl ReadAhead {
    pub fn new(netuid: u16) -> Self {
        ReadAhead {
            netuid,
            state: Mutex::new(State {
                meta: None,
                tracked: Arc::new(BTreeSet::new()),
                applied: 0,
                paused_after: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The metadata the monitor holds after applying block `applied` (good for the next).
    pub fn set_meta(&self, meta: Option<Arc<ChainMeta>>, applied: u64) {
        let mut s = self.state();
        s.meta = meta;
        s.applied = applied;
        if s.paused_after.is_some_and(|u| applied > u) {
            s.paused_after = None;
        }
    }

    pub fn set_tracked(&self, tracker: &Tracker) {
        self.state().tracked = Arc::new(tracker.tracked.values().copied().collect());
    }

    /// Starts the reads block `number` (`hash`, child of `parent`) will make, on `tasks`;
    /// nothing when its events say it reads no state, or after a runtime upgrade until the
    /// monitor has the new metadata. Returns the events it decoded, for the processing.
    pub fn start(
        &self,
        c: &ChainClient,
        number: u64,
        hash: Hash,
        parent: Hash,
        events_raw: &[u8],
        tasks: &mut tokio::task::JoinSet<()>,
    ) -> Option<Decoded> {
        let (meta, tracked) = {
            let s = self.state();
            if s.paused_after.is_some() || s.applied >= number {
                return None;
            }
            (s.meta.clone()?, s.tracked.clone())
        };
        let Ok(decoded) = events::decode(&meta, events_raw) else {
            self.state().paused_after = Some(number);
            return None;
        };
        let decoded = Decoded {
            meta: meta.clone(),
            events: Arc::new(decoded),
        };
        let cl = classify(number, self.netuid, &meta.profile, &decoded.events.records);
        if cl.code_updated {
            self.state().paused_after = Some(number);
        }
        if !(cl.epoch.run.is_some() || cl.epoch.skipped) && cl.registrations.is_empty() {
            return Some(decoded);
        }
        let (c, netuid) = (c.clone(), self.netuid);
        let pre = At {
            number: number - 1,
            hash: parent,
        };
        let now = At { number, hash };
        tasks.spawn(async move {
            // A failed read is the processing's to report, when it reads for itself.
            let _ = reads(&c, &meta, netuid, pre, now, &cl, &tracked).await;
        });
        Some(decoded)
    }
}

/// A block's events as the read-ahead decoded them, and the metadata it used: the
/// processing takes them instead of decoding again when its metadata is the same one.
pub struct Decoded {
    meta: Arc<ChainMeta>,
    events: Arc<BlockEvents>,
}

impl Decoded {
    /// The events, if they were decoded with `meta`.
    pub fn for_meta(&self, meta: &Arc<ChainMeta>) -> Option<Arc<BlockEvents>> {
        Arc::ptr_eq(&self.meta, meta).then(|| self.events.clone())
    }
}

/// The reads `processor::process` makes for these events (see there), at b-1 and b.
async fn reads(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    pre: At,
    now: At,
    cl: &Classified,
    tracked: &BTreeSet<Account>,
) -> Result<(), IngestError> {
    let registrations = async {
        if cl.registrations.is_empty() {
            return Ok(());
        }
        let hks: BTreeSet<Account> = cl.registrations.iter().map(|(_, h)| *h).collect();
        let owners = positions::owners(c, meta, &hks, now).await?;
        let new: BTreeSet<Account> = owners
            .values()
            .filter(|ck| !tracked.contains(*ck) && **ck != BASKET_ESCROW)
            .copied()
            .collect();
        if !new.is_empty() {
            read_positions(c, meta, netuid, &new, &[pre]).await?;
        }
        Ok::<_, IngestError>(())
    };
    let epoch = async {
        if !(cl.epoch.run.is_some() || cl.epoch.skipped) {
            return Ok(());
        }
        let ((neurons_pre, _), _) = futures::try_join!(
            positions::neurons(c, meta, netuid, pre),
            positions::epoch_state(c, meta, netuid, now)
        )?;
        let Some((event_index, emissions)) = &cl.epoch.run else {
            return Ok(());
        };
        let silent = BTreeMap::new();
        let both = [pre, now];
        futures::try_join!(
            emission::epoch_flows(
                c,
                meta,
                netuid,
                pre,
                now,
                *event_index,
                emissions,
                EpochNeurons {
                    pre: &neurons_pre,
                    silent: &silent,
                },
            ),
            read_positions(c, meta, netuid, tracked, &both),
        )?;
        Ok::<_, IngestError>(())
    };
    futures::try_join!(registrations, epoch)?;
    Ok(())
}
