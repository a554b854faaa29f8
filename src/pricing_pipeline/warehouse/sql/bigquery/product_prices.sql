-- pricing.product_prices in BigQuery's dialect: every product on every day, priced in each currency
-- of the ECB publication in force that day, and in EUR; one row per (day, product_id, currency).
-- The same rows as sql/marts/product_prices.sql; sql/bigquery/product_prices_daily.sql adds one day.
--
-- Reads:
--   pricing.products_eur          the daily products table; its rate_date: the publication in force
--   pricing.exchange_rates        the ECB's rates per EUR, as published
--   pricing.currency_minor_units  ISO 4217 minor units, loaded from Python
--
-- * A currency the publication in force does not hold gets no price that day: rates are joined on
--   that publication's date, never taken from an older one.
-- * price_minor = price_usd * rate / usd_per_eur in the currency's minor units, rounded once,
--   half-up, in integers: DIV(2 * c * r * s + 100 * u, 200 * u), with c the USD cents, r and u the
--   rates in millionths, s = 10^minor_unit. The product exceeds INT64 for large rates (TRL), so it is
--   taken in BIGNUMERIC, where DIV on integers is exact. No FLOAT64, no cross rate.
-- * Partitioned by day like its source and clustered by currency: a day's prices in one currency
--   read a small part of one partition.
CREATE OR REPLACE TABLE `pricing.product_prices`
PARTITION BY day
CLUSTER BY currency, product_id
OPTIONS (description = 'Each product and day priced in every currency of the ECB publication in force')
AS
WITH published AS (
  SELECT rate_date, currency, rate FROM `pricing.exchange_rates`
  UNION ALL
  SELECT rate_date, 'EUR' AS currency, NUMERIC '1' AS rate FROM `pricing.exchange_rates`
  WHERE currency = 'USD'
),

priced AS (
  SELECT
    p.day, p.product_id, r.currency, p.title, p.category, p.price_usd, u.minor_unit, r.rate,
    p.usd_per_eur, p.rate_date,
    CAST(p.price_usd * 100 AS          INT64) AS usd_cents,
    CAST(r.rate * 1000000 AS           INT64) AS rate_millionths,
    CAST(p.usd_per_eur * 1000000 AS    INT64) AS usd_millionths,
    u.minor_units_per_unit
  FROM `pricing.products_eur` AS p
  INNER JOIN published AS r ON p.rate_date = r.rate_date
  INNER JOIN `pricing.currency_minor_units` AS u ON r.currency = u.currency
)

SELECT
  day, product_id, currency, title, category, price_usd,
  CAST(div(
    (2 * CAST(usd_cents AS             BIGNUMERIC) * rate_millionths * minor_units_per_unit + 100 * usd_millionths),
    (200 * usd_millionths)
  ) AS                                 INT64) AS price_minor,
  minor_unit, rate, usd_per_eur, rate_date
FROM priced;
