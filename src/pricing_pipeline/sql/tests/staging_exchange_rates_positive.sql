-- Every rate is positive.
--
-- Reads:
--   staging.exchange_rates
SELECT rate_date, currency, rate
FROM staging.exchange_rates
WHERE rate <= 0;
