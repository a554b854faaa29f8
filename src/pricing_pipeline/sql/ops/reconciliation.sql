-- ops.reconciliation: after each run, the source's current state (re-read after the load) against
-- the snapshot the run wrote for its last day: the same product ids, the same count, the same sum of
-- prices in cents. One row per check and run; a row with agrees = false fails the run. Reads
-- staging.product_snapshots and the views source_products and reconciliation_run (the run's id,
-- last day and category).
CREATE TABLE IF NOT EXISTS ops.reconciliation (
    run_id           VARCHAR NOT NULL,
    snapshot_date    DATE    NOT NULL,
    category         VARCHAR NOT NULL,
    check_name       VARCHAR NOT NULL,
    source_value     BIGINT  NOT NULL,
    warehouse_value  BIGINT  NOT NULL,
    detail           VARCHAR NOT NULL,
    agrees           BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, check_name)
);

INSERT OR REPLACE INTO ops.reconciliation
WITH source AS (
    SELECT product_id, CAST(price_usd::DECIMAL(10,2) * 100 AS BIGINT) AS cents FROM source_products
),
warehouse AS (
    SELECT product_id, CAST(price_usd * 100 AS BIGINT) AS cents
    FROM staging.product_snapshots
    WHERE snapshot_date = (SELECT snapshot_date FROM reconciliation_run)
      -- The run's category; a run of category 'all' read the whole catalogue, so every category.
      AND (SELECT category FROM reconciliation_run) IN (category, 'all')
),
only_in_source AS (SELECT product_id FROM source EXCEPT SELECT product_id FROM warehouse),
only_in_warehouse AS (SELECT product_id FROM warehouse EXCEPT SELECT product_id FROM source),
checks AS (
    SELECT 'product_count' AS check_name,
           (SELECT count(*) FROM source) AS source_value,
           (SELECT count(*) FROM warehouse) AS warehouse_value,
           '' AS detail
    UNION ALL
    SELECT 'price_sum_cents',
           (SELECT coalesce(sum(cents), 0) FROM source),
           (SELECT coalesce(sum(cents), 0) FROM warehouse),
           ''
    UNION ALL
    SELECT 'ids_only_in_source', (SELECT count(*) FROM only_in_source), 0,
           coalesce((SELECT string_agg(product_id::VARCHAR, ',' ORDER BY product_id) FROM only_in_source), '')
    UNION ALL
    SELECT 'ids_only_in_warehouse', 0, (SELECT count(*) FROM only_in_warehouse),
           coalesce((SELECT string_agg(product_id::VARCHAR, ',' ORDER BY product_id) FROM only_in_warehouse), '')
)
SELECT r.run_id, r.snapshot_date, r.category, c.check_name, c.source_value, c.warehouse_value, c.detail,
       c.source_value = c.warehouse_value AS agrees
FROM checks AS c CROSS JOIN reconciliation_run AS r;
