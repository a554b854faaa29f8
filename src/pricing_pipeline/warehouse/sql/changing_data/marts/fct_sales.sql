-- marts.fct_sales: one row per sales event, keyed by the source's event id. A sale line and a
-- return are both events: a return is a NEW row (negative quantity and amount, on the day of the
-- return) that points at the order line it returns (order_id, line_no); the sale row is never
-- edited for it, so what was reported for a past day can always be reproduced.
--
-- The MERGE is idempotent: an event re-read (lookback, replay, backfill) matches its own row and
-- changes nothing; a row is updated only when the source changed it since it was loaded.
--
-- Reads:
--   raw.order_events
--   load_day          view registered by load_day: the day being loaded, one row
CREATE TABLE IF NOT EXISTS marts.fct_sales (
    event_id          VARCHAR        NOT NULL PRIMARY KEY,
    event_type        VARCHAR        NOT NULL,  -- sale | return
    order_id          INTEGER        NOT NULL,  -- a return's order and line: the line it returns
    line_no           INTEGER        NOT NULL,
    event_date        DATE           NOT NULL,  -- day of the sale, or day of the return
    product_id        INTEGER        NOT NULL,
    quantity          INTEGER        NOT NULL,  -- negative for a return
    unit_price_usd    DECIMAL(10, 2) NOT NULL,  -- the price paid on the order (a return refunds it)
    amount_usd        DECIMAL(12, 2) NOT NULL,  -- quantity * unit_price_usd, signed
    source_changed_on DATE           NOT NULL
);

MERGE INTO marts.fct_sales AS target
USING (
    -- Standardised to the table's rules: decimal money, returns signed negative, and only the
    -- latest version of an event if the extract holds several.
    SELECT e.event_id, e.event_type, e.order_id, e.line_no, e.event_date, e.product_id,
           CASE e.event_type WHEN 'return' THEN -e.quantity ELSE e.quantity END AS quantity,
           CAST(e.unit_price AS DECIMAL(10, 2)) AS unit_price_usd,
           CAST(
               CASE e.event_type WHEN 'return' THEN -e.quantity ELSE e.quantity END
               * CAST(e.unit_price AS DECIMAL(10, 2)) AS DECIMAL(12, 2)
           ) AS amount_usd,
           e.changed_on AS source_changed_on
    FROM raw.order_events AS e
    WHERE e.extracted_on = (SELECT d.day FROM load_day AS d)
    QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY e.changed_on DESC) = 1
) AS source
    ON target.event_id = source.event_id
WHEN MATCHED AND source.source_changed_on >= target.source_changed_on AND (
        target.quantity IS DISTINCT FROM source.quantity
     OR target.unit_price_usd IS DISTINCT FROM source.unit_price_usd
     OR target.product_id IS DISTINCT FROM source.product_id
     OR target.event_date IS DISTINCT FROM source.event_date
     OR target.source_changed_on IS DISTINCT FROM source.source_changed_on)
    THEN UPDATE SET
        event_type = source.event_type, order_id = source.order_id, line_no = source.line_no,
        event_date = source.event_date, product_id = source.product_id, quantity = source.quantity,
        unit_price_usd = source.unit_price_usd, amount_usd = source.amount_usd,
        source_changed_on = source.source_changed_on
WHEN NOT MATCHED THEN INSERT (
        event_id, event_type, order_id, line_no, event_date, product_id, quantity, unit_price_usd, amount_usd,
        source_changed_on
    ) VALUES (
        source.event_id, source.event_type, source.order_id, source.line_no, source.event_date, source.product_id,
        source.quantity, source.unit_price_usd, source.amount_usd, source.source_changed_on
    )
RETURNING merge_action, event_id, event_date;
