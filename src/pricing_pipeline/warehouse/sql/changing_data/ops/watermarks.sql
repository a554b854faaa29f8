-- ops.watermarks: the latest source change day loaded, per source. The next load asks the source
-- for what changed after it (minus a lookback: the MERGE makes re-reading harmless). It moves in
-- the same transaction as the load, so a failed day is read again by the next run; it never moves
-- back, except when a backfill deletes it on purpose.
--
-- Reads:
--   raw.order_events
--   load_day          view registered by load_day: the day being loaded, one row
CREATE TABLE IF NOT EXISTS ops.watermarks (
    source     VARCHAR NOT NULL PRIMARY KEY,
    high_water DATE    NOT NULL
);

MERGE INTO ops.watermarks AS target
USING (
    SELECT 'order_events' AS source, max(e.changed_on) AS high_water
    FROM raw.order_events AS e
    WHERE e.extracted_on = (SELECT d.day FROM load_day AS d)
    HAVING max(e.changed_on) IS NOT NULL
) AS source
    ON target.source = source.source
WHEN MATCHED AND source.high_water > target.high_water THEN UPDATE SET high_water = source.high_water
WHEN NOT MATCHED THEN INSERT (source, high_water) VALUES (source.source, source.high_water);
