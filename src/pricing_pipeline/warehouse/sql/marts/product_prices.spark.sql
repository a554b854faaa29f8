-- sqlfluff:dialect:sparksql
-- marts.product_prices on Spark (product_prices.sql for DuckDB, whose header states the rule): a
-- view, made by each session. Spark has no table macros: macros/minor_units.sql's conversion is
-- written inline, in DECIMAL(38,0) throughout (DuckDB's HUGEINT; no BIGINT branch: under ANSI mode
-- Spark raises on a BIGINT overflow instead of taking the other branch). DIV gives the quotient,
-- floor((2 * c * r * s + 100 * u) / (200 * u)), as a BIGINT.
--
-- Reads:
--   staging.exchange_rates
--   staging.currency_minor_units
--   marts.products_eur
WITH published AS (
    SELECT rate_date, currency, rate FROM staging.exchange_rates
    UNION ALL
    SELECT rate_date, 'EUR' AS currency, CAST(1 AS DECIMAL(18, 6)) AS rate FROM staging.exchange_rates
    WHERE currency = 'USD'
),

scaled_rates AS (
    SELECT r.rate_date, r.currency, r.rate, u.minor_unit,
           CAST(r.rate * 1000000 AS DECIMAL(38, 0)) * u.minor_units_per_unit AS rate_scaled
    FROM published AS r
    INNER JOIN staging.currency_minor_units AS u ON r.currency = u.currency
),

products AS (
    SELECT day, product_id, title, category, price_usd, usd_per_eur, rate_date,
           CAST(price_usd * 100 AS DECIMAL(38, 0)) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS DECIMAL(38, 0)) AS usd_millionths
    FROM marts.products_eur
)

SELECT p.day, p.product_id, r.currency, p.title, p.category, p.price_usd, r.minor_unit, r.rate, p.usd_per_eur,
       p.rate_date,
       (2 * p.usd_cents * r.rate_scaled + 100 * p.usd_millionths) DIV (200 * p.usd_millionths) AS price_minor
FROM products AS p
INNER JOIN scaled_rates AS r ON p.rate_date = r.rate_date
