-- Parameters the history was computed with (issue 14), beside the policy state: the
-- parameters in force (JSON list of {name, value}) and a change waiting for the next epoch
-- boundary. The change log gains the parameter actions, so the table is rebuilt (SQLite
-- cannot alter a CHECK constraint); its rows and ids are kept.
ALTER TABLE policy_state ADD COLUMN params_json TEXT;
ALTER TABLE policy_state ADD COLUMN pending_params_json TEXT;

CREATE TABLE policy_log_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN
        ('install', 'activate', 'schedule', 'rollback', 'shadow', 'unshadow', 'epoch-activate',
         'params-record', 'params-schedule', 'params-cancel', 'params-activate')),
    sha256 TEXT,
    -- The block an epoch-boundary activation took effect at.
    block INTEGER,
    note TEXT NOT NULL
) STRICT;
INSERT INTO policy_log_new (id, at, action, sha256, block, note)
    SELECT id, at, action, sha256, block, note FROM policy_log;
DROP TABLE policy_log;
ALTER TABLE policy_log_new RENAME TO policy_log;
