-- sqlfluff:dialect:sparksql
-- marts_products_eur_priced_with_rate_in_force.sql on Spark, where a date minus a date is an
-- interval: the age of the rate is datediff(day, rate_date). The rule and its partition are those
-- of the DuckDB file.
-- Partition-local: each row is checked against the rates of the load's window, which hold the
-- publication in force on each of its days and any later one.
--
-- Reads:
--   marts.products_eur
--   staging.exchange_rates
SELECT p.day, p.product_id, p.rate_date, p.usd_per_eur
FROM marts.products_eur AS p
LEFT JOIN staging.exchange_rates AS r
  ON p.rate_date = r.rate_date AND r.currency = 'USD' AND p.usd_per_eur = r.rate
WHERE r.rate_date IS NULL
   OR p.rate_date > p.day
   OR datediff(p.day, p.rate_date) > 5
   OR EXISTS (
       SELECT 1 FROM staging.exchange_rates AS later
       WHERE later.currency = 'USD' AND later.rate_date > p.rate_date AND later.rate_date <= p.day
   )
