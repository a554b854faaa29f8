-- marts.product_prices: each price of the run's days is the exact price rounded half-up, checked by
-- multiplication instead of the mart's division: with q = price_usd * rate / usd_per_eur in minor
-- units, p is q rounded half-up iff p - 1/2 <= q < p + 1/2, i.e.
-- (2p - 1) * 100 * u <= 2 * c * r * s < (2p + 1) * 100 * u (c cents, r and u rates in millionths).
WITH terms AS (
    SELECT p.day, p.product_id, p.currency, p.price_minor,
           2 * CAST(p.price_usd * 100 AS HUGEINT) * CAST(p.rate::DECIMAL(38,6) * 1000000 AS HUGEINT) * u.minor_units_per_unit
               AS twice_exact,
           100 * CAST(p.usd_per_eur * 1000000 AS HUGEINT) AS usd_term
    FROM marts.product_prices AS p
    INNER JOIN staging.currency_minor_units AS u ON u.currency = p.currency
    WHERE p.day IN (SELECT day FROM run_days)
)
SELECT day, product_id, currency, price_minor
FROM terms
WHERE NOT ((2 * price_minor - 1) * usd_term <= twice_exact AND twice_exact < (2 * price_minor + 1) * usd_term);
