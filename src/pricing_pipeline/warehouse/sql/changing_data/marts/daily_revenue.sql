-- marts.daily_revenue: each day's revenue two ways, from the same fact rows.
--   booked_usd:   by the day the event happened: a return lowers the day of the return, so a
--                 return never changes a closed day (a late-arriving sale still adds to its own day).
--   restated_usd: by the day of the original order: a return lowers its order's day, so each
--                 day's sales are shown net of their returns, and past days change as returns come in.
-- Over any period that holds the orders and their returns, the two totals are equal.
--
-- Reads:
--   marts.fct_sales
CREATE OR REPLACE VIEW marts.daily_revenue AS
WITH attributed AS (
    SELECT f.event_date AS booked_on, f.amount_usd,
           coalesce(s.event_date, f.event_date) AS order_day
    FROM marts.fct_sales AS f
    LEFT JOIN marts.fct_sales AS s
      ON f.event_type = 'return' AND s.event_type = 'sale'
     AND f.order_id = s.order_id AND f.line_no = s.line_no
),

by_day AS (
    SELECT booked_on AS day, amount_usd AS booked, 0 AS restated FROM attributed
    UNION ALL
    SELECT order_day AS day, 0 AS booked, amount_usd AS restated FROM attributed
)

SELECT day,
       CAST(sum(booked) AS DECIMAL(12, 2)) AS booked_usd,
       CAST(sum(restated) AS DECIMAL(12, 2)) AS restated_usd
FROM by_day
GROUP BY day;
