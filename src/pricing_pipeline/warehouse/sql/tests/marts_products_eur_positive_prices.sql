-- Every price and rate used is positive.
-- Partition-local: each row is checked on its own.
--
-- Reads:
--   marts.products_eur
SELECT day, product_id, price_usd, price_eur
FROM marts.products_eur
WHERE price_usd <= 0 OR price_eur <= 0 OR usd_per_eur <= 0;
