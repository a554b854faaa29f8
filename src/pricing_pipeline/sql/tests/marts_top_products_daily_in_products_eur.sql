SELECT t.day, t.rank, t.product_id
FROM marts.top_products_daily AS t
ANTI JOIN marts.products_eur AS p
  ON p.day = t.day AND p.product_id = t.product_id AND p.price_eur = t.price_eur;
