-- staging.product_snapshots: the category's catalogue as it stood on each day, one row per
-- (snapshot_date, product_id). A day's snapshot is replaced as a whole, like a table partition,
-- so a product that left the category on a re-run does not linger.
--
-- Reads:
--   incoming_products  view registered by load_run: the catalogue the run fetched, as parsed
--   run_days           view registered by load_run (run_views): the days the run rebuilds
--   run_category       view registered by load_run (run_views): the run's category, one row
CREATE TABLE IF NOT EXISTS staging.product_snapshots (
    snapshot_date DATE           NOT NULL,
    product_id    INTEGER        NOT NULL,
    title         VARCHAR        NOT NULL,
    price_usd     DECIMAL(10, 2) NOT NULL,
    description   VARCHAR        NOT NULL,
    category      VARCHAR        NOT NULL,
    image         VARCHAR        NOT NULL,
    rating_rate   DOUBLE         NOT NULL,
    rating_count  INTEGER        NOT NULL
    -- No PRIMARY KEY: the key (snapshot_date, product_id) is guaranteed by the data test declared in
    -- product_snapshots.yml, on each load's partition, as it would be in BigQuery. An index over
    -- every day of the history would be loaded and extended by every daily load.
);

DELETE FROM staging.product_snapshots
WHERE snapshot_date IN (SELECT day FROM run_days)
  AND category IN (SELECT category FROM run_category);

INSERT INTO staging.product_snapshots (
    snapshot_date, product_id, title, price_usd, description, category, image, rating_rate, rating_count
)
SELECT d.day AS snapshot_date, p.product_id, p.title, CAST(p.price_usd AS DECIMAL(10, 2)) AS price_usd,
       p.description, p.category, p.image, p.rating_rate, p.rating_count
FROM incoming_products AS p
CROSS JOIN run_days AS d;
