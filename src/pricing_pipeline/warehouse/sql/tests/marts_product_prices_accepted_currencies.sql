-- marts.product_prices: every currency of the run's days is one of staging.currency_minor_units,
-- priced with its minor unit, and no price is negative. (A price may round to 0 minor units: 0.01
-- USD is 0.0037 MTL, and rounding that to the cent is 0.00.)
-- Audit-only: the view's inner join on staging.currency_minor_units gives every row a known code and
-- its minor unit, and positive rates and prices a price of 0 or more; in a load,
-- marts_product_prices_inputs_price_each_currency_once and the positive tests catch these faults.
-- Partition-local: each row is checked on its own.
--
-- Reads:
--   marts.product_prices
--   staging.currency_minor_units
--   run_days                      view registered by load_run (run_views): the days the run rebuilds
SELECT p.day, p.product_id, p.currency, p.minor_unit, p.price_minor
FROM marts.product_prices AS p
LEFT JOIN staging.currency_minor_units AS u ON p.currency = u.currency
WHERE p.day IN (SELECT d.day FROM run_days AS d)
  AND (u.currency IS NULL OR p.minor_unit <> u.minor_unit OR p.price_minor < 0);
