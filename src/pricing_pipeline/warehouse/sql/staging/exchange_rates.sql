-- staging.exchange_rates: ECB reference rates against EUR, one row per (rate_date, currency).
-- Rates keep the ECB's own decimals (at most 6). A re-published rate replaces only its own key;
-- an unchanged one is not touched, so loading the same body twice changes nothing.
--
-- Reads:
--   incoming_exchange_rates  view registered by load_run: the run's tidy rates, as parsed
CREATE TABLE IF NOT EXISTS staging.exchange_rates (
    rate_date DATE           NOT NULL,
    base      VARCHAR        NOT NULL,
    currency  VARCHAR        NOT NULL,
    rate      DECIMAL(18, 6) NOT NULL,
    PRIMARY KEY (rate_date, currency)
);

MERGE INTO staging.exchange_rates AS target
USING (
    -- The transport is a float; rounding it to 6 decimals gives back the published decimal exactly.
    SELECT CAST(rate_date AS DATE) AS rate_date, base, currency, CAST(rate AS DECIMAL(18, 6)) AS rate
    FROM incoming_exchange_rates
) AS source
    ON target.rate_date = source.rate_date AND target.currency = source.currency
WHEN MATCHED AND (target.rate <> source.rate OR target.base <> source.base) THEN
    UPDATE SET base = source.base, rate = source.rate
WHEN NOT MATCHED THEN
    INSERT (rate_date, base, currency, rate) VALUES (source.rate_date, source.base, source.currency, source.rate);
