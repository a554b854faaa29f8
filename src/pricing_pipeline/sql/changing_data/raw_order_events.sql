-- raw.order_events: what the order system's incremental query returned on each day: every sale
-- line and return it changed after the watermark (minus a lookback), as received (returned units
-- positive). One partition per extraction day, replaced on a re-run, so a replay lands the same rows.
CREATE TABLE IF NOT EXISTS raw.order_events (
    extracted_on  DATE     NOT NULL,  -- the day of the load that read it
    event_id      VARCHAR  NOT NULL,  -- the source's id: S-<order>-<line> for a sale, R-... for a return
    event_type    VARCHAR  NOT NULL,  -- sale | return
    order_id      INTEGER  NOT NULL,
    line_no       INTEGER  NOT NULL,
    event_date    DATE     NOT NULL,  -- the day the sale or the return happened
    product_id    INTEGER  NOT NULL,
    quantity      INTEGER  NOT NULL,
    unit_price    DOUBLE   NOT NULL,
    changed_on    DATE     NOT NULL,  -- the day the source last changed the record: the watermark column
    PRIMARY KEY (extracted_on, event_id)
);

DELETE FROM raw.order_events WHERE extracted_on = (SELECT day FROM load_day);

INSERT INTO raw.order_events
SELECT (SELECT day FROM load_day), event_id, event_type, order_id, line_no, event_date::DATE,
       product_id, quantity, unit_price, changed_on::DATE
FROM incoming_order_events;
