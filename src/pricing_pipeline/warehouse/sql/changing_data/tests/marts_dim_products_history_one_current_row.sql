-- Every product has exactly one current version, and it is the one that never ends.
--
-- Reads:
--   marts.dim_products_history
SELECT product_id, count(*) FILTER (WHERE is_current) AS current_rows
FROM marts.dim_products_history
GROUP BY product_id
HAVING count(*) FILTER (WHERE is_current) <> 1
    OR count(*) FILTER (WHERE is_current AND valid_to = DATE '9999-12-31') <> 1;
