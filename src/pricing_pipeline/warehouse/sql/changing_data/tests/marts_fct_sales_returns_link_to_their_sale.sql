-- Every return points at a sale of the same order line and product, no earlier than the sale,
-- refunds the price paid, and never returns more units than were sold.
--
-- Reads:
--   marts.fct_sales
SELECT r.order_id, r.line_no, sum(-r.quantity) AS returned, any_value(s.quantity) AS sold
FROM marts.fct_sales AS r
LEFT JOIN marts.fct_sales AS s
  ON s.event_type = 'sale' AND r.order_id = s.order_id AND r.line_no = s.line_no
WHERE r.event_type = 'return'
GROUP BY r.order_id, r.line_no
HAVING bool_or(s.event_id IS NULL)
    OR bool_or(s.product_id <> r.product_id)
    OR bool_or(r.event_date < s.event_date)
    OR bool_or(r.unit_price_usd <> s.unit_price_usd)
    OR bool_or(r.quantity >= 0)
    OR sum(-r.quantity) > any_value(s.quantity);
