-- raw.responses: every body a run obtained, appended and never updated: what was asked, when, and
-- the body's SHA-256, size and file. The body is kept before it is parsed, so a rejected one can be
-- inspected and replayed; as a file under data/raw/<run id>/, not in this table (landing.py says why).
--
-- Reads:
--   incoming_response  view registered by land_raw_response: the one body to append
CREATE TABLE IF NOT EXISTS raw.responses (
    run_id      VARCHAR     NOT NULL,
    name        VARCHAR     NOT NULL,  -- exchange_rates | products | products_recheck
    origin      VARCHAR     NOT NULL,  -- live | recorded | offline
    request     VARCHAR     NOT NULL,  -- the URL asked for, or the file read
    status      INTEGER,               -- HTTP status; NULL for a file
    attempts    INTEGER     NOT NULL,
    fetched_at  TIMESTAMPTZ,           -- NULL for a file
    landed_at   TIMESTAMPTZ NOT NULL,
    body_sha256 VARCHAR     NOT NULL,
    body_bytes  BIGINT      NOT NULL,
    body_file   VARCHAR     NOT NULL   -- relative to the data folder: raw/<run id>/<name>.<sha256[:16]>.<type>
);

INSERT INTO raw.responses (
    run_id, name, origin, request, status, attempts, fetched_at, landed_at, body_sha256, body_bytes, body_file
)
SELECT run_id, name, origin, request, status, attempts,
       CAST(fetched_at AS TIMESTAMPTZ) AS fetched_at, CAST(landed_at AS TIMESTAMPTZ) AS landed_at,
       body_sha256, body_bytes, body_file
FROM incoming_response;
