-- marts.product_prices: one row per (day, product_id, currency) on the run's days. DuckDB's primary
-- key enforces it; BigQuery does not, so the rule is also a test.
SELECT day, product_id, currency, count(*) AS copies
FROM marts.product_prices
WHERE day IN (SELECT day FROM run_days)
GROUP BY day, product_id, currency
HAVING count(*) > 1;
