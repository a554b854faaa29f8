-- sqlfluff:dialect:sparksql
-- marts.products_eur on Spark (products_eur.sql for DuckDB, whose header states the rule): the
-- run's rows. Spark has no ASOF JOIN: the publication in force on a day, the latest USD rate on or
-- before it, is found per run day, then joined on its date. HUGEINT is DECIMAL(38,0) here, and
-- DIV on it is the integer quotient (a BIGINT); under ANSI mode an overflow raises.
--
-- Reads:
--   staging.product_snapshots
--   staging.exchange_rates
--   run_days                   view registered by load_run_spark (run_views): the days the run rebuilds
--   run_category               view registered by load_run_spark (run_views): the run's categories
WITH usd_rates AS (
    SELECT rate_date, rate AS usd_per_eur
    FROM staging.exchange_rates
    WHERE currency = 'USD'
),

run_snapshots AS (
    SELECT snapshot_date, product_id, title, category, price_usd, rating_rate, rating_count
    FROM staging.product_snapshots
    WHERE snapshot_date IN (SELECT d.day FROM run_days AS d)
      AND category IN (SELECT c.category FROM run_category AS c)
),

in_force AS (
    SELECT d.day, max(r.rate_date) AS rate_date
    FROM run_days AS d
    INNER JOIN usd_rates AS r ON d.day >= r.rate_date
    GROUP BY d.day
),

priced AS (
    SELECT p.snapshot_date AS day, p.product_id, p.title, p.category, p.price_usd,
           r.usd_per_eur, r.rate_date, p.rating_rate, p.rating_count,
           CAST(p.price_usd * 100 AS DECIMAL(38, 0)) AS usd_cents,
           CAST(r.usd_per_eur * 1000000 AS DECIMAL(38, 0)) AS rate_millionths
    FROM run_snapshots AS p
    INNER JOIN in_force AS f ON p.snapshot_date = f.day
    INNER JOIN usd_rates AS r ON f.rate_date = r.rate_date
)

SELECT day, product_id, title, category, price_usd, usd_per_eur, rate_date, rating_rate, rating_count,
       -- floor((2 * cents * 10^6 + rate) / (2 * rate)) is cents * 10^6 / rate rounded half-up.
       CAST((2 * usd_cents * 1000000 + rate_millionths) DIV (2 * rate_millionths) AS BIGINT)
       * CAST(0.01 AS DECIMAL(3, 2)) AS price_eur
FROM priced
