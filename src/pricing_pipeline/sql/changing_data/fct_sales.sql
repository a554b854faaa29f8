-- marts.fct_sales: one row per sales event, keyed by the source's event id. A sale line and a
-- return are both events: a return is a NEW row (negative quantity and amount, on the day of the
-- return) that points at the order line it returns (order_id, line_no); the sale row is never
-- edited for it, so what was reported for a past day can always be reproduced.
--
-- The MERGE is idempotent: an event re-read (lookback, replay, backfill) matches its own row and
-- changes nothing; a row is updated only when the source changed it since it was loaded.
CREATE TABLE IF NOT EXISTS marts.fct_sales (
    event_id           VARCHAR       NOT NULL PRIMARY KEY,
    event_type         VARCHAR       NOT NULL,  -- sale | return
    order_id           INTEGER       NOT NULL,  -- a return's order and line: the line it returns
    line_no            INTEGER       NOT NULL,
    event_date         DATE          NOT NULL,  -- day of the sale, or day of the return
    product_id         INTEGER       NOT NULL,
    quantity           INTEGER       NOT NULL,  -- negative for a return
    unit_price_usd     DECIMAL(10,2) NOT NULL,  -- the price paid on the order (a return refunds it)
    amount_usd         DECIMAL(12,2) NOT NULL,  -- quantity * unit_price_usd, signed
    source_changed_on  DATE          NOT NULL
);

MERGE INTO marts.fct_sales AS target
USING (
    -- Standardised to the table's rules: decimal money, returns signed negative, and only the
    -- latest version of an event if the extract holds several.
    SELECT event_id, event_type, order_id, line_no, event_date, product_id,
           CASE event_type WHEN 'return' THEN -quantity ELSE quantity END AS quantity,
           unit_price::DECIMAL(10,2) AS unit_price_usd,
           (CASE event_type WHEN 'return' THEN -quantity ELSE quantity END
               * unit_price::DECIMAL(10,2))::DECIMAL(12,2) AS amount_usd,
           changed_on AS source_changed_on
    FROM raw.order_events
    WHERE extracted_on = (SELECT day FROM load_day)
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY changed_on DESC) = 1
) AS source
ON target.event_id = source.event_id
WHEN MATCHED AND source.source_changed_on >= target.source_changed_on AND (
        target.quantity IS DISTINCT FROM source.quantity
     OR target.unit_price_usd IS DISTINCT FROM source.unit_price_usd
     OR target.product_id IS DISTINCT FROM source.product_id
     OR target.event_date IS DISTINCT FROM source.event_date
     OR target.source_changed_on IS DISTINCT FROM source.source_changed_on)
    THEN UPDATE
WHEN NOT MATCHED THEN INSERT
RETURNING merge_action, event_id, event_date;
