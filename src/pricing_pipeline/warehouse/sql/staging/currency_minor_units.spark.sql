-- sqlfluff:dialect:sparksql
-- staging.currency_minor_units on Spark (currency_minor_units.sql for DuckDB): Spark has no MERGE,
-- so this is the table the MERGE leaves: every incoming currency, and every stored one the run does
-- not price in. The engine overwrites the whole (unpartitioned) table with these rows.
--
-- Reads:
--   incoming_currency_minor_units  view registered by load_run_spark: the minor unit of each currency
--   staging.currency_minor_units
SELECT currency, minor_unit, minor_units_per_unit, source FROM incoming_currency_minor_units
UNION ALL
SELECT s.currency, s.minor_unit, s.minor_units_per_unit, s.source
FROM staging.currency_minor_units AS s
LEFT ANTI JOIN incoming_currency_minor_units AS i ON s.currency = i.currency
