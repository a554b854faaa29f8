-- ops.backups: one row per backup of the warehouse, written just before the backup is exported, so
-- that every backup holds its own row. The newest row says which backup the warehouse's content
-- follows from: the next backup is incremental on it (ops/backups.py), and after a restore it is the
-- backup restored, so the chain continues from there and never from a backup of another lineage.
--
-- Reads:
--   incoming_backup  view registered by export_backup: the backup's row, one row
CREATE TABLE IF NOT EXISTS ops.backups (
    backup     VARCHAR     PRIMARY KEY,  -- its folder's name: the run id that made it
    kind       VARCHAR     NOT NULL,     -- full | incremental
    base       VARCHAR,                  -- the backup an incremental one applies on; NULL when full
    created_at TIMESTAMPTZ NOT NULL      -- every change after it goes into the next backup
);

INSERT OR REPLACE INTO ops.backups (backup, kind, base, created_at)
SELECT backup, kind, base, CAST(created_at AS TIMESTAMPTZ) AS created_at FROM incoming_backup;
