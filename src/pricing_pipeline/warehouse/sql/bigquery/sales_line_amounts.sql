-- pricing.sales_line_amounts in BigQuery's dialect: every sales fact in EUR and in each currency of
-- the ECB publication in force on its sale's day (its rate_date), one row per (booked_day,
-- cart_id, product_id, currency). The same rows as sql/marts/sales_line_amounts.sql.
--
-- Reads:
--   pricing.sales_lines           the sales facts (sql/bigquery/sales_lines.sql)
--   pricing.exchange_rates        the ECB's rates per EUR, as published
--   pricing.currency_minor_units  ISO 4217 minor units, loaded from Python
--
-- * A view, not a table, unlike pricing.product_prices: the facts are a few lines a day, not a
--   catalogue times 31 currencies, and a query of a range of booked days reads only those
--   partitions of pricing.sales_lines. Nothing to keep current: a re-published rate is in every
--   amount read after it.
-- * amount_minor is the change of the line's amount (quantity_before to quantity_after), as in
--   sales_lines.sql, so a line's facts add up to the line priced once: with c the USD cents, r and
--   u the rate and the USD rate in millionths and s = 10^minor_unit, a quantity q is worth
--   DIV(2 * q * c * r * s + 100 * u, 200 * u) minor units, rounded ONCE, half-up; the arithmetic
--   of sql/bigquery/product_prices.sql and of the DuckDB macros in sql/macros/minor_units.sql. The
--   product exceeds INT64, so it is taken in BIGNUMERIC, where DIV on integers is exact. No FLOAT64.
-- * A currency the publication does not hold gets no amount: rates are joined on its date.
CREATE OR REPLACE VIEW `pricing.sales_line_amounts`
OPTIONS (description = 'Each sales fact in every currency of the ECB publication in force on its sale day')
AS
WITH published AS (
  SELECT rate_date, currency, rate FROM `pricing.exchange_rates`
  UNION ALL
  SELECT rate_date, 'EUR' AS currency, NUMERIC '1' AS rate FROM `pricing.exchange_rates`
  WHERE currency = 'USD'
),

rates AS (
  SELECT r.rate_date, r.currency, r.rate, u.minor_unit, u.minor_units_per_unit,
         CAST(r.rate * 1000000 AS INT64) AS rate_millionths
  FROM published AS r
  INNER JOIN `pricing.currency_minor_units` AS u ON r.currency = u.currency
),

facts AS (
  SELECT booked_day, sale_day, cart_id, product_id, category, kind, quantity_before, quantity_after,
         quantity, rate_date, usd_per_eur,
         CAST(price_usd * 100 AS INT64) AS usd_cents,
         CAST(usd_per_eur * 1000000 AS INT64) AS usd_millionths
  FROM `pricing.sales_lines`
)

SELECT
  f.booked_day, f.sale_day, f.cart_id, f.product_id, r.currency, f.category, f.kind, f.quantity,
  CAST(
    div(
      (2 * f.quantity_after * CAST(f.usd_cents AS BIGNUMERIC) * r.rate_millionths * r.minor_units_per_unit
       + 100 * f.usd_millionths),
      (200 * f.usd_millionths)
    )
    - div(
      (2 * f.quantity_before * CAST(f.usd_cents AS BIGNUMERIC) * r.rate_millionths * r.minor_units_per_unit
       + 100 * f.usd_millionths),
      (200 * f.usd_millionths)
    )
    AS INT64
  ) AS amount_minor,
  r.minor_unit, r.rate, f.usd_per_eur, f.rate_date
FROM facts AS f
INNER JOIN rates AS r ON f.rate_date = r.rate_date;
