-- marts.sales_line_amounts: every sales fact in EUR and in each currency of the ECB publication in
-- force on its sale's day (its rate_date), one row per (booked_day, cart_id, product_id,
-- currency). A view, as marts.product_prices is, for the same reason: a function of the stored
-- fact and the stored rates.
--
-- The arithmetic of product_prices.sql (the macros of macros/minor_units.sql), applied to the
-- line's amount rather than to one unit: with c = quantity * USD cents, r and u the rate and the
-- USD rate in millionths and s = 10^minor_unit, marts.minor_units_half_up gives the amount in
-- minor units, floor((2 * c * r * s + 100 * u) / (200 * u)), rounded ONCE, half-up. A fact is the
-- change of its line's amount (quantity_before to quantity_after), as in sales_lines.sql, so a
-- line's facts add up to the line priced once. A currency the publication
-- does not hold gets no amount (no stale rate).
--
-- The quotients in BIGINT wherever they cannot overflow, HUGEINT elsewhere, as in
-- product_prices.sql: a day of a million lines is 31 M amounts. BIGINT when c, the larger of the
-- fact's two amounts in cents, is at most the rate's bigint_cents_limit (macros/minor_units.sql)
-- and u at most 10^12; a fact whose c or u is larger takes the HUGEINT branch.
--
-- Reads:
--   marts.sales_lines
--   marts.publication_rates  macro of macros/minor_units.sql: staging.exchange_rates and
--                            staging.currency_minor_units, each rate scaled to minor units
CREATE OR REPLACE VIEW marts.sales_line_amounts AS
-- Per fact, not per amount: c before and after and u, and their BIGINT copies where they are small
-- enough (else NULL, and the HUGEINT branch).
WITH facts AS (
    SELECT booked_day, sale_day, cart_id, product_id, category, kind, quantity, rate_date, usd_per_eur,
           CAST(usd_per_eur * 1000000 AS HUGEINT) AS usd_millionths,
           CAST(quantity_after AS HUGEINT) * CAST(price_usd * 100 AS HUGEINT) AS cents_after,
           CAST(quantity_before AS HUGEINT) * CAST(price_usd * 100 AS HUGEINT) AS cents_before
    FROM marts.sales_lines
),

bigint_facts AS (
    SELECT booked_day, sale_day, cart_id, product_id, category, kind, quantity, rate_date, usd_per_eur,
           cents_after, cents_before, usd_millionths,
           CASE WHEN fits THEN CAST(greatest(cents_after, cents_before) AS BIGINT) END AS cents_max_bigint,
           CASE WHEN fits THEN CAST(cents_after AS BIGINT) END AS cents_after_bigint,
           CASE WHEN fits THEN CAST(cents_before AS BIGINT) END AS cents_before_bigint,
           CASE WHEN fits THEN CAST(usd_millionths AS BIGINT) END AS usd_millionths_bigint
    FROM (
        SELECT *,
               (greatest(cents_after, cents_before) <= 4000000000000000000
                AND usd_millionths <= 1000000000000) AS fits
        FROM facts
    ) AS f
)

SELECT f.booked_day, f.sale_day, f.cart_id, f.product_id, r.currency, f.category, f.kind, f.quantity,
       CAST(CASE
           WHEN f.cents_max_bigint <= r.bigint_cents_limit
               THEN marts.minor_units_half_up(f.cents_after_bigint, r.rate_scaled_bigint, f.usd_millionths_bigint)
                   - marts.minor_units_half_up(f.cents_before_bigint, r.rate_scaled_bigint, f.usd_millionths_bigint)
           ELSE marts.minor_units_half_up(f.cents_after, r.rate_scaled, f.usd_millionths)
               - marts.minor_units_half_up(f.cents_before, r.rate_scaled, f.usd_millionths)
       END AS BIGINT) AS amount_minor,
       r.minor_unit, r.rate, f.usd_per_eur, f.rate_date
FROM bigint_facts AS f
INNER JOIN marts.publication_rates() AS r ON f.rate_date = r.rate_date;
