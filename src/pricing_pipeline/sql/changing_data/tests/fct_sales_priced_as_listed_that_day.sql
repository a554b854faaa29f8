-- Every sale was of a product listed on its day, at the price of the version in force that day
-- (a point-in-time join on the type-2 history).
SELECT s.event_id, s.event_date, s.product_id, s.unit_price_usd, d.price_usd AS listed_price
FROM marts.fct_sales AS s
LEFT JOIN marts.dim_products_history AS d
  ON d.product_id = s.product_id AND d.valid_from <= s.event_date AND s.event_date < d.valid_to
WHERE s.event_type = 'sale'
  AND (d.product_id IS NULL OR NOT d.listed OR d.price_usd <> s.unit_price_usd);
