-- ops.run_log: one row per pipeline run, written by the runner when the run ends, whatever its
-- outcome. The executed notebooks under data/runs/<run_id>/ are the full record.
--
-- Reads:
--   incoming_run  view registered by write_run_log: the run's row, one row
CREATE TABLE IF NOT EXISTS ops.run_log (
    run_id       VARCHAR     PRIMARY KEY,
    parameters   JSON        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ NOT NULL,
    status       VARCHAR     NOT NULL,  -- succeeded | failed | interrupted | backup failed
    rows_written JSON,                  -- rows per table for the run's days; NULL on failure
    error        VARCHAR                -- notebook, cell and message of a failure
);

INSERT OR REPLACE INTO ops.run_log (
    run_id, parameters, started_at, ended_at, status, rows_written, error
)
SELECT run_id, CAST(parameters AS JSON) AS parameters, CAST(started_at AS TIMESTAMPTZ) AS started_at,
       CAST(ended_at AS TIMESTAMPTZ) AS ended_at, status, CAST(rows_written AS JSON) AS rows_written, error
FROM incoming_run;
