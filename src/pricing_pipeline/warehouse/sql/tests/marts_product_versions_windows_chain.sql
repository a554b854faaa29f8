-- marts.product_versions: a product's versions chain without overlap, each window is non-empty, a
-- version that follows another at once changes something (title, category or price), and a product
-- has at most one current version. Returns each product and valid_from that breaks it.
-- Audit-only: the versions follow from staging.product_snapshots, whose key (one row per product
-- and day) and NOT NULL columns every load tests; a product twice in a day's snapshot, the fault
-- that splits or overlaps its versions, is caught there.
--
-- Reads:
--   marts.product_versions
WITH chained AS (
    SELECT product_id, valid_from, valid_to, is_current, title, category, price_usd,
           lead(valid_from) OVER by_start AS next_from,
           lead(title) OVER by_start AS next_title,
           lead(category) OVER by_start AS next_category,
           lead(price_usd) OVER by_start AS next_price_usd,
           count(*) FILTER (WHERE is_current) OVER (PARTITION BY product_id) AS current_versions
    FROM marts.product_versions
    WINDOW by_start AS (PARTITION BY product_id ORDER BY valid_from, valid_to)
)

SELECT product_id, valid_from
FROM chained
WHERE valid_to <= valid_from
   OR next_from < valid_to
   OR (next_from = valid_to AND next_title = title AND next_category = category AND next_price_usd = price_usd)
   OR current_versions > 1
