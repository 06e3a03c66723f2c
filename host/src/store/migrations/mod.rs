//! The store's versioned migrations (rusqlite_migration, tracked in `user_version`).
//! Append new migrations at the end of [`migrations`]; never edit a released one.

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first.
pub fn migrations() -> Vec<M<'static>> {
    vec![
        M::up(include_str!("0001_ingest.sql"))
            .comment("ingest: chain history, ledger, multipliers"),
        M::up(include_str!("0002_multiplier_index.sql"))
            .comment("ingest: latest multiplier per uid by index"),
        M::up(include_str!("0003_policies.sql"))
            .comment("policies, policy state and log, decisions, shadow runs"),
        M::up(include_str!("0004_params.sql"))
            .comment("parameters in force and pending, parameter actions in the change log"),
        M::up(include_str!("0005_ledger_steps.sql"))
            .comment("ledger history: one zstd-compressed row per step, delta to the previous"),
    ]
}

/// The migration set, ready to apply.
pub fn all() -> Migrations<'static> {
    Migrations::new(migrations())
}
