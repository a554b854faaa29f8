-- The case's answer, in BigQuery's dialect: a table holding only the 5 best-rated products of each
-- day, built from the daily-partitioned products table (one row per product per day).
--
-- * ROW_NUMBER, not RANK: exactly 5 rows per day even when ratings tie, and ties are broken by a
--   rule anyone can check: rating desc, then number of ratings desc, then product id.
-- * The window is per day and category: the table may hold several categories (the case has one).
-- * Partitioned by day like its source, so a day's query reads one partition.
--
-- Reads:
--   pricing.products_eur  the case's table (marts.products_eur in the DuckDB warehouse)
CREATE OR REPLACE TABLE `pricing.top_products_daily`
PARTITION BY day
OPTIONS (description = 'Top 5 products by rating of each day and category')
AS
SELECT day, rank, product_id, title, category, rating_rate, rating_count,
       price_usd, price_eur, rate_date
FROM (
  SELECT
    p.*,
    row_number() OVER (
      PARTITION BY p.day, p.category
      ORDER BY p.rating_rate DESC, p.rating_count DESC, p.product_id ASC
    ) AS rank
  FROM `pricing.products_eur` AS p
) AS ranked
WHERE rank <= 5;
