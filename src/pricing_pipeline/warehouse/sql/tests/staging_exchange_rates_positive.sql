-- Every rate is positive.
-- Partition-local: each row is checked on its own.
--
-- Reads:
--   staging.exchange_rates
SELECT rate_date, currency, rate
FROM staging.exchange_rates
WHERE rate <= 0;
