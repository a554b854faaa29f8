-- marts.dim_products_history: every version of every product (slowly changing dimension, type 2).
-- A version holds from valid_from (inclusive) to valid_to (exclusive); the current one ends on
-- 9999-12-31. A change of a tracked attribute (title, price, being listed) closes the version in
-- force and opens a new one on the day of the listing; a product that leaves the category gets a
-- version with listed = false, so every product keeps exactly one current row.
--
-- The listing is compared with the version in force ON ITS OWN DAY, not with the latest one: a
-- replayed (backfilled) day finds its own version unchanged and does nothing. A replayed day that
-- differs from what was loaded would overlap a later version; the data tests reject it.
--
-- Reads:
--   raw.product_listings
--   load_day              view registered by load_day: the day being loaded, one row
CREATE TABLE IF NOT EXISTS marts.dim_products_history (
    product_id INTEGER        NOT NULL,
    valid_from DATE           NOT NULL,
    valid_to   DATE           NOT NULL,
    is_current BOOLEAN        NOT NULL,
    listed     BOOLEAN        NOT NULL,  -- in the category's listing; false once it has left
    price_usd  DECIMAL(10, 2) NOT NULL,
    title      VARCHAR        NOT NULL,
    row_hash   VARCHAR        NOT NULL,  -- md5 of the tracked attributes
    PRIMARY KEY (product_id, valid_from)
);

MERGE INTO marts.dim_products_history AS target
USING (
    WITH listing AS (
        SELECT l.product_id, l.title, CAST(l.price_usd AS DECIMAL(10, 2)) AS price_usd, TRUE AS listed
        FROM raw.product_listings AS l
        WHERE l.listing_date = (SELECT d.day FROM load_day AS d)
    ),

    incoming AS (
        SELECT *, md5(concat_ws('|', title, price_usd, listed)) AS row_hash FROM listing
    ),

    in_force AS (
        SELECT h.* FROM marts.dim_products_history AS h
        WHERE h.valid_from <= (SELECT d.day FROM load_day AS d) AND (SELECT d.day FROM load_day AS d) < h.valid_to
    ),

    new_versions AS (
        -- a new product, or one whose tracked attributes changed
        SELECT i.product_id, i.title, i.price_usd, i.listed, i.row_hash
        FROM incoming AS i
        LEFT JOIN in_force AS f ON i.product_id = f.product_id
        WHERE f.product_id IS NULL OR f.row_hash <> i.row_hash
        UNION ALL
        -- a listed product missing from the listing: it left the category
        SELECT f.product_id, f.title, f.price_usd, FALSE AS listed,
               md5(concat_ws('|', f.title, f.price_usd, FALSE)) AS row_hash
        FROM in_force AS f
        ANTI JOIN incoming AS i ON f.product_id = i.product_id
        WHERE f.listed
    )

    -- Each change comes twice: keyed on the version in force, to close it (WHEN MATCHED), and with
    -- a NULL key that matches nothing, to insert the new version (WHEN NOT MATCHED).
    SELECT f.valid_from AS merge_valid_from, n.*
    FROM new_versions AS n INNER JOIN in_force AS f ON n.product_id = f.product_id
    UNION ALL
    SELECT CAST(NULL AS DATE) AS merge_valid_from, n.*
    FROM new_versions AS n
) AS changes
    ON target.product_id = changes.product_id AND target.valid_from = changes.merge_valid_from
WHEN MATCHED THEN UPDATE SET
    valid_to = (SELECT d.day FROM load_day AS d),
    is_current = FALSE
WHEN NOT MATCHED THEN INSERT (product_id, valid_from, valid_to, is_current, listed, price_usd, title, row_hash)
    VALUES (changes.product_id, (SELECT d.day FROM load_day AS d), DATE '9999-12-31', TRUE, changes.listed,
            changes.price_usd, changes.title, changes.row_hash)
RETURNING merge_action, product_id, valid_from;
