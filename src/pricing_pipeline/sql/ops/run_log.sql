-- ops.run_log: one row per pipeline run, written by scripts/run_pipeline.py when the run ends,
-- whatever its outcome. The executed notebooks under data/runs/<run_id>/ are the full record.
CREATE TABLE IF NOT EXISTS ops.run_log (
    run_id        VARCHAR     PRIMARY KEY,
    parameters    JSON        NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ NOT NULL,
    status        VARCHAR     NOT NULL,  -- succeeded | failed
    rows_written  JSON,                  -- rows per table for the run's days; NULL on failure
    error         VARCHAR                -- notebook, cell and message of a failure
);

INSERT OR REPLACE INTO ops.run_log
SELECT run_id, parameters::JSON, started_at::TIMESTAMPTZ, ended_at::TIMESTAMPTZ, status,
       rows_written::JSON, error
FROM incoming_run;
