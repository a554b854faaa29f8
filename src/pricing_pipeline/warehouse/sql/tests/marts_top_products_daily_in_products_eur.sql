-- Every ranked product is a row of marts.products_eur on its day, at the same EUR price.
-- Partition-local: each row is checked against the same day and category of marts.products_eur.
--
-- Reads:
--   marts.top_products_daily
--   marts.products_eur
SELECT t.day, t.rank, t.product_id
FROM marts.top_products_daily AS t
ANTI JOIN marts.products_eur AS p
  ON t.day = p.day AND t.product_id = p.product_id AND t.price_eur = p.price_eur;
