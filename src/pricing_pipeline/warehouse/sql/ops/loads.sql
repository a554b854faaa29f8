-- ops.loads: how many loads of each run id have committed, counted inside the load's own
-- transaction (the last model of transform.MODELS). The runner reads the count before a run and
-- again after a failure, to tell "loaded" from "unchanged" (runner/failure_report.py).
--
-- Reads:
--   incoming_load  view registered by load_run: the run's id, one row
CREATE TABLE IF NOT EXISTS ops.loads (
    run_id VARCHAR PRIMARY KEY,
    loads  INTEGER NOT NULL  -- loads committed under this run id
);

INSERT OR REPLACE INTO ops.loads (run_id, loads)
SELECT incoming_load.run_id, coalesce(done.loads, 0) + 1 AS loads
FROM incoming_load
LEFT JOIN ops.loads AS done ON incoming_load.run_id = done.run_id;
