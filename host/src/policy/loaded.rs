//! A loaded policy: its identity, contract and `info`, and one typed method per contract
//! function. Every call gets a fresh store (no state survives between calls), its fuel and
//! memory limits, and maps failures to [`CallError`]. A 0.2.0 policy is called through
//! the adapter in `contract.rs`; callers see the same values either way.

use super::bindings::{v0_1, v0_2};
use super::contract::{self, Contract};
use super::engine::{HostState, Limits};
use super::error::{CallError, Failure, LoadError};
use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};

/// A policy ready to call.
pub struct Policy {
    engine: Engine,
    pre: Pre,
    sha256: [u8; 32],
    imports: Vec<String>,
    info: PolicyInfo,
    limits: Limits,
    fuel_used: AtomicU64,
    calls: AtomicU64,
    call_nanos: AtomicU64,
}

/// A component ready to instantiate, by the contract it implements.
pub(crate) enum Pre {
    V0_1(v0_1::VestingPolicyPre<HostState>),
    V0_2(v0_2::VestingPolicyPre<HostState>),
}

impl Pre {
    pub(crate) fn contract(&self) -> Contract {
        match self {
            Pre::V0_1(_) => Contract::V0_1,
            Pre::V0_2(_) => Contract::V0_2,
        }
    }
}

