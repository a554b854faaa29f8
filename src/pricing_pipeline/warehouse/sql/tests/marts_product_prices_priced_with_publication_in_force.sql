-- marts.product_prices, on the run's days: each row uses the rates of its rate_date as published
-- (EUR at 1), that publication is the latest one on or before the day, and the day's prices of a
-- product cover exactly the currencies of that publication and EUR: none missing, none taken from an
-- older publication.
-- Audit-only: the view joins each product-day to the publication of its rate_date, which
-- marts_products_eur_priced_with_rate_in_force checks is the one in force; in a load, that test and
-- marts_product_prices_inputs_price_each_currency_once (every currency priced once) catch these faults.
-- Partition-local: each product-day is checked against the rates of its day, in the load's window.
--
-- Reads:
--   staging.exchange_rates
--   marts.product_prices
--   run_days                view registered by load_run (run_views): the days the run rebuilds
WITH publications AS (
    SELECT rate_date, currency, rate FROM staging.exchange_rates
    UNION ALL
    SELECT rate_date, 'EUR' AS currency, 1 AS rate FROM staging.exchange_rates
    WHERE currency = 'USD'
),

rows_of_run AS (
    SELECT * FROM marts.product_prices
    WHERE day IN (SELECT d.day FROM run_days AS d)
),

wrong_rate AS (
    SELECT p.day, p.product_id, p.currency, 'rate not as published on rate_date' AS problem
    FROM rows_of_run AS p
    LEFT JOIN publications AS r ON p.rate_date = r.rate_date AND p.currency = r.currency AND p.rate = r.rate
    LEFT JOIN publications AS u ON p.rate_date = u.rate_date AND u.currency = 'USD' AND p.usd_per_eur = u.rate
    WHERE r.rate_date IS NULL OR u.rate_date IS NULL
),

not_in_force AS (
    SELECT p.day, p.product_id, p.currency, 'a later publication was in force' AS problem
    FROM rows_of_run AS p
    WHERE p.rate_date > p.day
       OR EXISTS (SELECT 1 FROM staging.exchange_rates AS later
                  WHERE later.currency = 'USD' AND later.rate_date > p.rate_date AND later.rate_date <= p.day)
),

currency_counts AS (
    SELECT day, product_id, any_value(rate_date) AS rate_date, count(DISTINCT rate_date) AS publications,
           count(*) AS currencies
    FROM rows_of_run
    GROUP BY day, product_id
),

incomplete AS (
    SELECT c.day, c.product_id, NULL AS currency, 'not every currency of the publication' AS problem
    FROM currency_counts AS c
    WHERE c.publications <> 1
       OR c.currencies <> (
           SELECT count(*) FROM publications AS r
           WHERE r.rate_date = c.rate_date
       )
)

SELECT * FROM wrong_rate
UNION ALL
SELECT * FROM not_in_force
UNION ALL
SELECT * FROM incomplete;
