-- marts.sales_daily, on the run's window: gross and returns are never negative, net is gross less
-- returns, and the EUR figures of a day are those of its facts in marts.sales_line_amounts.
--
-- Reads:
--   marts.sales_daily
--   marts.sales_line_amounts
--   sales_window       view registered by sales.load.load_sales: every day of the window read
--   run_category       view registered by sales.load.load_sales: the run's categories
WITH days AS (
    SELECT * FROM marts.sales_daily
    WHERE day IN (SELECT w.day FROM sales_window AS w)
      AND category IN (SELECT c.category FROM run_category AS c)
),

restated_eur AS (
    SELECT sale_day AS day, category, sum(amount_minor) AS net_cents
    FROM marts.sales_line_amounts
    WHERE currency = 'EUR'
      AND sale_day IN (SELECT w.day FROM sales_window AS w)
      AND category IN (SELECT c.category FROM run_category AS c)
    GROUP BY sale_day, category
)

SELECT d.basis, d.day, d.category, 'negative or inconsistent figures' AS problem
FROM days AS d
WHERE d.units_sold < 0 OR d.units_returned < 0 OR d.gross_usd < 0 OR d.returns_usd < 0
   OR d.gross_eur < 0 OR d.returns_eur < 0
   OR d.net_units <> d.units_sold - d.units_returned
   OR d.net_usd <> d.gross_usd - d.returns_usd
   OR d.net_eur <> d.gross_eur - d.returns_eur
UNION ALL
SELECT d.basis, d.day, d.category, 'EUR net differs from the facts in every currency' AS problem
FROM days AS d
LEFT JOIN restated_eur AS e ON d.day = e.day AND d.category = e.category
WHERE d.basis = 'restated' AND (e.net_cents IS NULL OR CAST(d.net_eur * 100 AS BIGINT) <> e.net_cents);
