//! The policies in service: owns which policy answers (active), which waits for the next
//! epoch boundary (pending) and which runs in shadow, kept in step with the store's policy
//! state (the store is the source of truth; another process, such as `vesting policy
//! activate`, may change it). Installs a policy only after every check passes.

mod install;

pub use install::{InstallReport, install_check};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::policy::{DEFAULT_POLICY_WASM, Policy, PolicyEngine};
use crate::store::{NewPolicy, PolicyState, Store};

/// The policy roles in memory, mirrored from the store.
pub struct Registry {
    engine: PolicyEngine,
    active: Arc<ArcSwap<Policy>>,
    pending: ArcSwapOption<Policy>,
    shadow: ArcSwapOption<Policy>,
    /// The store's `policy_state.revision` last applied (u64::MAX: never).
    seen: AtomicU64,
}

impl Registry {
    /// A registry serving `active` until the first [`Registry::sync`].
    pub fn new(engine: PolicyEngine, active: Arc<Policy>) -> Self {
        Registry {
            engine,
            active: Arc::new(ArcSwap::new(active)),
            pending: ArcSwapOption::empty(),
            shadow: ArcSwapOption::empty(),
            seen: AtomicU64::new(u64::MAX),
        }
    }

    pub fn engine(&self) -> &PolicyEngine {
        &self.engine
    }

    /// The active slot (shared with the monitor; swaps are atomic, calls in flight finish
    /// on the policy they loaded).
    pub fn active_slot(&self) -> &Arc<ArcSwap<Policy>> {
        &self.active
    }

    pub fn active(&self) -> Arc<Policy> {
        self.active.load_full()
    }

    pub fn pending(&self) -> Option<Arc<Policy>> {
        self.pending.load_full()
    }

    pub fn shadow(&self) -> Option<Arc<Policy>> {
        self.shadow.load_full()
    }

    fn load(&self, store: &Store, sha: &str) -> anyhow::Result<Arc<Policy>> {
        let wasm = store.policy_wasm(sha)?;
        self.engine
            .load(&wasm)
            .map_err(|e| anyhow::anyhow!("stored policy {sha}: {e}"))
    }

    /// Applies the store's policy state if it changed since the last sync; true if it did.
    /// A role whose policy is already loaded is not reloaded.
    pub fn sync(&self, store: &Store) -> anyhow::Result<bool> {
        let st = store.policy_state()?;
        if st.revision == self.seen.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.apply(store, &st)?;
        self.seen.store(st.revision, Ordering::Release);
        Ok(true)
    }

    fn apply(&self, store: &Store, st: &PolicyState) -> anyhow::Result<()> {
        if let Some(sha) = &st.active
            && *sha != self.active.load().sha256_hex()
        {
            let p = self.load(store, sha)?;
            tracing::debug!("policy {} in service", p.label());
            self.active.store(p);
        }
        for (slot, want) in [(&self.pending, &st.pending), (&self.shadow, &st.shadow)] {
            let have = slot.load().as_ref().map(|p| p.sha256_hex());
            if have.as_ref() != want.as_ref() {
                slot.store(match want {
                    Some(sha) => Some(self.load(store, sha)?),
                    None => None,
                });
            }
        }
        Ok(())
    }

    /// Makes the next [`Registry::sync`] apply the store's state even if its revision is
    /// the one last seen (memory may have run ahead of a write that failed).
    pub fn resync(&self) {
        self.seen.store(u64::MAX, Ordering::Release);
    }

    /// After the monitor committed an epoch-boundary activation: `policy` is in service.
    pub fn promoted(&self, policy: Arc<Policy>) {
        tracing::info!("policy {} in service from this epoch", policy.label());
        self.active.store(policy);
        self.pending.store(None);
    }

    /// Stores a component without checks (the built-in policy, or one the configuration
    /// names explicitly) and returns it loaded.
    pub fn store_unchecked(
        &self,
        store: &Store,
        wasm: &[u8],
        origin: &str,
    ) -> anyhow::Result<Arc<Policy>> {
        let p = self.engine.load(wasm)?;
        put(store, &p, wasm, origin, "null")?;
        Ok(p)
    }

    /// On start: the configured policy if any (stored and activated), else the store's
    /// active policy, else the built-in one (stored and activated). Returns what serves.
    pub fn start(&self, store: &Store, configured: Option<&[u8]>) -> anyhow::Result<Arc<Policy>> {
        let st = store.policy_state()?;
        let want = match configured {
            Some(wasm) => Some((
                self.store_unchecked(store, wasm, "configured")?,
                "configured",
            )),
            None if st.active.is_none() => Some((
                self.store_unchecked(store, DEFAULT_POLICY_WASM, "built-in")?,
                "built-in",
            )),
            None => None,
        };
        if let Some((p, why)) = want
            && st.active.as_deref() != Some(p.sha256_hex().as_str())
        {
            store.activate_policy(&p.sha256_hex(), why)?;
        }
        self.sync(store)?;
        Ok(self.active())
    }
}

/// Stores a loaded policy's component with how it got here and its install report.
pub fn put(
    store: &Store,
    p: &Policy,
    wasm: &[u8],
    origin: &str,
    report_json: &str,
) -> crate::store::Result<bool> {
    let info = p.info();
    store.put_policy(&NewPolicy {
        sha256: &p.sha256_hex(),
        name: &info.name,
        version: &info.version,
        contract: &info.contract,
        wasm,
        origin,
        report_json,
    })
}
