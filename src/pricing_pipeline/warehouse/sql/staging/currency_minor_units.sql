-- staging.currency_minor_units: the minor unit (decimals of a price) of each currency the warehouse
-- prices in, one row per currency, built in Python from the iso-4217 package (ISO 4217 list one)
-- and, for codes withdrawn from it, CLDR's currency data (pricing_pipeline/currencies.py): never
-- typed by hand. minor_units_per_unit is 10^minor_unit as an integer (100 for USD, 1 for JPY), so
-- prices scale without a power taken in floats.
--
-- Reads:
--   incoming_currency_minor_units  view registered by load_run: the minor unit of each currency
CREATE TABLE IF NOT EXISTS staging.currency_minor_units (
    currency             VARCHAR NOT NULL,
    minor_unit           INTEGER NOT NULL,
    minor_units_per_unit BIGINT  NOT NULL,
    source               VARCHAR NOT NULL,
    PRIMARY KEY (currency)
);

MERGE INTO staging.currency_minor_units AS target
USING incoming_currency_minor_units AS incoming
ON target.currency = incoming.currency
WHEN MATCHED AND (
    target.minor_unit <> incoming.minor_unit
    OR target.minor_units_per_unit <> incoming.minor_units_per_unit
    OR target.source <> incoming.source
) THEN UPDATE SET
    minor_unit = incoming.minor_unit,
    minor_units_per_unit = incoming.minor_units_per_unit,
    source = incoming.source
WHEN NOT MATCHED THEN INSERT (currency, minor_unit, minor_units_per_unit, source)
    VALUES (incoming.currency, incoming.minor_unit, incoming.minor_units_per_unit, incoming.source);
