-- marts.product_prices: no column of the run's days is NULL (BigQuery would not stop one).
SELECT day, product_id, currency
FROM marts.product_prices
WHERE day IN (SELECT day FROM run_days)
  AND (product_id IS NULL OR currency IS NULL OR title IS NULL OR category IS NULL
       OR price_usd IS NULL OR price_minor IS NULL OR minor_unit IS NULL OR rate IS NULL
       OR usd_per_eur IS NULL OR rate_date IS NULL);
