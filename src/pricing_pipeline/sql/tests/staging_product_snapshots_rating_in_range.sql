SELECT snapshot_date, product_id, rating_rate FROM staging.product_snapshots
WHERE rating_rate NOT BETWEEN 0 AND 5 OR rating_count < 0;
