-- ops.reconciliation: after each run, the source's current state (re-read after the load) against
-- the snapshot the run wrote for its last day: the same product ids, the same count, the same sum of
-- prices in cents. One row per check and run; a row with agrees = false fails the run.
--
-- Reads:
--   staging.product_snapshots
--   source_products            view registered by reconcile: the products re-read from the source
--   reconciliation_run         view registered by reconcile: run_id, snapshot_date, category (one row;
--                              category all: every category)
CREATE TABLE IF NOT EXISTS ops.reconciliation (
    run_id          VARCHAR NOT NULL,
    snapshot_date   DATE    NOT NULL,
    category        VARCHAR NOT NULL,
    check_name      VARCHAR NOT NULL,
    source_value    BIGINT  NOT NULL,
    warehouse_value BIGINT  NOT NULL,
    detail          VARCHAR NOT NULL,
    agrees          BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, check_name)
);

INSERT OR REPLACE INTO ops.reconciliation (
    run_id, snapshot_date, category, check_name, source_value, warehouse_value, detail, agrees
)
WITH source AS (
    SELECT product_id, CAST(CAST(price_usd AS DECIMAL(10, 2)) * 100 AS BIGINT) AS cents
    FROM source_products
),

warehouse AS (
    SELECT s.product_id, CAST(s.price_usd * 100 AS BIGINT) AS cents
    FROM staging.product_snapshots AS s
    WHERE s.snapshot_date = (SELECT r.snapshot_date FROM reconciliation_run AS r)
      -- The run's category; a run of category 'all' read the whole catalogue, so every category.
      AND (SELECT r.category FROM reconciliation_run AS r) IN (s.category, 'all')
),

only_in_source AS (
    SELECT product_id FROM source
    EXCEPT
    SELECT product_id FROM warehouse
),

only_in_warehouse AS (
    SELECT product_id FROM warehouse
    EXCEPT
    SELECT product_id FROM source
),

checks AS (
    SELECT 'product_count' AS check_name,
           (SELECT count(*) FROM source) AS source_value,
           (SELECT count(*) FROM warehouse) AS warehouse_value,
           '' AS detail
    UNION ALL
    SELECT 'price_sum_cents' AS check_name,
           (SELECT coalesce(sum(cents), 0) FROM source) AS source_value,
           (SELECT coalesce(sum(cents), 0) FROM warehouse) AS warehouse_value,
           '' AS detail
    UNION ALL
    SELECT 'ids_only_in_source' AS check_name,
           (SELECT count(*) FROM only_in_source) AS source_value,
           0 AS warehouse_value,
           coalesce(
               (SELECT string_agg(CAST(product_id AS VARCHAR), ',' ORDER BY product_id) FROM only_in_source), ''
           ) AS detail
    UNION ALL
    SELECT 'ids_only_in_warehouse' AS check_name,
           0 AS source_value,
           (SELECT count(*) FROM only_in_warehouse) AS warehouse_value,
           coalesce(
               (SELECT string_agg(CAST(product_id AS VARCHAR), ',' ORDER BY product_id) FROM only_in_warehouse), ''
           ) AS detail
)

SELECT r.run_id, r.snapshot_date, r.category, c.check_name, c.source_value, c.warehouse_value, c.detail,
       c.source_value = c.warehouse_value AS agrees
FROM checks AS c
CROSS JOIN reconciliation_run AS r;
