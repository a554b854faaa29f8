-- marts.product_prices: every currency of the run's days is one of staging.currency_minor_units,
-- priced with its minor unit, and no price is negative. (A price may round to 0 minor units: 0.01
-- USD is 0.0037 MTL, and rounding that to the cent is 0.00.)
SELECT p.day, p.product_id, p.currency, p.minor_unit, p.price_minor
FROM marts.product_prices AS p
LEFT JOIN staging.currency_minor_units AS u ON u.currency = p.currency
WHERE p.day IN (SELECT day FROM run_days)
  AND (u.currency IS NULL OR p.minor_unit <> u.minor_unit OR p.price_minor < 0);
