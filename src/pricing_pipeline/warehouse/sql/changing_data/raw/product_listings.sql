-- raw.product_listings: the category's listing as the catalogue API answered it on each day, one
-- row per (listing_date, product_id). The API has no change feed, so every day lands a full
-- snapshot; re-landing a day replaces that day's partition, so a replay lands the same rows.
--
-- Reads:
--   incoming_listing  view registered by load_day: the day's listing from the source
--   load_day          view registered by load_day: the day being loaded, one row
CREATE TABLE IF NOT EXISTS raw.product_listings (
    listing_date DATE    NOT NULL,
    product_id   INTEGER NOT NULL,
    title        VARCHAR NOT NULL,
    category     VARCHAR NOT NULL,
    price_usd    DOUBLE  NOT NULL,  -- as received; staged to DECIMAL by the dimension's MERGE
    PRIMARY KEY (listing_date, product_id)
);

DELETE FROM raw.product_listings
WHERE listing_date = (SELECT day FROM load_day);

INSERT INTO raw.product_listings (listing_date, product_id, title, category, price_usd)
SELECT (SELECT d.day FROM load_day AS d) AS listing_date, i.product_id, i.title, i.category, i.price_usd
FROM incoming_listing AS i;
