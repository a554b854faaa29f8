-- The audit's scope: the views a load's data tests filter on (run_days, run_category,
-- run_rate_dates, warehouse/partitions.py), holding every value the warehouse holds, so that the
-- same tests read the whole tables. Temporary: the audit's read-only connection writes nothing.
--
-- Reads:
--   staging.exchange_rates
--   staging.product_snapshots
--   marts.products_eur
CREATE OR REPLACE TEMP VIEW run_days AS
SELECT DISTINCT snapshot_date AS day FROM staging.product_snapshots
UNION
SELECT DISTINCT day FROM marts.products_eur;

CREATE OR REPLACE TEMP VIEW run_category AS
SELECT DISTINCT category FROM staging.product_snapshots
UNION
SELECT DISTINCT category FROM marts.products_eur;

CREATE OR REPLACE TEMP VIEW run_rate_dates AS
SELECT DISTINCT rate_date FROM staging.exchange_rates;
