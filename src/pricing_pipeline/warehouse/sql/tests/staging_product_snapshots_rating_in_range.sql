-- Ratings are between 0 and 5, rating counts never negative.
-- Partition-local: each row is checked on its own.
--
-- Reads:
--   staging.product_snapshots
SELECT snapshot_date, product_id, rating_rate
FROM staging.product_snapshots
WHERE rating_rate NOT BETWEEN 0 AND 5 OR rating_count < 0;
