-- pricing.sales_lines in BigQuery's dialect, built whole: the sales facts of every cart line the
-- source holds, one row per (booked_day, cart_id, product_id). The rows sql/marts/sales_lines.sql
-- books in one run over the source's whole range: each line a `sale` on its own day, priced as
-- sold. sql/bigquery/sales_lines_daily.sql books one run's days on top of it: late and further
-- sales, returns.
--
-- Reads:
--   pricing.cart_lines         the source's cart lines, as the latest run read them
--   pricing.product_snapshots  the catalogue as it stood on each day
--   pricing.exchange_rates     the ECB's rates per EUR, as published
--
-- * A full build has no history to compare with: what the source changed before it was built is
--   in the lines as they are now, and no return or further sale is booked for it. Build it once
--   (or again from an empty history), then only the daily statement, as DuckDB's runs do: a
--   rebuild would lose the facts that record what changed.
-- * A fact is priced by the catalogue snapshot in force on its sale's day (the latest on or before
--   it; a sale older than every snapshot takes the product's first) and by the USD rate of the ECB
--   publication in force that day (the latest on or before it: TARGET holidays and weekends take
--   the working day before). BigQuery has no as-of join: each snapshot and each publication holds
--   from its date to the next one's (LEAD), and the sale's day is joined into that range. LEFT
--   joins: a line without a price or a rate keeps its row, with NULLs the not_null data test of
--   marts/sales_lines.yml finds, rather than vanishing from the sales.
-- * amount_eur = eur(quantity_after) - eur(quantity_before), eur(q) = q * cents * 10^6 / rate in
--   millionths rounded ONCE, half-up, to the cent: DIV(2 * q * c * 10^6 + u, 2 * u), the
--   arithmetic of marts/sales_lines.sql. The products exceed INT64 for large quantities, so they
--   are taken in BIGNUMERIC, where DIV on integers is exact. No FLOAT64 (0.01 is NUMERIC '0.01').
-- * Partitioned by the day a fact is booked, the partition a daily run replaces; clustered by
--   category and line, the order in which a run reads a line's earlier facts.
CREATE OR REPLACE TABLE `pricing.sales_lines`
PARTITION BY booked_day
CLUSTER BY category, cart_id, product_id
OPTIONS (description = 'Sales facts: each cart line sold, sold late, sold further or returned, priced as first sold')
AS
WITH usd_rates AS (
  SELECT rate_date, rate AS usd_per_eur,
         lead(rate_date) OVER (ORDER BY rate_date) AS next_rate_date
  FROM `pricing.exchange_rates`
  WHERE currency = 'USD'
),

snapshots AS (
  SELECT product_id, snapshot_date, price_usd,
         -- The first snapshot also prices the sales older than it.
         CASE
           WHEN row_number() OVER (PARTITION BY product_id ORDER BY snapshot_date) = 1 THEN DATE '0001-01-01'
           ELSE snapshot_date
         END AS valid_from,
         lead(snapshot_date) OVER (PARTITION BY product_id ORDER BY snapshot_date) AS valid_until
  FROM `pricing.product_snapshots`
),

facts AS (
  SELECT l.cart_day AS booked_day, l.cart_day AS sale_day, l.cart_id, l.product_id, l.user_id, l.category,
         'sale' AS kind, l.cart_day AS sale_booked_day, 0 AS quantity_before, l.quantity AS quantity_after,
         s.price_usd, s.snapshot_date, r.usd_per_eur, r.rate_date
  FROM `pricing.cart_lines` AS l
  LEFT JOIN snapshots AS s
    ON l.product_id = s.product_id AND l.cart_day >= s.valid_from
       AND (s.valid_until IS NULL OR l.cart_day < s.valid_until)
  LEFT JOIN usd_rates AS r
    ON l.cart_day >= r.rate_date AND (r.next_rate_date IS NULL OR l.cart_day < r.next_rate_date)
),

scaled AS (
  SELECT *,
         CAST(price_usd * 100 AS                   INT64) AS usd_cents,
         CAST(usd_per_eur * 1000000 AS             INT64) AS rate_millionths
  FROM facts
)

SELECT
  booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day,
  quantity_before, quantity_after, quantity_after - quantity_before AS quantity, price_usd, snapshot_date,
  (quantity_after - quantity_before) * price_usd AS amount_usd,
  CAST(
    div((2 * quantity_after * CAST(usd_cents AS    BIGNUMERIC) * 1000000 + rate_millionths), (2 * rate_millionths))
    - div((2 * quantity_before * CAST(usd_cents AS BIGNUMERIC) * 1000000 + rate_millionths), (2 * rate_millionths))
    AS                                             INT64
  ) *                                              NUMERIC '0.01' AS amount_eur,
  usd_per_eur, rate_date
FROM scaled;
