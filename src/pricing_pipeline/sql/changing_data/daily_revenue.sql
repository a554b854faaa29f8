-- marts.daily_revenue: each day's revenue two ways, from the same fact rows.
--   booked_usd:   by the day the event happened: a return lowers the day of the return, so a
--                 return never changes a closed day (a late-arriving sale still adds to its own day).
--   restated_usd: by the day of the original order: a return lowers its order's day, so each
--                 day's sales are shown net of their returns, and past days change as returns come in.
-- Over any period that holds the orders and their returns, the two totals are equal.
CREATE OR REPLACE VIEW marts.daily_revenue AS
WITH attributed AS (
    SELECT f.event_date AS booked_on,
           coalesce(s.event_date, f.event_date) AS order_day,
           f.amount_usd
    FROM marts.fct_sales AS f
    LEFT JOIN marts.fct_sales AS s
      ON f.event_type = 'return' AND s.event_type = 'sale'
     AND s.order_id = f.order_id AND s.line_no = f.line_no
),
by_day AS (
    SELECT booked_on AS day, amount_usd AS booked, 0 AS restated FROM attributed
    UNION ALL
    SELECT order_day, 0, amount_usd FROM attributed
)
SELECT day, sum(booked)::DECIMAL(12,2) AS booked_usd, sum(restated)::DECIMAL(12,2) AS restated_usd
FROM by_day
GROUP BY day;
