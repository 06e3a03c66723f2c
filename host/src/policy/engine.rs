//! The engine: wasmtime configured for policies (fuel metering, no WASI, no imports),
//! a linker that provides nothing, and a cache of compiled policies keyed by the wasm's
//! sha256, in memory and optionally on disk.

use super::bindings::{v0_1, v0_2};
use super::contract::Contract;
use super::error::LoadError;
use super::loaded::{Policy, Pre};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

/// Resource limits of one policy call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Fuel (about one unit per wasm instruction) a call may burn.
    pub fuel: u64,
    /// Bytes a call's linear memory may grow to.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            memory_bytes: 256 << 20,
        }
    }
}

/// What every call's store holds: its memory limiter.
pub struct HostState {
    pub(crate) limits: wasmtime::StoreLimits,
}

/// Compiles, caches and instantiates policies.
pub struct PolicyEngine {
    engine: Engine,
    linker: Linker<HostState>,
    limits: Limits,
    cache_dir: Option<PathBuf>,
    loaded: Mutex<HashMap<[u8; 32], Arc<Policy>>>,
}

impl PolicyEngine {
    /// An engine with these limits; `cache_dir`, if any, keeps compiled policies across runs.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let linker = Linker::new(&engine);
        Ok(PolicyEngine {
            engine,
            linker,
            limits,
            cache_dir,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// sha256 of a policy's bytes: its identity everywhere (store, cache, decisions).
    pub fn sha256(wasm: &[u8]) -> [u8; 32] {
        Sha256::digest(wasm).into()
    }

    /// Loads a policy: compiles it (or takes it from the cache), checks its imports and
    /// exports against the contract, and reads its `info`.
    pub fn load(&self, wasm: &[u8]) -> Result<Arc<Policy>, LoadError> {
        let sha = Self::sha256(wasm);
        if let Some(p) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sha)
        {
            return Ok(p.clone());
        }
        let component = self.compile(&sha, wasm)?;
        let imports = self.imports(&component);
        let pre = self.pre(&component, &imports)?;
        let policy = Arc::new(Policy::new(
            self.engine.clone(),
            pre,
            sha,
            imports,
            self.limits,
        )?);
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sha, policy.clone());
        Ok(policy)
    }

    /// The names a component imports.
    /// The component ready to instantiate, by the contract its exports implement; it may
    /// import nothing but that contract's types.
    fn pre(&self, component: &Component, imports: &[String]) -> Result<Pre, LoadError> {
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let Some(contract) = Contract::ALL
            .into_iter()
            .find(|c| exports.iter().any(|e| e == c.export()))
        else {
            return Err(LoadError::Contract(format!(
                "it exports {}",
                if exports.is_empty() {
                    String::from("nothing")
                } else {
                    exports.join(", ")
                }
            )));
        };
        let foreign: Vec<&str> = imports
            .iter()
            .map(String::as_str)
            .filter(|i| *i != contract.types_import())
            .collect();
        if !foreign.is_empty() {
            return Err(LoadError::Imports {
                found: foreign.join(", "),
                allowed: contract.types_import(),
            });
        }
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::Contract(format!("{e:#}")))?;
        match contract {
            Contract::V0_1 => v0_1::VestingPolicyPre::new(pre).map(Pre::V0_1),
            Contract::V0_2 => v0_2::VestingPolicyPre::new(pre).map(Pre::V0_2),
        }
        .map_err(|e| LoadError::Contract(format!("{}: {e:#}", contract.export())))
    }

    pub fn imports(&self, component: &Component) -> Vec<String> {
        component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect()
    }

    fn compile(&self, sha: &[u8; 32], wasm: &[u8]) -> Result<Component, LoadError> {
        let cached = self.cache_dir.as_ref().map(|dir| {
            let mut h = Sha256::new();
            h.update(sha);
            self.engine
                .precompile_compatibility_hash()
                .hash(&mut HashWriter(&mut h));
            dir.join(format!("{}.cwasm", hex::encode(&h.finalize()[..16])))
        });
        if let Some(path) = cached.as_ref().filter(|p| p.exists()) {
            // SAFETY: the file is one this engine serialized into the host's own cache
            // directory, named by the wasm's sha256 and the engine's compatibility hash.
            if let Ok(c) = unsafe { Component::deserialize_file(&self.engine, path) } {
                return Ok(c);
            }
        }
        let component =
            Component::new(&self.engine, wasm).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        if let Some(path) = cached {
            let write = || -> anyhow::Result<()> {
                std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
                // One temporary file per process: concurrent writers never mix their bytes.
                let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
                std::fs::write(&tmp, component.serialize()?)?;
                std::fs::rename(tmp, &path)?;
                Ok(())
            };
            if let Err(e) = write() {
                tracing::warn!(
                    "could not cache the compiled policy at {}: {e:#}",
                    path.display()
                );
            }
        }
        Ok(component)
    }
}

/// Where compiled policies are cached across runs: `$VESTING_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/vesting`, else `~/.cache/vesting` (None without a home directory).
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("VESTING_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("vesting")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("vesting")))
}

use std::hash::Hash;
struct HashWriter<'a>(&'a mut Sha256);
impl std::hash::Hasher for HashWriter<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
