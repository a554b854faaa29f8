-- pricing.sales_daily in BigQuery's dialect, built whole: sales per day and category, one row per
-- (basis, day, category), in USD and EUR. The same rows as sql/marts/sales_daily.sql: basis
-- 'booked' sums the facts by the day they were recorded (what the books said that day),
-- 'restated' by the day of the original sale (what each day sold, as known now). Units and
-- amounts: gross (sales, late and further sales), returns (as a positive figure) and net (gross -
-- returns). sql/bigquery/sales_daily_daily.sql rebuilds the days one run changed.
--
-- Reads:
--   pricing.sales_lines  the sales facts (sql/bigquery/sales_lines.sql)
--
-- * EUR sums the facts' amounts, each converted once (sales_lines.sql): never a day's USD total
--   converted again.
-- * A function of pricing.sales_lines alone, so a full build is always right, unlike the facts'
--   (which need their history); it reads every partition of the facts, the daily statement only
--   the run's window.
-- * Partitioned by day and clustered by basis and category: a report of a range of days in one
--   basis reads those days' partitions, a small part of each.
CREATE OR REPLACE TABLE `pricing.sales_daily`
PARTITION BY day
CLUSTER BY basis, category
OPTIONS (description = 'Sales per day and category, booked and restated, gross, returns and net, USD and EUR')
AS
WITH facts AS (
  SELECT 'booked' AS basis, booked_day AS day, category, quantity, amount_usd, amount_eur
  FROM `pricing.sales_lines`
  UNION ALL
  SELECT 'restated' AS basis, sale_day AS day, category, quantity, amount_usd, amount_eur
  FROM `pricing.sales_lines`
)

SELECT
  basis, day, category,
  sum(greatest(quantity, 0)) AS units_sold,
  sum(greatest(-quantity, 0)) AS units_returned,
  sum(quantity) AS net_units,
  sum(CASE WHEN quantity > 0 THEN amount_usd ELSE 0 END) AS gross_usd,
  -sum(CASE WHEN quantity < 0 THEN amount_usd ELSE 0 END) AS returns_usd,
  sum(amount_usd) AS net_usd,
  sum(CASE WHEN quantity > 0 THEN amount_eur ELSE 0 END) AS gross_eur,
  -sum(CASE WHEN quantity < 0 THEN amount_eur ELSE 0 END) AS returns_eur,
  sum(amount_eur) AS net_eur
FROM facts
GROUP BY basis, day, category;
