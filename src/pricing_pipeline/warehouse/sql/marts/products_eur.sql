-- marts.products_eur: the case's table. One row per product per day, its price in USD and in EUR,
-- and the ECB rate used with its date. Days without an ECB rate (weekends, TARGET holidays) take
-- the latest earlier rate: the as-of join finds it, and rate_date says which one it was.
--
-- price_eur = price_usd / (USD per EUR), rounded half-up to the cent, in integer arithmetic:
-- cents * 10^6 over the rate in millionths, so no float and no rounded cross rate is involved.
--
-- Reads:
--   staging.product_snapshots
--   staging.exchange_rates
--   run_days                   view registered by load_run (run_views): the days the run rebuilds
--   run_category               view registered by load_run (run_views): the run's category, one row
CREATE TABLE IF NOT EXISTS marts.products_eur (
    day          DATE           NOT NULL,
    product_id   INTEGER        NOT NULL,
    title        VARCHAR        NOT NULL,
    category     VARCHAR        NOT NULL,
    price_usd    DECIMAL(10, 2) NOT NULL,
    price_eur    DECIMAL(10, 2) NOT NULL,
    usd_per_eur  DECIMAL(18, 6) NOT NULL,
    rate_date    DATE           NOT NULL,
    rating_rate  DOUBLE         NOT NULL,
    rating_count INTEGER        NOT NULL
    -- No PRIMARY KEY: the key (day, product_id) is guaranteed by the data test declared in
    -- products_eur.yml, on each load's partition, as it would be in BigQuery. An index over
    -- every day of the history would be loaded and extended by every daily load.
);

DELETE FROM marts.products_eur
WHERE day IN (SELECT day FROM run_days)
  AND category IN (SELECT category FROM run_category);

INSERT INTO marts.products_eur (
    day, product_id, title, category, price_usd, price_eur, usd_per_eur, rate_date, rating_rate, rating_count
)
WITH usd_rates AS (
    SELECT rate_date, rate AS usd_per_eur
    FROM staging.exchange_rates
    WHERE currency = 'USD'
),

-- The run's snapshots first: DuckDB does not push a filter below an ASOF JOIN, so filtered after
-- it, the join read every snapshot of the history (a year of 100,000 products: seconds and GBs).
run_snapshots AS (
    SELECT snapshot_date, product_id, title, category, price_usd, rating_rate, rating_count
    FROM staging.product_snapshots
    WHERE snapshot_date IN (SELECT d.day FROM run_days AS d)
      AND category IN (SELECT c.category FROM run_category AS c)
),

priced AS (
    SELECT p.snapshot_date AS day, p.product_id, p.title, p.category, p.price_usd,
           r.usd_per_eur, r.rate_date, p.rating_rate, p.rating_count,
           CAST(p.price_usd * 100 AS BIGINT) AS usd_cents,
           CAST(r.usd_per_eur * 1000000 AS BIGINT) AS rate_millionths
    FROM run_snapshots AS p
    ASOF JOIN usd_rates AS r ON p.snapshot_date >= r.rate_date
)

SELECT day, product_id, title, category, price_usd,
       -- floor((2 * cents * 10^6 + rate) / (2 * rate)) is cents * 10^6 / rate rounded half-up.
       CAST((2 * CAST(usd_cents AS HUGEINT) * 1000000 + rate_millionths) // (2 * rate_millionths) AS BIGINT)
       * CAST(0.01 AS DECIMAL(3, 2)) AS price_eur,
       usd_per_eur, rate_date, rating_rate, rating_count
FROM priced;
