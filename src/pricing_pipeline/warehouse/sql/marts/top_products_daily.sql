-- marts.top_products_daily: the 5 best-rated products of each day (DuckDB).
-- The same ranking as sql/bigquery/top_products_daily.sql, refreshed only for the days of the run.
-- Ties are broken deterministically: rating desc, then number of ratings desc, then product id.
--
-- Reads:
--   marts.products_eur
--   run_days            view registered by load_run (run_views): the days the run rebuilds
--   run_category        view registered by load_run (run_views): the run's category, one row
CREATE TABLE IF NOT EXISTS marts.top_products_daily (
    day          DATE           NOT NULL,
    rank         INTEGER        NOT NULL,
    product_id   INTEGER        NOT NULL,
    title        VARCHAR        NOT NULL,
    category     VARCHAR        NOT NULL,
    rating_rate  DOUBLE         NOT NULL,
    rating_count INTEGER        NOT NULL,
    price_usd    DECIMAL(10, 2) NOT NULL,
    price_eur    DECIMAL(10, 2) NOT NULL,
    rate_date    DATE           NOT NULL,
    PRIMARY KEY (day, category, rank)
);

DELETE FROM marts.top_products_daily
WHERE day IN (SELECT day FROM run_days)
  AND category IN (SELECT category FROM run_category);

INSERT INTO marts.top_products_daily (
    day, rank, product_id, title, category, rating_rate, rating_count, price_usd, price_eur, rate_date
)
SELECT day,
       row_number() OVER (
           PARTITION BY day, category
           -- One sort key, the tuple (rating, count, -id) descending: the same order as
           -- "rating DESC, count DESC, id ASC", but DuckDB turns a single-key top-N per group
           -- into a grouped aggregate instead of sorting every row.
           ORDER BY (rating_rate, rating_count, -product_id) DESC
       ) AS rank,
       product_id, title, category, rating_rate, rating_count, price_usd, price_eur, rate_date
FROM marts.products_eur
WHERE day IN (SELECT d.day FROM run_days AS d)
  AND category IN (SELECT c.category FROM run_category AS c)
QUALIFY rank <= 5;
