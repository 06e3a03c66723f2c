-- Policy lifecycle and decision records (issue 5). Times are unix seconds.

-- Policy components by content hash; never deleted (decisions name them for replay).
CREATE TABLE policies (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    contract TEXT NOT NULL,
    wasm BLOB NOT NULL,
    installed_at INTEGER NOT NULL,
    -- How it got here: 'checked' (every install check passed), 'configured' (named by
    -- --policy / the configuration, loaded as given), 'built-in'.
    origin TEXT NOT NULL,
    report_json TEXT NOT NULL
) STRICT;

-- Which policy is in service, the one before it, the one waiting for the next epoch
-- boundary and the one running in shadow. One row.
CREATE TABLE policy_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    active TEXT REFERENCES policies (sha256),
    previous TEXT REFERENCES policies (sha256),
    pending TEXT REFERENCES policies (sha256),
    shadow TEXT REFERENCES policies (sha256),
    -- Bumped by every change, so a running service notices changes made by another process.
    revision INTEGER NOT NULL
) STRICT;
INSERT INTO policy_state (id, revision) VALUES (1, 0);

-- Every lifecycle change, in order.
CREATE TABLE policy_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN
        ('install', 'activate', 'schedule', 'rollback', 'shadow', 'unshadow', 'epoch-activate')),
    sha256 TEXT,
    -- The block an epoch-boundary activation took effect at.
    block INTEGER,
    note TEXT NOT NULL
) STRICT;

-- Each epoch's decision: the policy, its inputs (hashed; the ledgers are the epoch's rows of
-- ledger_history) and the hash of its outputs (the epoch's holdings and multipliers rows).
CREATE TABLE decisions (
    block INTEGER PRIMARY KEY,
    policy_sha256 TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    params_json TEXT NOT NULL,
    resolved_params_json TEXT NOT NULL,
    miners_json TEXT NOT NULL
) STRICT;

-- Shadow runs: a candidate policy beside the active one at an epoch.
CREATE TABLE shadow_runs (
    block INTEGER NOT NULL,
    candidate TEXT NOT NULL,
    active TEXT NOT NULL,
    -- Sum over miners of |candidate weight - active weight| (fixed point; 2.0 = disjoint).
    total_weight_diff INTEGER NOT NULL,
    max_weight_diff INTEGER NOT NULL,
    miners_changed INTEGER NOT NULL,
    -- Set when the candidate failed (it never affects service).
    error TEXT,
    PRIMARY KEY (block, candidate)
) STRICT;

CREATE TABLE shadow_diffs (
    block INTEGER NOT NULL,
    candidate TEXT NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    active_multiplier INTEGER NOT NULL,
    candidate_multiplier INTEGER NOT NULL,
    active_weight INTEGER NOT NULL,
    candidate_weight INTEGER NOT NULL,
    PRIMARY KEY (block, candidate, uid)
) STRICT;
