-- Ingest schema (issue 4). Amounts are u64 rao stored as INTEGER by bit-cast to i64
-- (values above i64::MAX read back negative in raw SQL; `Store` casts them back). Accounts
-- are SS58 strings (prefix 42), hashes 0x-hex.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The monitor's checkpoint: last processed finalized block. One row.
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

-- Every processed block, exactly once (gap and double-count audits).
CREATE TABLE blocks (
    number INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    events INTEGER NOT NULL,
    flows INTEGER NOT NULL
) STRICT;

-- Stake transactions: every stake flow touching the tracked subnet.
CREATE TABLE stake_flows (
    block INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    extrinsic INTEGER,
    event_index INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    netuid INTEGER NOT NULL,
    alpha INTEGER NOT NULL,
    counterparty TEXT,
    PRIMARY KEY (block, event_index, seq)
) STRICT;
CREATE INDEX stake_flows_coldkey ON stake_flows (coldkey, block);
CREATE INDEX stake_flows_hotkey ON stake_flows (hotkey, block);

-- Epoch boundaries of the tracked subnet: runs, skips and deferrals.
CREATE TABLE epochs (
    netuid INTEGER NOT NULL,
    block INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('run', 'skipped', 'deferred')),
    epoch_index INTEGER,
    tempo INTEGER,
    rule TEXT NOT NULL,
    deferred_to INTEGER,
    PRIMARY KEY (netuid, block, status)
) STRICT;

-- Stake history: tracked positions read at b-1 ('pre') and b ('post') of each epoch b,
-- and when tracking of a coldkey began ('seed').
CREATE TABLE stake_snapshots (
    epoch_block INTEGER NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('pre', 'post', 'seed')),
    at_block INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    netuid INTEGER NOT NULL,
    alpha INTEGER NOT NULL,
    PRIMARY KEY (epoch_block, phase, hotkey, coldkey, netuid)
) STRICT;
CREATE INDEX stake_snapshots_coldkey ON stake_snapshots (coldkey, epoch_block);

-- Stake changes: the policy's attribution of each position at each epoch.
CREATE TABLE stake_changes (
    epoch_block INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    netuid INTEGER NOT NULL,
    before INTEGER NOT NULL,
    after INTEGER NOT NULL,
    manual_in INTEGER NOT NULL,
    manual_out INTEGER NOT NULL,
    earned INTEGER NOT NULL,
    residue INTEGER NOT NULL,
    PRIMARY KEY (epoch_block, hotkey, coldkey, netuid)
) STRICT;
CREATE INDEX stake_changes_coldkey ON stake_changes (coldkey, epoch_block);
CREATE INDEX stake_changes_hotkey ON stake_changes (hotkey, epoch_block);

-- Hotkey -> owner coldkey, with the block range in which it held (to_block NULL = open).
CREATE TABLE hotkey_owners (
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    from_block INTEGER NOT NULL,
    to_block INTEGER,
    PRIMARY KEY (hotkey, from_block)
) STRICT;
CREATE INDEX hotkey_owners_coldkey ON hotkey_owners (coldkey);

-- uid -> hotkey registrations with block ranges; deregistration closes, never deletes.
CREATE TABLE uid_registrations (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    from_block INTEGER NOT NULL,
    to_block INTEGER,
    PRIMARY KEY (netuid, uid, from_block)
) STRICT;
CREATE INDEX uid_registrations_hotkey ON uid_registrations (hotkey);

-- Coldkeys whose positions are tracked (owners of the subnet's neurons), never removed.
CREATE TABLE tracked_coldkeys (
    coldkey TEXT PRIMARY KEY,
    since_block INTEGER NOT NULL
) STRICT;

-- The vesting ledger as the last step returned it: one row per holder.
CREATE TABLE ledgers (
    holder TEXT PRIMARY KEY,
    block INTEGER NOT NULL,
    unmatched_outflow INTEGER NOT NULL,
    ledger_json TEXT NOT NULL
) STRICT;

-- Vesting schedules: the current tranches of every holder's ledger.
CREATE TABLE tranches (
    holder TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start INTEGER NOT NULL,
    block INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    scheduled INTEGER NOT NULL,
    released INTEGER NOT NULL,
    sold_locked INTEGER NOT NULL,
    PRIMARY KEY (holder, idx)
) STRICT;

-- Each ledger step's result per holder (history; replayable).
CREATE TABLE ledger_history (
    block INTEGER NOT NULL,
    holder TEXT NOT NULL,
    ledger_json TEXT NOT NULL,
    PRIMARY KEY (block, holder)
) STRICT;

-- Vesting payments (the policy's releases).
CREATE TABLE vesting_payments (
    step_block INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    holder TEXT NOT NULL,
    tranche_start INTEGER NOT NULL,
    block INTEGER NOT NULL,
    alpha INTEGER NOT NULL,
    PRIMARY KEY (step_block, seq)
) STRICT;
CREATE INDEX vesting_payments_holder ON vesting_payments (holder, block);

-- How each outflow was matched against the ledger.
CREATE TABLE consumptions (
    step_block INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    holder TEXT NOT NULL,
    block INTEGER NOT NULL,
    alpha INTEGER NOT NULL,
    from_manual INTEGER NOT NULL,
    from_released INTEGER NOT NULL,
    from_locked INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    PRIMARY KEY (step_block, seq)
) STRICT;
CREATE INDEX consumptions_holder ON consumptions (holder, block);

CREATE TABLE holdings (
    block INTEGER NOT NULL,
    holder TEXT NOT NULL,
    total_stake INTEGER NOT NULL,
    earned_in_window INTEGER NOT NULL,
    held_in_window INTEGER NOT NULL,
    held_fraction INTEGER NOT NULL,
    holding_blocks INTEGER NOT NULL,
    holding_days INTEGER NOT NULL,
    vested INTEGER NOT NULL,
    locked INTEGER NOT NULL,
    PRIMARY KEY (block, holder)
) STRICT;
CREATE INDEX holdings_holder ON holdings (holder, block);

-- Multipliers per uid after each step (a full set per block).
CREATE TABLE multipliers (
    block INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    holder TEXT NOT NULL,
    multiplier INTEGER NOT NULL,
    held_factor INTEGER NOT NULL,
    duration_factor INTEGER NOT NULL,
    eligible INTEGER NOT NULL,
    PRIMARY KEY (block, uid)
) STRICT;
CREATE INDEX multipliers_hotkey ON multipliers (hotkey, block);
CREATE INDEX multipliers_holder ON multipliers (holder, block);
