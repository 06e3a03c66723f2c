-- Between epochs only the multipliers of miners whose holder's ledger changed are
-- written (a full set at epochs and registrations): the latest per uid is found by index.
CREATE INDEX multipliers_uid ON multipliers (uid, block);
