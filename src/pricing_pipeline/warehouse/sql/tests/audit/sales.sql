-- The audit's scope for the sales' singular tests (tests/sales/), run after whole_warehouse.sql and
-- only where the warehouse holds the sales marts (runs with --no-sales create none): the views a
-- sales load registers (sales.load.sales_views), holding every value the warehouse holds, so that
-- the same tests read the whole tables. run_days and run_category are whole_warehouse.sql's
-- widened to the days and categories of the sales, which a load books with the products of the
-- same days, but which a row changed outside the pipeline need not keep to. Temporary: the
-- audit's read-only connection writes nothing.
--
-- Reads:
--   staging.product_snapshots
--   staging.cart_lines
--   marts.products_eur
--   marts.sales_lines
--   marts.sales_daily
CREATE OR REPLACE TEMP VIEW run_days AS
SELECT DISTINCT snapshot_date AS day FROM staging.product_snapshots
UNION
SELECT DISTINCT day FROM marts.products_eur
UNION
SELECT DISTINCT booked_day AS day FROM marts.sales_lines;

CREATE OR REPLACE TEMP VIEW run_category AS
SELECT DISTINCT category FROM staging.product_snapshots
UNION
SELECT DISTINCT category FROM marts.products_eur
UNION
SELECT DISTINCT category FROM staging.cart_lines
UNION
SELECT DISTINCT category FROM marts.sales_lines
UNION
SELECT DISTINCT category FROM marts.sales_daily;

-- Every day a sale, a fact or a day's figures is dated: the window of every run together.
CREATE OR REPLACE TEMP VIEW sales_window AS
SELECT DISTINCT cart_day AS day FROM staging.cart_lines
UNION
SELECT DISTINCT sale_day AS day FROM marts.sales_lines
UNION
SELECT DISTINCT booked_day AS day FROM marts.sales_lines
UNION
SELECT DISTINCT day FROM marts.sales_daily;