/// An instance's exports, by contract.
enum Exports<'a> {
    V0_1(&'a v0_1::exports::bittensor::vesting::policy::Guest),
    V0_2(&'a v0_2::exports::bittensor::vesting::policy::Guest),
}

type Outcome<T> = wasmtime::Result<Result<T, Failure>>;

fn not_v0_2() -> Failure {
    Failure::Trap(format!("not a {} policy", Contract::V0_2.name()))
}

/// A 0.1.0 call's result as an outcome.
fn direct<T>(r: wasmtime::Result<Result<T, PolicyError>>) -> Outcome<T> {
    r.map(|r| {
        r.map_err(|e| Failure::Refused {
            code: e.code,
            message: e.message,
        })
    })
}

/// A 0.2.0 call's result, its output mapped back to the host's values by `back`.
fn adapted<U, T>(
    r: wasmtime::Result<Result<U, v0_2::bittensor::vesting::types::PolicyError>>,
    back: impl FnOnce(U) -> Result<T, String>,
) -> Outcome<T> {
    r.map(|r| match r {
        Ok(out) => back(out).map_err(Failure::InvalidOutput),
        Err(e) => {
            let (code, message) = contract::error_back(e);
            Err(Failure::Refused { code, message })
        }
    })
}

impl Policy {
    pub(crate) fn new(
        engine: Engine,
        pre: Pre,
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
            .call("info", |g, s| match g {
                Exports::V0_1(g) => g.call_info(s).map(Ok),
                Exports::V0_2(g) => g.call_info(s).map(|i| Ok(contract::info_back(i))),
            })
            .map_err(LoadError::Call)?;
        let exported = policy.contract();
        if policy.info.contract != exported.name() {
            return Err(LoadError::Contract(format!(
                "it exports `{}` but its info declares contract `{}`",
                exported.export(),
                policy.info.contract
            )));
        }
        Ok(policy)
    }

    /// The contract the component implements.
    pub fn contract(&self) -> Contract {
        self.pre.contract()
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
        f: impl FnOnce(Exports, &mut Store<HostState>) -> Outcome<T>,
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
        let result = match &self.pre {
            Pre::V0_1(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| f(Exports::V0_1(i.bittensor_vesting_policy()), &mut store)),
            Pre::V0_2(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| f(Exports::V0_2(i.bittensor_vesting_policy()), &mut store)),
        };
        let used = self.limits.fuel - store.get_fuel().unwrap_or(0);
        self.fuel_used.fetch_add(used, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.call_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(fail(failure)),
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
        self.call("resolve-params", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_resolve_params(s, params)),
            Exports::V0_2(g) => adapted(g.call_resolve_params(s, &contract::params(params)), |p| {
                Ok(contract::params_back(p))
            }),
        })
    }

    pub fn attribute(
        &self,
        params: &[Param],
        input: &AttributionInput,
    ) -> Result<Vec<PositionAttribution>, CallError> {
        self.call("attribute", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_attribute(s, params, input)),
            Exports::V0_2(g) => {
                let input = contract::attribution_input(input);
                adapted(
                    g.call_attribute(s, &contract::params(params), &input),
                    |out| contract::attributions_back(out, &input.accounts),
                )
            }
        })
    }

    pub fn ledger_step(
        &self,
        params: &[Param],
        input: &LedgerInput,
    ) -> Result<LedgerOutput, CallError> {
        self.call("ledger-step", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_ledger_step(s, params, input)),
            Exports::V0_2(g) => {
                let input = contract::ledger_input(input);
                adapted(
                    g.call_ledger_step(s, &contract::params(params), &input),
                    |out| contract::ledger_output_back(out, &input.accounts),
                )
            }
        })
    }

    pub fn holdings(
        &self,
        params: &[Param],
        input: &HoldingsInput,
    ) -> Result<Vec<Holding>, CallError> {
        self.call("holdings", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_holdings(s, params, input)),
            Exports::V0_2(g) => {
                let input = contract::holdings_input(input);
                adapted(
                    g.call_holdings(s, &contract::params(params), &input),
                    |out| contract::holdings_back(out, &input.accounts),
                )
            }
        })
    }

    pub fn multipliers(
        &self,
        params: &[Param],
        input: &MultipliersInput,
    ) -> Result<Vec<MinerMultiplier>, CallError> {
        self.call("multipliers", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_multipliers(s, params, input)),
            Exports::V0_2(g) => {
                let input = contract::multipliers_input(input);
                adapted(
                    g.call_multipliers(s, &contract::params(params), &input),
                    |out| contract::multipliers_back(out, &input.accounts),
                )
            }
        })
    }

    /// Adjusted weights; the output is checked against the contract's invariants.
    pub fn apply_weights(
        &self,
        params: &[Param],
        input: &WeightsInput,
    ) -> Result<WeightsOutput, CallError> {
        let out = self.call("apply-weights", |g, s| match g {
            Exports::V0_1(g) => direct(g.call_apply_weights(s, params, input)),
            Exports::V0_2(g) => adapted(
                g.call_apply_weights(
                    s,
                    &contract::params(params),
                    &contract::weights_input(input),
                ),
                |out| Ok(contract::weights_back(out)),
            ),
        })?;
        invariants::weights(input, &out).map_err(|why| CallError {
            policy: self.label(),
            function: "apply-weights",
            failure: Failure::InvalidOutput(why),
        })?;
        Ok(out)
    }

    /// A raw 0.2.0 call for contract vectors written in 0.2.0's own shape: `function`'s
    /// input as JSON, deserialized into 0.2.0's types and passed unadapted. Only the
    /// error code matters to such vectors; a 0.1.0 policy cannot be called this way.
    pub fn call_raw_v0_2(
        &self,
        function: &'static str,
        params: &[Param],
        input: &serde_json::Value,
    ) -> Result<Result<(), CallError>, String> {
        use v0_2::bittensor::vesting::types as v2;
        fn parse<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
            serde_json::from_value(v.clone()).map_err(|e| format!("input: {e}"))
        }
        if self.contract() != Contract::V0_2 {
            return Err(format!(
                "`{}` does not implement {}",
                self.label(),
                Contract::V0_2.name()
            ));
        }
        let p = contract::params(params);
        fn ok<U>(_: U) -> Result<(), String> {
            Ok(())
        }
        Ok(match function {
            "attribute" => {
                let i: v2::AttributionInput = parse(input)?;
                self.call(function, |g, s| match g {
                    Exports::V0_2(g) => adapted(g.call_attribute(s, &p, &i), ok),
                    Exports::V0_1(_) => Ok(Err(not_v0_2())),
                })
            }
            "ledger-step" => {
                let i: v2::LedgerInput = parse(input)?;
                self.call(function, |g, s| match g {
                    Exports::V0_2(g) => adapted(g.call_ledger_step(s, &p, &i), ok),
                    Exports::V0_1(_) => Ok(Err(not_v0_2())),
                })
            }
            "holdings" => {
                let i: v2::HoldingsInput = parse(input)?;
                self.call(function, |g, s| match g {
                    Exports::V0_2(g) => adapted(g.call_holdings(s, &p, &i), ok),
                    Exports::V0_1(_) => Ok(Err(not_v0_2())),
                })
            }
            "multipliers" => {
                let i: v2::MultipliersInput = parse(input)?;
                self.call(function, |g, s| match g {
                    Exports::V0_2(g) => adapted(g.call_multipliers(s, &p, &i), ok),
                    Exports::V0_1(_) => Ok(Err(not_v0_2())),
                })
            }
            "apply-weights" => {
                let i: v2::WeightsInput = parse(input)?;
                self.call(function, |g, s| match g {
                    Exports::V0_2(g) => adapted(g.call_apply_weights(s, &p, &i), ok),
                    Exports::V0_1(_) => Ok(Err(not_v0_2())),
                })
            }
            other => return Err(format!("no raw 0.2.0 call for function `{other}`")),
        })
    }
}
