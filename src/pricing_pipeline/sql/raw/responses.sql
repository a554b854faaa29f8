-- raw.responses: every body a run obtained, exactly as received, appended and never updated.
-- A body is stored before it is parsed, so a rejected one can be inspected and replayed.
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
    body        BLOB        NOT NULL
);

INSERT INTO raw.responses (
    run_id, name, origin, request, status, attempts, fetched_at, landed_at, body_sha256, body
)
SELECT run_id, name, origin, request, status, attempts,
       CAST(fetched_at AS TIMESTAMPTZ) AS fetched_at, CAST(landed_at AS TIMESTAMPTZ) AS landed_at,
       body_sha256, body
FROM incoming_response;
