//! The default policy, built from `plugin/` by the build script and embedded.

/// The default policy component's bytes.
pub const DEFAULT_POLICY_WASM: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/vesting-policy-default.wasm"));
