-- marts.product_versions: each product's history as type-2 versions, one row per (product_id,
-- valid_from), derived from the daily catalogue snapshots rather than kept by a MERGE of its own:
-- a snapshot is the full listing of a day, so a change (price, title, category) and a product gone
-- are both seen by comparing it with the day before, and a re-run of a day rebuilds the history
-- with the snapshot.
--
--   valid_from   the first day of the version (the snapshot that first listed it so)
--   valid_to     the first snapshot day of its category that no longer lists it so, or 9999-12-31
--                while the latest snapshot of its category does: a fact of day d joins the version
--                with valid_from <= d < valid_to
--   is_current   listed so by the latest snapshot of its category; a product gone from its
--                category has no current version, and its older sales keep joining theirs
--
-- "The day before" is the previous snapshot day of the product's category: days the pipeline did
-- not run are not gaps. A view, as marts.product_prices is: it costs the history when read (the
-- notebooks and the audit read it; a daily load never does).
--
-- Reads:
--   staging.product_snapshots
CREATE OR REPLACE VIEW marts.product_versions AS
WITH snapshots AS (
    SELECT snapshot_date, product_id, category, title, price_usd,
           md5(concat_ws('|', title, category, CAST(price_usd AS VARCHAR))) AS tracked
    FROM staging.product_snapshots
),

category_days AS (
    SELECT category, snapshot_date,
           lead(snapshot_date) OVER (PARTITION BY category ORDER BY snapshot_date) AS next_category_day
    FROM (SELECT DISTINCT category, snapshot_date FROM staging.product_snapshots) AS snapshot_days
),

-- A row opens a version when its product was listed otherwise, or not at all, on the day before.
starts AS (
    SELECT s.snapshot_date, s.product_id, s.category, s.title, s.price_usd, c.next_category_day,
           coalesce(
               lag(s.tracked) OVER by_day IS DISTINCT FROM s.tracked
               OR lag(c.next_category_day) OVER by_day IS DISTINCT FROM s.snapshot_date,
               TRUE
           ) AS opens
    FROM snapshots AS s
    INNER JOIN category_days AS c ON s.category = c.category AND s.snapshot_date = c.snapshot_date
    WINDOW by_day AS (PARTITION BY s.product_id ORDER BY s.snapshot_date)
),

numbered AS (
    SELECT *,
           CAST(sum(CAST(opens AS INTEGER)) OVER (PARTITION BY product_id ORDER BY snapshot_date) AS INTEGER)
               AS version_number
    FROM starts
)

SELECT product_id, version_number,
       min(snapshot_date) AS valid_from,
       -- Only the latest snapshot day of a category has no next day (and next days rise with the day).
       CASE WHEN count(next_category_day) < count(*) THEN DATE '9999-12-31' ELSE max(next_category_day) END
           AS valid_to,
       count(next_category_day) < count(*) AS is_current,
       arg_max(category, snapshot_date) AS category,
       arg_max(title, snapshot_date) AS title,
       arg_max(price_usd, snapshot_date) AS price_usd,
       count(*) AS days_listed
FROM numbered
GROUP BY product_id, version_number;
