-- marts.product_prices: every product on every day, priced in each currency of the ECB publication
-- in force that day, and in EUR. One row per (day, product_id, currency).
--
-- A view, not a table: a price in another currency is a function of marts.products_eur (the USD
-- price, the USD rate and its date) and of the publication's rates, both stored. Stored, it was 31
-- rows per product and day (30 M a day for a million products, a billion a year for 100,000) that
-- each load wrote, each backup copied and each restore read back, for a join that DuckDB computes
-- in a fraction of a second when a day of it is read. A re-published rate is then in every price
-- read after it is merged; marts.products_eur keeps the USD rate the load used until its day is
-- loaded again. (BigQuery's version, bigquery/product_prices.sql, materializes the table: there a
-- query is paid by the bytes it reads, and the daily MERGE keeps it current.)
--
-- The publication in force on a day is the latest one on or before it (weekends and TARGET holidays
-- take the working day before): marts.products_eur has found it already (its rate_date, by an
-- as-of join on the USD rate, which every publication holds). A currency that publication does not
-- hold gets no price that day: rates are joined on that publication's date, never taken from an
-- older one (ISK was not published from 2008-12-10 to 2018-01-31; RUB stopped after 2022-03-01).
--
-- price = price_usd * rate / usd_per_eur (both rates per EUR, as published), rounded ONCE, half-up,
-- to the currency's minor unit. In integers: with c the USD cents, r and u the rate and the USD rate
-- in millionths and s = 10^minor_unit, the price in minor units is c * r * s / (100 * u), and
-- floor((2 * c * r * s + 100 * u) / (200 * u)) is that quotient rounded half-up: the macros of
-- macros/minor_units.sql, shared with marts.sales_line_amounts (marts.publication_rates(): r * s
-- per publication and currency; marts.minor_units_half_up: the quotient). No float, no cross
-- rate. price_minor is the price in minor units (cents; yen): 5290 with minor_unit 2 is 52.90.
--
-- Reads:
--   marts.products_eur
--   marts.publication_rates  macro of macros/minor_units.sql: staging.exchange_rates and
--                            staging.currency_minor_units, each rate scaled to minor units
CREATE OR REPLACE VIEW marts.product_prices AS
-- The integer factors are taken once per rate and once per product-day, not once per output row:
-- r * s per (publication, currency), c and u per (day, product).
-- The quotient in BIGINT wherever it cannot overflow (a price of at most the rate's
-- bigint_cents_limit), HUGEINT elsewhere (macros/minor_units.sql says why and where the limit is).
WITH products AS (
    SELECT day, product_id, title, category, price_usd, usd_per_eur, rate_date,
           CAST(price_usd * 100 AS BIGINT) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS BIGINT) AS usd_millionths
    FROM marts.products_eur
)

SELECT p.day, p.product_id, r.currency, p.title, p.category, p.price_usd,
       CAST(CASE
           WHEN p.usd_cents <= r.bigint_cents_limit
               THEN marts.minor_units_half_up(p.usd_cents, r.rate_scaled_bigint, p.usd_millionths)
           ELSE marts.minor_units_half_up(p.usd_cents, r.rate_scaled, p.usd_millionths)
       END AS BIGINT) AS price_minor,
       r.minor_unit, r.rate, p.usd_per_eur, p.rate_date
FROM products AS p
INNER JOIN marts.publication_rates() AS r ON p.rate_date = r.rate_date;
