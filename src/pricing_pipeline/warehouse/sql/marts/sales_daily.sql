-- marts.sales_daily: sales per day and category, one row per (basis, day, category), in USD and
-- EUR. basis 'booked' sums the facts by the day they were recorded (what the books said that
-- day); 'restated' by the day of the original sale (what each day sold, as known now). Units and
-- amounts: gross (sales, late and further sales), returns (as a positive figure) and net
-- (gross - returns). EUR sums the facts' amounts, each converted once (sales_lines.sql).
--
-- A run rebuilds its booked days and the restated days of its window: the only days whose facts
-- it can have changed.
--
-- Reads:
--   marts.sales_lines
--   run_days           view registered by sales.load.load_sales: the days the run books
--   run_category       view registered by sales.load.load_sales: the run's categories
--   sales_window       view registered by sales.load.load_sales: every day of the window read
CREATE TABLE IF NOT EXISTS marts.sales_daily (
    basis          VARCHAR        NOT NULL,
    day            DATE           NOT NULL,
    category       VARCHAR        NOT NULL,
    units_sold     BIGINT         NOT NULL,
    units_returned BIGINT         NOT NULL,
    net_units      BIGINT         NOT NULL,
    gross_usd      DECIMAL(18, 2) NOT NULL,
    returns_usd    DECIMAL(18, 2) NOT NULL,
    net_usd        DECIMAL(18, 2) NOT NULL,
    gross_eur      DECIMAL(18, 2) NOT NULL,
    returns_eur    DECIMAL(18, 2) NOT NULL,
    net_eur        DECIMAL(18, 2) NOT NULL,
    PRIMARY KEY (basis, day, category)
);

DELETE FROM marts.sales_daily
WHERE category IN (SELECT category FROM run_category)
  AND (
      (basis = 'booked' AND day IN (SELECT day FROM run_days))
      OR (basis = 'restated' AND day IN (SELECT day FROM sales_window))
  );

INSERT INTO marts.sales_daily (
    basis, day, category, units_sold, units_returned, net_units,
    gross_usd, returns_usd, net_usd, gross_eur, returns_eur, net_eur
)
WITH facts AS (
    SELECT 'booked' AS basis, booked_day AS day, category, quantity, amount_usd, amount_eur
    FROM marts.sales_lines
    WHERE booked_day IN (SELECT d.day FROM run_days AS d)
      AND category IN (SELECT c.category FROM run_category AS c)
    UNION ALL
    SELECT 'restated' AS basis, sale_day AS day, category, quantity, amount_usd, amount_eur
    FROM marts.sales_lines
    WHERE sale_day IN (SELECT w.day FROM sales_window AS w)
      AND category IN (SELECT c.category FROM run_category AS c)
)

SELECT basis, day, category,
       sum(greatest(quantity, 0)) AS units_sold,
       sum(greatest(-quantity, 0)) AS units_returned,
       sum(quantity) AS net_units,
       sum(CASE WHEN quantity > 0 THEN amount_usd ELSE 0 END) AS gross_usd,
       -sum(CASE WHEN quantity < 0 THEN amount_usd ELSE 0 END) AS returns_usd,
       sum(amount_usd) AS net_usd,
       sum(CASE WHEN quantity > 0 THEN amount_eur ELSE 0 END) AS gross_eur,
       -sum(CASE WHEN quantity < 0 THEN amount_eur ELSE 0 END) AS returns_eur,
       sum(amount_eur) AS net_eur
FROM facts
GROUP BY basis, day, category;
