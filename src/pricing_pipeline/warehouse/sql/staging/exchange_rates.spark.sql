-- sqlfluff:dialect:sparksql
-- staging.exchange_rates on Spark (exchange_rates.sql for DuckDB): Spark has no MERGE, so this is
-- the content the MERGE leaves in the run's rates window: every incoming rate, and every stored
-- rate of the window whose key (rate_date, currency) the incoming rates do not hold. The engine
-- overwrites the window's partitions (rate_date) with these rows (engines/spark/load.py).
--
-- Reads:
--   incoming_exchange_rates  view registered by load_run_spark: the run's tidy rates, as parsed
--   staging.exchange_rates
--   run_rate_dates           view registered by load_run_spark (run_views): every date of the rates window
WITH incoming AS (
    -- The transport is a float; rounding it to 6 decimals gives back the published decimal exactly.
    SELECT CAST(rate_date AS DATE) AS rate_date, base, currency, CAST(rate AS DECIMAL(18, 6)) AS rate
    FROM incoming_exchange_rates
)

SELECT rate_date, base, currency, rate FROM incoming
UNION ALL
SELECT s.rate_date, s.base, s.currency, s.rate
FROM staging.exchange_rates AS s
LEFT ANTI JOIN incoming AS i ON s.rate_date = i.rate_date AND s.currency = i.currency
WHERE s.rate_date IN (SELECT w.rate_date FROM run_rate_dates AS w)
