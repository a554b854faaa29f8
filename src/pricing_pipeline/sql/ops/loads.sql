-- ops.loads: one row per run whose load committed, written inside the load's own transaction. After
-- a failure, the runner reads it to tell "loaded" from "unchanged" (failure_report.load_committed).
CREATE TABLE IF NOT EXISTS ops.loads (
    run_id     VARCHAR     PRIMARY KEY,
    loaded_at  TIMESTAMPTZ NOT NULL
);

INSERT OR REPLACE INTO ops.loads
SELECT run_id, loaded_at::TIMESTAMPTZ
FROM incoming_load;
