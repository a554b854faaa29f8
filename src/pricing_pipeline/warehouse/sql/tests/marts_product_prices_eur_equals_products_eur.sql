-- marts.product_prices: the EUR price of every product and day of the run is the case's price_eur in
-- marts.products_eur (the same rule, computed by another statement), and no such product is missing.
-- Partition-local: each product-day is checked against its own day's rows.
--
-- Reads:
--   marts.products_eur
--   marts.product_prices
--   run_days              view registered by load_run (run_views): the days the run rebuilds
SELECT e.day, e.product_id, e.price_eur, p.price_minor
FROM marts.products_eur AS e
LEFT JOIN marts.product_prices AS p ON e.day = p.day AND e.product_id = p.product_id AND p.currency = 'EUR'
WHERE e.day IN (SELECT d.day FROM run_days AS d)
  AND (p.price_minor IS NULL OR p.price_minor <> CAST(e.price_eur * 100 AS BIGINT) OR p.rate_date <> e.rate_date);
