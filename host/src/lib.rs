//! The vesting host: everything with side effects. It loads and runs vesting policies
//! (wasm components) under limits, and exposes them through the `vesting` command.
//!
//! Data flows one way: chain -> ingest -> store -> policy -> weights. See
//! `ARCHITECTURE.md` at the repository root for the code map.

pub mod api;
pub mod chain;
pub mod cli;
pub mod ingest;
pub mod policy;
pub mod registry;
pub mod service;
pub mod store;
