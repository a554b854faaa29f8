-- marts.product_prices, checked through its inputs: the view prices each product-day once per
-- currency of its publication, with that currency's minor unit, exactly when the rates of the
-- load's window hold no EUR rate (EUR is added at 1), and every currency of them has one minor unit
-- whose scale is 10^minor_unit. With the keys of marts.products_eur, staging.exchange_rates and
-- staging.currency_minor_units (their unique tests), the positive rates and prices, and the USD rate
-- in force of each product-day (marts_products_eur_priced_with_rate_in_force), that is what the
-- view's own tests over its 31 rows per product-day check, at the cost of the rates (a few dozen
-- rows a day) instead of the prices (30 M a day for a million products). Those tests still run,
-- over the whole tables, in the weekly audit.
-- Partition-local: each publication of the load's window is checked on its own.
--
-- Reads:
--   staging.exchange_rates
--   staging.currency_minor_units
WITH published AS (
    SELECT rate_date, currency FROM staging.exchange_rates
    UNION ALL
    SELECT rate_date, 'EUR' AS currency FROM staging.exchange_rates
    WHERE currency = 'USD'
)

SELECT p.rate_date, p.currency,
       'not one minor unit of scale 10^minor_unit, or EUR among the rates' AS problem,
       count(u.currency) AS minor_units
FROM published AS p
LEFT JOIN staging.currency_minor_units AS u
  ON p.currency = u.currency AND u.minor_units_per_unit = CAST(10 ** u.minor_unit AS BIGINT)
GROUP BY p.rate_date, p.currency
HAVING count(*) <> 1 OR count(u.currency) <> 1;
