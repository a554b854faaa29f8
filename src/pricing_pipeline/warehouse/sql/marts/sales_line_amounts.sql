-- marts.sales_line_amounts: every sales fact in EUR and in each currency of the ECB publication in
-- force on its sale's day (its rate_date), one row per (booked_day, cart_id, product_id,
-- currency). A view, as marts.product_prices is, for the same reason: a function of the stored
-- fact and the stored rates.
--
-- The arithmetic of product_prices.sql, applied to the line's amount rather than to one unit: with
-- c = quantity * USD cents, r and u the rate and the USD rate in millionths and s = 10^minor_unit,
-- the amount in minor units is floor((2 * c * r * s + 100 * u) / (200 * u)), rounded ONCE,
-- half-up. A fact is the change of its line's amount (quantity_before to quantity_after), as in
-- sales_lines.sql, so a line's facts add up to the line priced once. A currency the publication
-- does not hold gets no amount (no stale rate).
--
-- Reads:
--   marts.sales_lines
--   staging.exchange_rates
--   staging.currency_minor_units
CREATE OR REPLACE VIEW marts.sales_line_amounts AS
WITH published AS (
    SELECT rate_date, currency, rate FROM staging.exchange_rates
    UNION ALL
    SELECT rate_date, 'EUR' AS currency, CAST(1 AS DECIMAL(18, 6)) AS rate FROM staging.exchange_rates
    WHERE currency = 'USD'
),

scaled_rates AS (
    SELECT r.rate_date, r.currency, r.rate, u.minor_unit,
           CAST(CAST(r.rate AS DECIMAL(38, 6)) * 1000000 AS HUGEINT) * u.minor_units_per_unit AS rate_scaled
    FROM published AS r
    INNER JOIN staging.currency_minor_units AS u ON r.currency = u.currency
),

facts AS (
    SELECT booked_day, sale_day, cart_id, product_id, category, kind, quantity_before, quantity_after,
           quantity, rate_date, usd_per_eur,
           CAST(price_usd * 100 AS HUGEINT) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS HUGEINT) AS usd_millionths
    FROM marts.sales_lines
)

SELECT f.booked_day, f.sale_day, f.cart_id, f.product_id, r.currency, f.category, f.kind, f.quantity,
       CAST(
           (2 * f.quantity_after * f.usd_cents * r.rate_scaled + 100 * f.usd_millionths) // (200 * f.usd_millionths)
           - (2 * f.quantity_before * f.usd_cents * r.rate_scaled + 100 * f.usd_millionths)
           // (200 * f.usd_millionths)
           AS BIGINT
       ) AS amount_minor,
       r.minor_unit, r.rate, f.usd_per_eur, f.rate_date
FROM facts AS f
INNER JOIN scaled_rates AS r ON f.rate_date = r.rate_date;
