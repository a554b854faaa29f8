-- Every sale was of a product listed on its day, at the price of the version in force that day
-- (a point-in-time join on the type-2 history).
--
-- Reads:
--   marts.fct_sales
--   marts.dim_products_history
SELECT s.event_id, s.event_date, s.product_id, s.unit_price_usd, d.price_usd AS listed_price
FROM marts.fct_sales AS s
LEFT JOIN marts.dim_products_history AS d
  ON s.product_id = d.product_id AND s.event_date >= d.valid_from AND s.event_date < d.valid_to
WHERE s.event_type = 'sale'
  AND (d.product_id IS NULL OR NOT d.listed OR d.price_usd <> s.unit_price_usd);
