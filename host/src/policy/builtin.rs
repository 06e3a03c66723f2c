//! What the build script embeds: the default policy, built from `plugin/`, and the
//! contract conformance vectors every policy must pass.

/// The default policy component's bytes.
pub const DEFAULT_POLICY_WASM: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/vesting-policy-default.wasm"));

include!(concat!(env!("OUT_DIR"), "/contract_vectors.rs"));
