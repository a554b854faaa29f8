-- marts.sales_line_amounts: every sales fact in EUR and in each currency of the ECB publication in
-- force on its sale's day (its rate_date), one row per (booked_day, cart_id, product_id,
-- currency). A view, as marts.product_prices is, for the same reason: a function of the stored
-- fact and the stored rates.
--
-- The arithmetic of product_prices.sql (the macros of macros/minor_units.sql), applied to the
-- line's amount rather than to one unit: with c = quantity * USD cents, r and u the rate and the
-- USD rate in millionths and s = 10^minor_unit, marts.minor_units_half_up gives the amount in
-- minor units, floor((2 * c * r * s + 100 * u) / (200 * u)), rounded ONCE, half-up. HUGEINT
-- throughout: a line's quantity times its cents can take the product past BIGINT, and the facts
-- are few. A fact is the change of its line's amount (quantity_before to quantity_after), as in
-- sales_lines.sql, so a line's facts add up to the line priced once. A currency the publication
-- does not hold gets no amount (no stale rate).
--
-- Reads:
--   marts.sales_lines
--   marts.publication_rates  macro of macros/minor_units.sql: staging.exchange_rates and
--                            staging.currency_minor_units, each rate scaled to minor units
CREATE OR REPLACE VIEW marts.sales_line_amounts AS
WITH facts AS (
    SELECT booked_day, sale_day, cart_id, product_id, category, kind, quantity_before, quantity_after,
           quantity, rate_date, usd_per_eur,
           CAST(price_usd * 100 AS HUGEINT) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS HUGEINT) AS usd_millionths
    FROM marts.sales_lines
)

SELECT f.booked_day, f.sale_day, f.cart_id, f.product_id, r.currency, f.category, f.kind, f.quantity,
       CAST(
           marts.minor_units_half_up(f.quantity_after * f.usd_cents, r.rate_scaled, f.usd_millionths)
           - marts.minor_units_half_up(f.quantity_before * f.usd_cents, r.rate_scaled, f.usd_millionths)
           AS BIGINT
       ) AS amount_minor,
       r.minor_unit, r.rate, f.usd_per_eur, f.rate_date
FROM facts AS f
INNER JOIN marts.publication_rates() AS r ON f.rate_date = r.rate_date;
