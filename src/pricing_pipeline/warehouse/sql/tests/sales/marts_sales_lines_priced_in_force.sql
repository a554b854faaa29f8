-- marts.sales_lines, on the facts the run booked: a line's first fact is priced by the catalogue
-- snapshot in force on its sale's day (the latest on or before it, else the product's first) at
-- that snapshot's price, and by the ECB publication in force that day (no USD publication after
-- rate_date and on or before sale_day; rate_date not after sale_day) at its published USD rate.
-- Every later fact of the line is priced as its first fact was.
--
-- Reads:
--   marts.sales_lines
--   staging.product_snapshots
--   staging.exchange_rates
--   run_days           view registered by sales.load.load_sales: the days the run books
--   run_category       view registered by sales.load.load_sales: the run's categories
WITH booked AS (
    SELECT * FROM marts.sales_lines
    WHERE booked_day IN (SELECT d.day FROM run_days AS d)
      AND category IN (SELECT c.category FROM run_category AS c)
),

firsts AS (
    SELECT f.cart_id, f.product_id, f.sale_day, f.price_usd, f.snapshot_date, f.usd_per_eur, f.rate_date
    FROM marts.sales_lines AS f
    INNER JOIN booked AS b ON f.cart_id = b.cart_id AND f.product_id = b.product_id
    WHERE f.kind IN ('sale', 'late_sale')
),

snapshot_wrong AS (
    SELECT b.booked_day, b.cart_id, b.product_id, 'price or snapshot not the one in force' AS problem
    FROM booked AS b
    LEFT JOIN staging.product_snapshots AS s
        ON b.product_id = s.product_id AND b.snapshot_date = s.snapshot_date AND b.price_usd = s.price_usd
    WHERE b.kind IN ('sale', 'late_sale')
      AND (
          s.product_id IS NULL
          OR (b.snapshot_date <= b.sale_day AND EXISTS (
              SELECT 1 FROM staging.product_snapshots AS later
              WHERE later.product_id = b.product_id
                AND later.snapshot_date > b.snapshot_date AND later.snapshot_date <= b.sale_day
          ))
          OR (b.snapshot_date > b.sale_day AND EXISTS (
              SELECT 1 FROM staging.product_snapshots AS earlier
              WHERE earlier.product_id = b.product_id AND earlier.snapshot_date < b.snapshot_date
          ))
      )
),

rate_wrong AS (
    SELECT b.booked_day, b.cart_id, b.product_id, 'USD rate not the publication in force' AS problem
    FROM booked AS b
    LEFT JOIN staging.exchange_rates AS r
        ON b.rate_date = r.rate_date AND r.currency = 'USD' AND b.usd_per_eur = r.rate
    WHERE r.rate_date IS NULL
       OR b.rate_date > b.sale_day
       OR EXISTS (
           SELECT 1 FROM staging.exchange_rates AS later
           WHERE later.currency = 'USD' AND later.rate_date > b.rate_date AND later.rate_date <= b.sale_day
       )
),

not_as_first AS (
    SELECT b.booked_day, b.cart_id, b.product_id, 'priced otherwise than the line first was' AS problem
    FROM booked AS b
    LEFT JOIN firsts AS f ON b.cart_id = f.cart_id AND b.product_id = f.product_id
    WHERE f.cart_id IS NULL
       OR b.sale_day <> f.sale_day
       OR b.price_usd <> f.price_usd
       OR b.snapshot_date <> f.snapshot_date
       OR b.usd_per_eur <> f.usd_per_eur
       OR b.rate_date <> f.rate_date
)

SELECT * FROM snapshot_wrong
UNION ALL
SELECT * FROM rate_wrong
UNION ALL
SELECT * FROM not_as_first;
