-- A product's versions neither overlap nor leave gaps: each is non-empty and ends the day the next
-- one starts; only the last one is open-ended.
--
-- Reads:
--   marts.dim_products_history
SELECT product_id, valid_from, valid_to, next_valid_from
FROM (
    SELECT product_id, valid_from, valid_to,
           lead(valid_from) OVER (PARTITION BY product_id ORDER BY valid_from) AS next_valid_from
    FROM marts.dim_products_history
) AS versions
WHERE valid_from >= valid_to
   OR (next_valid_from IS NOT NULL AND valid_to <> next_valid_from)
   OR (next_valid_from IS NULL AND valid_to <> DATE '9999-12-31');
