-- ops.sales_reconciliation: after the load, the window's carts as the source serves them again,
-- compared per day with what the facts of the warehouse add up to: carts, lines and units, one
-- row per (run_id, day). A line counts while its facts add up to more than 0 units.
--
-- Reads:
--   marts.sales_lines
--   source_cart_lines         view registered by sales.reconciliation.reconcile_sales: the lines re-read
--   sales_window              view registered by sales.reconciliation.reconcile_sales: the window's days
--   run_category              view registered by sales.reconciliation.reconcile_sales: the run's categories
--   sales_reconciliation_run  view registered by sales.reconciliation.reconcile_sales: the run's id
CREATE TABLE IF NOT EXISTS ops.sales_reconciliation (
    run_id          VARCHAR NOT NULL,
    day             DATE    NOT NULL,
    source_carts    BIGINT  NOT NULL,
    warehouse_carts BIGINT  NOT NULL,
    source_lines    BIGINT  NOT NULL,
    warehouse_lines BIGINT  NOT NULL,
    source_units    BIGINT  NOT NULL,
    warehouse_units BIGINT  NOT NULL,
    agrees          BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, day)
);

DELETE FROM ops.sales_reconciliation
WHERE run_id IN (SELECT run_id FROM sales_reconciliation_run);

INSERT INTO ops.sales_reconciliation (
    run_id, day, source_carts, warehouse_carts, source_lines, warehouse_lines, source_units, warehouse_units, agrees
)
WITH source_days AS (
    SELECT CAST(cart_day AS DATE) AS day, count(DISTINCT cart_id) AS carts, count(*) AS line_count,
           sum(quantity) AS units
    FROM source_cart_lines
    GROUP BY CAST(cart_day AS DATE)
),

held AS (
    SELECT sale_day, cart_id, product_id, sum(quantity) AS units
    FROM marts.sales_lines
    WHERE sale_day IN (SELECT w.day FROM sales_window AS w)
      AND category IN (SELECT c.category FROM run_category AS c)
      -- What the run's last day knew: a re-run of an old day is not compared with what later runs booked.
      AND booked_day <= (SELECT max(w.day) FROM sales_window AS w)
    GROUP BY sale_day, cart_id, product_id
    HAVING sum(quantity) > 0
),

warehouse_days AS (
    SELECT sale_day AS day, count(DISTINCT cart_id) AS carts, count(*) AS line_count, sum(units) AS units
    FROM held
    GROUP BY sale_day
)

SELECT r.run_id, w.day,
       coalesce(s.carts, 0) AS source_carts, coalesce(h.carts, 0) AS warehouse_carts,
       coalesce(s.line_count, 0) AS source_lines, coalesce(h.line_count, 0) AS warehouse_lines,
       coalesce(s.units, 0) AS source_units, coalesce(h.units, 0) AS warehouse_units,
       coalesce(s.carts, 0) = coalesce(h.carts, 0)
       AND coalesce(s.line_count, 0) = coalesce(h.line_count, 0)
       AND coalesce(s.units, 0) = coalesce(h.units, 0) AS agrees
FROM sales_window AS w
CROSS JOIN sales_reconciliation_run AS r
LEFT JOIN source_days AS s ON w.day = s.day
LEFT JOIN warehouse_days AS h ON w.day = h.day;
