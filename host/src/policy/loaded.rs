//! A loaded policy: its identity and `info`, and one typed method per contract function.
//! Every call gets a fresh store (no state survives between calls), its fuel and memory
//! limits, and maps failures to [`CallError`].

use super::engine::{HostState, Limits};
use super::error::{CallError, Failure, LoadError};
use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};

/// A policy ready to call.
pub struct Policy {
    engine: Engine,
    pre: VestingPolicyPre<HostState>,
    sha256: [u8; 32],
    imports: Vec<String>,
    info: PolicyInfo,
    limits: Limits,
    fuel_used: AtomicU64,
    calls: AtomicU64,
    call_nanos: AtomicU64,
}

type Exports = exports::bittensor::vesting::policy::Guest;

impl Policy {
    pub(crate) fn new(
        engine: Engine,
        pre: VestingPolicyPre<HostState>,
        sha256: [u8; 32],
        imports: Vec<String>,
        limits: Limits,
    ) -> Result<Self, LoadError> {
        let mut policy = Policy {
            engine,
            pre,
            sha256,
            imports,
            info: PolicyInfo {
                name: "unknown".into(),
                version: String::new(),
                contract: String::new(),
                description: String::new(),
                params: Vec::new(),
            },
            limits,
            fuel_used: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            call_nanos: AtomicU64::new(0),
        };
        policy.info = policy
            .call("info", |g, s| g.call_info(s).map(Ok))
            .map_err(LoadError::Call)?;
        if policy.info.contract != CONTRACT {
            return Err(LoadError::Contract(format!(
                "it declares contract `{}`, this host speaks `{CONTRACT}`",
                policy.info.contract
            )));
        }
        Ok(policy)
    }

    pub fn info(&self) -> &PolicyInfo {
        &self.info
    }

    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// What the component imports (only the contract's types, once loaded).
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// `name@version (sha256 prefix)`, how errors and logs name this policy.
    pub fn label(&self) -> String {
        format!(
            "{}@{} ({})",
            self.info.name,
            self.info.version,
            &self.sha256_hex()[..12]
        )
    }

    /// Total wall time spent in calls so far.
    pub fn call_time(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.call_nanos.load(Ordering::Relaxed))
    }

    /// Total fuel burnt and calls made so far.
    pub fn usage(&self) -> (u64, u64) {
        (
            self.fuel_used.load(Ordering::Relaxed),
            self.calls.load(Ordering::Relaxed),
        )
    }

    fn call<T>(
        &self,
        function: &'static str,
        f: impl FnOnce(&Exports, &mut Store<HostState>) -> wasmtime::Result<Result<T, PolicyError>>,
    ) -> Result<T, CallError> {
        let fail = |failure| CallError {
            policy: self.label(),
            function,
            failure,
        };
        let started = std::time::Instant::now();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, HostState { limits });
        store.limiter(|s| &mut s.limits);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| fail(Failure::Trap(format!("{e:#}"))))?;
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(instance.bittensor_vesting_policy(), &mut store));
        let used = self.limits.fuel - store.get_fuel().unwrap_or(0);
        self.fuel_used.fetch_add(used, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.call_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(fail(Failure::Refused {
                code: e.code,
                message: e.message,
            })),
            Err(e) => Err(fail(self.classify(&e))),
        }
    }

    fn classify(&self, e: &wasmtime::Error) -> Failure {
        // The debug form holds the whole cause chain (the alternate form does not).
        let text = format!("{e:?}");
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => Failure::OutOfFuel {
                limit: self.limits.fuel,
            },
            // What `StoreLimits::trap_on_grow_failure` raises past the memory limit.
            _ if text.contains("forcing trap when growing memory") => Failure::MemoryLimit {
                limit_bytes: self.limits.memory_bytes,
            },
            _ => Failure::Trap(text),
        }
    }

    pub fn resolve_params(&self, params: &[Param]) -> Result<Vec<Param>, CallError> {
        self.call("resolve-params", |g, s| g.call_resolve_params(s, params))
    }

    pub fn attribute(
        &self,
        params: &[Param],
        input: &AttributionInput,
    ) -> Result<Vec<PositionAttribution>, CallError> {
        self.call("attribute", |g, s| g.call_attribute(s, params, input))
    }

    pub fn ledger_step(
        &self,
        params: &[Param],
        input: &LedgerInput,
    ) -> Result<LedgerOutput, CallError> {
        self.call("ledger-step", |g, s| g.call_ledger_step(s, params, input))
    }

    pub fn holdings(
        &self,
        params: &[Param],
        input: &HoldingsInput,
    ) -> Result<Vec<Holding>, CallError> {
        self.call("holdings", |g, s| g.call_holdings(s, params, input))
    }

    pub fn multipliers(
        &self,
        params: &[Param],
        input: &MultipliersInput,
    ) -> Result<Vec<MinerMultiplier>, CallError> {
        self.call("multipliers", |g, s| g.call_multipliers(s, params, input))
    }

    /// Adjusted weights; the output is checked against the contract's invariants.
    pub fn apply_weights(
        &self,
        params: &[Param],
        input: &WeightsInput,
    ) -> Result<WeightsOutput, CallError> {
        let out = self.call("apply-weights", |g, s| {
            g.call_apply_weights(s, params, input)
        })?;
        invariants::weights(input, &out).map_err(|why| CallError {
            policy: self.label(),
            function: "apply-weights",
            failure: Failure::InvalidOutput(why),
        })?;
        Ok(out)
    }
}
