-- marts.sales_lines, on the lines the run booked: the facts of a line chain (each starts from the
-- quantity the ones before it add up to), a return never takes more than the line holds, and the
-- line's facts add up to a quantity of 0 or more. Kinds match their sign.
--
-- Reads:
--   marts.sales_lines
--   run_days           view registered by sales.load.load_sales: the days the run books
--   run_category       view registered by sales.load.load_sales: the run's categories
WITH touched AS (
    SELECT DISTINCT cart_id, product_id
    FROM marts.sales_lines
    WHERE booked_day IN (SELECT d.day FROM run_days AS d)
      AND category IN (SELECT c.category FROM run_category AS c)
),

chained AS (
    SELECT f.booked_day, f.cart_id, f.product_id, f.kind, f.quantity, f.quantity_before, f.quantity_after,
           coalesce(sum(f.quantity) OVER (
               PARTITION BY f.cart_id, f.product_id ORDER BY f.booked_day
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS held_before
    FROM marts.sales_lines AS f
    INNER JOIN touched AS t ON f.cart_id = t.cart_id AND f.product_id = t.product_id
)

SELECT booked_day, cart_id, product_id, kind, quantity, quantity_before, held_before
FROM chained
WHERE quantity_before <> held_before
   OR quantity_after < 0
   OR quantity = 0
   OR quantity <> quantity_after - quantity_before
   OR (kind = 'return' AND quantity >= 0)
   OR (kind <> 'return' AND quantity <= 0)
   OR (kind IN ('sale', 'late_sale') AND quantity_before <> 0);
