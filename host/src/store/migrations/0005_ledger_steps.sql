-- Ledger history, compact: one row per ledger step, the step's ledgers (JSON, sorted by
-- holder) compressed with zstd; `base` is the step whose JSON was the dictionary (NULL
-- for a keyframe, compressed alone). See store/history.rs. New steps are written here;
-- `ledger_history` keeps the rows of databases written before, read and pruned as before.
CREATE TABLE ledger_steps (
    block INTEGER PRIMARY KEY,
    base INTEGER,
    raw_len INTEGER NOT NULL,
    payload BLOB NOT NULL
) STRICT;
