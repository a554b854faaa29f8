-- staging.cart_lines: the cart lines of the source as the latest run read them, one row per
-- (cart_id, product_id). A run replaces the lines of its window's days (and categories) as a
-- whole, so a line or a cart gone from the source is gone here too; what was sold stays in
-- marts.sales_lines, which never rewrites an earlier day's facts.
--
-- Reads:
--   incoming_cart_lines  view registered by sales.load.load_sales: the window's cart lines, as parsed
--   sales_window         view registered by sales.load.load_sales: every day of the window read
--   run_category         view registered by sales.load.load_sales: the run's categories
CREATE TABLE IF NOT EXISTS staging.cart_lines (
    cart_day   DATE    NOT NULL,
    cart_id    INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    quantity   INTEGER NOT NULL,
    category   VARCHAR NOT NULL
    -- No PRIMARY KEY: the key (cart_id, product_id) is guaranteed by the data test declared in
    -- cart_lines.yml, on each load's partition, as it would be in BigQuery. An index over every
    -- cart of the history would be loaded and extended by every daily load.
);

DELETE FROM staging.cart_lines
WHERE cart_day IN (SELECT day FROM sales_window)
  AND category IN (SELECT category FROM run_category);

INSERT INTO staging.cart_lines (cart_day, cart_id, product_id, user_id, quantity, category)
SELECT CAST(cart_day AS DATE) AS cart_day, cart_id, product_id, user_id, quantity, category
FROM incoming_cart_lines;
