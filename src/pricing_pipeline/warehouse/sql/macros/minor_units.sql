-- The conversion of a USD amount into a currency's minor units, one definition for the two marts
-- that price in every currency: marts.product_prices (a unit) and marts.sales_line_amounts (a
-- line's quantity). Two macros:
--
--   marts.publication_rates()  every ECB publication's rates, EUR itself at 1 (the ECB quotes
--                              every currency per EUR), each with its currency's minor unit and
--                              rate_scaled = r * s: the rate in millionths times s = 10^minor_unit,
--                              an exact integer (HUGEINT: rates reach 10^6, TRL), with its
--                              BIGINT copy and bigint_cents_limit where BIGINT suffices
--   marts.minor_units_half_up(usd_cents, rate_scaled, usd_millionths)
--                              c * r * s / (100 * u) rounded ONCE, half-up, in integers:
--                              floor((2 * c * r * s + 100 * u) / (200 * u)), with c the USD cents
--                              and u the USD rate in millionths. No float, no cross rate.
--
-- Macros, not views or functions: DuckDB expands them where they are called, so each caller keeps
-- its own plan and types (product_prices calls the quotient in BIGINT wherever it cannot
-- overflow, ten times cheaper than HUGEINT). They are stored in the warehouse file like the views
-- that call them (EXPORT DATABASE writes them before the views, IMPORT DATABASE makes them
-- again), and each load makes them again before its models (transform.load, sales.load:
-- warehouse.connection.create_macros), so a warehouse of an earlier version gets them on its next
-- load. The BigQuery statements (sql/bigquery/) write the same arithmetic inline: a BigQuery
-- script cannot include a file, and a view cannot call a temporary function.
--
-- Reads:
--   staging.exchange_rates
--   staging.currency_minor_units
CREATE OR REPLACE MACRO marts.publication_rates() AS TABLE
WITH published AS (
    SELECT rate_date, currency, rate FROM staging.exchange_rates
    UNION ALL
    SELECT rate_date, 'EUR' AS currency, CAST(1 AS DECIMAL(18, 6)) AS rate FROM staging.exchange_rates
    WHERE currency = 'USD'
),

exact AS (
    SELECT r.rate_date, r.currency, r.rate, u.minor_unit,
           -- DECIMAL(38,6) first: rates reach 10^6 (TRL), and 10^6 * 10^6 overflows DECIMAL(18,6).
           CAST(CAST(r.rate AS DECIMAL(38, 6)) * 1000000 AS HUGEINT) * u.minor_units_per_unit AS rate_scaled
    FROM published AS r
    INNER JOIN staging.currency_minor_units AS u ON r.currency = u.currency
)

-- The BIGINT copy of r * s, and the largest USD cents c whose quotient stays in BIGINT: with
-- c <= 4 * 10^18 / (r * s) and u < 10^12, 2 * c * r * s + 100 * u stays below 2^63. r * s above
-- 4 * 10^18 has no BIGINT copy and a limit of -1 (every amount takes the HUGEINT branch). A
-- HUGEINT division costs ten times a BIGINT one, and the callers divide per output row.
SELECT rate_date, currency, rate, minor_unit, rate_scaled,
       CASE WHEN rate_scaled <= 4000000000000000000 THEN CAST(rate_scaled AS BIGINT) END AS rate_scaled_bigint,
       CASE
           WHEN rate_scaled <= 4000000000000000000 THEN CAST(4000000000000000000 // rate_scaled AS BIGINT)
           ELSE -1
       END AS bigint_cents_limit
FROM exact;

-- Untyped parameters: the quotient is computed in the caller's integer type (BIGINT or HUGEINT).
CREATE OR REPLACE MACRO marts.minor_units_half_up(usd_cents, rate_scaled, usd_millionths) AS
(2 * usd_cents * rate_scaled + 100 * usd_millionths) // (200 * usd_millionths);
