-- marts.sales_lines: the sales facts, one row per (booked_day, cart_id, product_id). A cart line is
-- a sale of its product on the cart's day. What the source changes later is a new fact, booked on
-- the run day that saw it and linked to the line it corrects (sale_booked_day, cart_id,
-- product_id), as Fivetran's Shopify schema keeps refunds beside orders:
--
--   sale          a line first seen on its own day (a range run books each on its day)
--   late_sale     a line of a cart dated before the run's days, first seen now: on its own day
--   further_sale  a higher quantity than booked so far
--   return        a lower quantity, or the line or its cart gone from the window read
--
-- A run deletes and rebuilds only the facts it books (its days), compared with what the runs
-- before it booked: earlier days' facts are never rewritten, and a re-run leaves the same rows.
-- A fact is booked on max(sale_day, the run's first day): the first day a daily run could see it.
--
-- Every fact is priced as the line was when first sold: the USD price of the catalogue snapshot
-- in force on the sale's day (the latest on or before it; a sale older than every snapshot takes
-- the product's first snapshot), snapshot_date says which; and the ECB USD rate of the
-- publication in force that day (sales_rate_days: the TARGET working day on or before it). A
-- return thus refunds the price paid, never today's price.
--
-- Amounts are changes of the line's amount, so that a line's facts add up to the line as the
-- source holds it now, priced once: amount_eur = eur(quantity_after) - eur(quantity_before), with
-- eur(q) = q * cents * 10^6 / rate rounded ONCE, half-up, to the cent in integers, the
-- arithmetic of products_eur.sql (10 units at 9.85 USD at 1.0773 are 91.43 EUR, not 10 x 9.14).
--
-- Reads:
--   staging.cart_lines
--   staging.product_snapshots
--   staging.exchange_rates
--   run_days                   view registered by sales.load.load_sales: the days the run books
--   run_category               view registered by sales.load.load_sales: the run's categories
--   sales_window               view registered by sales.load.load_sales: every day of the window read
--   sales_rate_days            view registered by sales.load.load_sales: each window day's ECB publication
CREATE TABLE IF NOT EXISTS marts.sales_lines (
    booked_day      DATE           NOT NULL,
    sale_day        DATE           NOT NULL,
    cart_id         INTEGER        NOT NULL,
    product_id      INTEGER        NOT NULL,
    user_id         INTEGER        NOT NULL,
    category        VARCHAR        NOT NULL,
    kind            VARCHAR        NOT NULL,
    sale_booked_day DATE           NOT NULL,
    quantity_before INTEGER        NOT NULL,
    quantity_after  INTEGER        NOT NULL,
    quantity        INTEGER        NOT NULL,
    price_usd       DECIMAL(10, 2) NOT NULL,
    snapshot_date   DATE           NOT NULL,
    amount_usd      DECIMAL(18, 2) NOT NULL,
    amount_eur      DECIMAL(18, 2) NOT NULL,
    usd_per_eur     DECIMAL(18, 6) NOT NULL,
    rate_date       DATE           NOT NULL
    -- No PRIMARY KEY: the key is guaranteed by the data test of sales_lines.yml, on each load's
    -- partition, as in BigQuery.
);

DELETE FROM marts.sales_lines
WHERE booked_day IN (SELECT day FROM run_days)
  AND category IN (SELECT category FROM run_category);

INSERT INTO marts.sales_lines (
    booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day,
    quantity_before, quantity_after, quantity, price_usd, snapshot_date, amount_usd, amount_eur,
    usd_per_eur, rate_date
)
WITH run_start AS (
    SELECT min(day) AS day FROM run_days
),

-- What the runs before this one booked for the window's lines: the quantity they add up to, and
-- the line's first fact, which priced it.
held AS (
    SELECT f.cart_id, f.product_id,
           sum(f.quantity) AS quantity,
           min(f.booked_day) AS sale_booked_day,
           arg_min(f.sale_day, f.booked_day) AS sale_day,
           arg_min(f.user_id, f.booked_day) AS user_id,
           arg_min(f.category, f.booked_day) AS category,
           arg_min(f.price_usd, f.booked_day) AS price_usd,
           arg_min(f.snapshot_date, f.booked_day) AS snapshot_date,
           arg_min(f.usd_per_eur, f.booked_day) AS usd_per_eur,
           arg_min(f.rate_date, f.booked_day) AS rate_date
    FROM marts.sales_lines AS f
    WHERE f.sale_day IN (SELECT w.day FROM sales_window AS w)
      AND f.booked_day < (SELECT s.day FROM run_start AS s)
      AND f.category IN (SELECT c.category FROM run_category AS c)
    GROUP BY f.cart_id, f.product_id
),

source_lines AS (
    SELECT cart_day, cart_id, product_id, user_id, quantity, category
    FROM staging.cart_lines
    WHERE cart_day IN (SELECT w.day FROM sales_window AS w)
      AND category IN (SELECT c.category FROM run_category AS c)
),

new_lines AS (
    SELECT l.cart_day, l.cart_id, l.product_id, l.user_id, l.quantity, l.category
    FROM source_lines AS l
    ANTI JOIN held AS h ON l.cart_id = h.cart_id AND l.product_id = h.product_id
),

-- Only the snapshots of the products sold: the as-of join then reads no other product's history.
candidate_snapshots AS (
    SELECT snapshot_date, product_id, price_usd
    FROM staging.product_snapshots
    WHERE product_id IN (SELECT n.product_id FROM new_lines AS n)
),

first_snapshots AS (
    SELECT product_id, min(snapshot_date) AS snapshot_date, arg_min(price_usd, snapshot_date) AS price_usd
    FROM candidate_snapshots
    GROUP BY product_id
),

in_force AS (
    SELECT n.cart_id, n.product_id, s.snapshot_date, s.price_usd
    FROM new_lines AS n
    ASOF LEFT JOIN candidate_snapshots AS s ON n.product_id = s.product_id AND n.cart_day >= s.snapshot_date
),

usd_rates AS (
    SELECT d.day, r.rate_date, r.rate AS usd_per_eur
    FROM sales_rate_days AS d
    INNER JOIN staging.exchange_rates AS r ON d.rate_date = r.rate_date AND r.currency = 'USD'
),

facts AS (
    SELECT greatest(n.cart_day, s.day) AS booked_day, n.cart_day AS sale_day, n.cart_id, n.product_id,
           n.user_id, n.category,
           CASE WHEN n.cart_day >= s.day THEN 'sale' ELSE 'late_sale' END AS kind,
           greatest(n.cart_day, s.day) AS sale_booked_day,
           0 AS quantity_before, n.quantity AS quantity_after,
           coalesce(i.price_usd, f.price_usd) AS price_usd,
           coalesce(i.snapshot_date, f.snapshot_date) AS snapshot_date,
           r.usd_per_eur, r.rate_date
    FROM new_lines AS n
    CROSS JOIN run_start AS s
    LEFT JOIN in_force AS i ON n.cart_id = i.cart_id AND n.product_id = i.product_id
    LEFT JOIN first_snapshots AS f ON n.product_id = f.product_id
    LEFT JOIN usd_rates AS r ON n.cart_day = r.day

    UNION ALL

    -- A booked line whose quantity changed, or that is gone: the difference, priced as first sold.
    SELECT s.day AS booked_day, h.sale_day, h.cart_id, h.product_id, h.user_id, h.category,
           CASE WHEN coalesce(l.quantity, 0) > h.quantity THEN 'further_sale' ELSE 'return' END AS kind,
           h.sale_booked_day, h.quantity AS quantity_before, coalesce(l.quantity, 0) AS quantity_after,
           h.price_usd, h.snapshot_date, h.usd_per_eur, h.rate_date
    FROM held AS h
    CROSS JOIN run_start AS s
    LEFT JOIN source_lines AS l ON h.cart_id = l.cart_id AND h.product_id = l.product_id
    WHERE coalesce(l.quantity, 0) <> h.quantity
),

scaled AS (
    SELECT *,
           CAST(price_usd * 100 AS HUGEINT) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS HUGEINT) AS rate_millionths
    FROM facts
)

SELECT booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day,
       quantity_before, quantity_after, quantity_after - quantity_before AS quantity, price_usd, snapshot_date,
       (quantity_after - quantity_before) * price_usd AS amount_usd,
       -- floor((2 * cents * 10^6 + rate) / (2 * rate)): cents * 10^6 / rate rounded half-up, per quantity.
       CAST(
           (2 * quantity_after * usd_cents * 1000000 + rate_millionths) // (2 * rate_millionths)
           - (2 * quantity_before * usd_cents * 1000000 + rate_millionths) // (2 * rate_millionths)
           AS BIGINT
       ) * CAST(0.01 AS DECIMAL(3, 2)) AS amount_eur,
       usd_per_eur, rate_date
FROM scaled;
