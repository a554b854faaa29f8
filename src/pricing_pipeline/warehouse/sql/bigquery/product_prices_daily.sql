-- The daily increment of `pricing.product_prices` (sql/bigquery/product_prices.sql) in BigQuery's
-- dialect: the partition of @run_date replaced by one MERGE, an atomic statement, so a re-run of a
-- day leaves one copy of it and the other days are not touched. Its SELECT is the full build's with
-- `p.day = @run_date` (the tests check that they do not drift apart).
--
-- Reads:
--   pricing.products_eur
--   pricing.exchange_rates
--   pricing.currency_minor_units
--
-- ON FALSE matches no row: every row of the @run_date partition is deleted (NOT MATCHED BY SOURCE,
-- limited to that partition so BigQuery prunes the others) and every row of the day inserted.
MERGE `pricing.product_prices` AS target
USING (
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
      CAST(p.price_usd * 100 AS INT64) AS usd_cents,
      CAST(r.rate * 1000000 AS INT64) AS rate_millionths,
      CAST(p.usd_per_eur * 1000000 AS INT64) AS usd_millionths,
      u.minor_units_per_unit
    FROM `pricing.products_eur` AS p
    INNER JOIN published AS r ON p.rate_date = r.rate_date
    INNER JOIN `pricing.currency_minor_units` AS u ON r.currency = u.currency
    WHERE p.day = @run_date
  )

SELECT
    day, product_id, currency, title, category, price_usd,
    CAST(div(
      (2 * CAST(usd_cents AS BIGNUMERIC) * rate_millionths * minor_units_per_unit + 100 * usd_millionths),
      (200 * usd_millionths)
    ) AS INT64) AS price_minor,
    minor_unit, rate, usd_per_eur, rate_date
  FROM priced
) AS source
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.day = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  day, product_id, currency, title, category, price_usd, price_minor, minor_unit, rate, usd_per_eur, rate_date
) VALUES (
  source.day, source.product_id, source.currency, source.title, source.category, source.price_usd,
  source.price_minor, source.minor_unit, source.rate, source.usd_per_eur, source.rate_date
);
