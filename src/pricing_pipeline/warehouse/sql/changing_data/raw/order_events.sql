-- raw.order_events: what the order system's incremental query returned on each day: every sale
-- line and return it changed after the watermark (minus a lookback), as received (returned units
-- positive). One partition per extraction day, replaced on a re-run, so a replay lands the same rows.
--
-- Reads:
--   incoming_order_events  view registered by load_day: the events changed since the watermark
--   load_day               view registered by load_day: the day being loaded, one row
CREATE TABLE IF NOT EXISTS raw.order_events (
    extracted_on DATE    NOT NULL,  -- the day of the load that read it
    event_id     VARCHAR NOT NULL,  -- the source's id: S-<order>-<line> for a sale, R-... for a return
    event_type   VARCHAR NOT NULL,  -- sale | return
    order_id     INTEGER NOT NULL,
    line_no      INTEGER NOT NULL,
    event_date   DATE    NOT NULL,  -- the day the sale or the return happened
    product_id   INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    unit_price   DOUBLE  NOT NULL,
    changed_on   DATE    NOT NULL,  -- the day the source last changed the record: the watermark column
    PRIMARY KEY (extracted_on, event_id)
);

DELETE FROM raw.order_events
WHERE extracted_on = (SELECT day FROM load_day);

INSERT INTO raw.order_events (
    extracted_on, event_id, event_type, order_id, line_no, event_date, product_id, quantity, unit_price, changed_on
)
SELECT (SELECT d.day FROM load_day AS d) AS extracted_on, e.event_id, e.event_type, e.order_id, e.line_no,
       CAST(e.event_date AS DATE) AS event_date, e.product_id, e.quantity, e.unit_price,
       CAST(e.changed_on AS DATE) AS changed_on
FROM incoming_order_events AS e;
