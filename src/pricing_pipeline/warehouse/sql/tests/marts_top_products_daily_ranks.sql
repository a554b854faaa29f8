-- At most 5 rows per day and category, ranked 1..n without gaps.
-- Partition-local: the rule holds within a day and category.
--
-- Reads:
--   marts.top_products_daily
SELECT day, category, count(*) AS products, min(rank) AS first_rank, max(rank) AS last_rank
FROM marts.top_products_daily
GROUP BY day, category
HAVING count(*) > 5 OR min(rank) <> 1 OR max(rank) <> count(*);
