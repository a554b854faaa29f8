-- The daily increment of `pricing.sales_lines` (sql/bigquery/sales_lines.sql) in BigQuery's
-- dialect: the facts a run books on its days, @run_start..@run_end (one day for a daily run),
-- from the lines of its window (those days and the @lookback_days before them) compared with what
-- the runs before it booked. The semantics of sql/marts/sales_lines.sql, every category:
--
--   sale          a line first seen on its own day
--   late_sale     a line of a cart dated before @run_start, first seen now: booked on @run_start
--   further_sale  a higher quantity than booked so far, booked on @run_start
--   return        a lower quantity, or the line or its cart gone from the window, on @run_start
--
-- Reads:
--   pricing.cart_lines         the source's cart lines, the window's as this run read them
--   pricing.product_snapshots
--   pricing.exchange_rates
-- and the target itself, pricing.sales_lines: the facts the runs before this one booked.
--
-- One MERGE, an atomic statement: the run's booked days are deleted (NOT MATCHED BY SOURCE,
-- limited to those partitions) and its facts inserted, so a re-run of its days leaves the same
-- rows and earlier days' facts are never rewritten. ON FALSE matches no row. The source reads the
-- target as it was before the statement, the facts booked before @run_start: a fact is never
-- booked before its sale, so `booked_day >= ` the window's first day is implied by its sale_day
-- being in the window, and it lets BigQuery prune the older partitions. Prices, rates and amounts
-- are taken as in the full build (the CTEs usd_rates, snapshots and scaled, and the outer SELECT,
-- are the same text; the tests check that they do not drift apart); a change of a booked line is
-- priced as the line was first sold, so a return refunds the price paid, never today's.
MERGE `pricing.sales_lines` AS target
USING (
  -- What the runs before this one booked for the window's lines: the quantity they add up to,
  -- and the line's first fact, which priced it.
  WITH held AS (
    SELECT cart_id, product_id, sale_day, user_id, category, price_usd, snapshot_date, usd_per_eur, rate_date,
           booked_day AS sale_booked_day,
           sum(quantity) OVER (PARTITION BY cart_id, product_id) AS quantity
    FROM `pricing.sales_lines`
    WHERE sale_day BETWEEN date_sub(@run_start, INTERVAL @lookback_days DAY) AND @run_end
      AND booked_day >= date_sub(@run_start, INTERVAL @lookback_days DAY)
      AND booked_day < @run_start
    QUALIFY row_number() OVER (PARTITION BY cart_id, product_id ORDER BY booked_day) = 1
  ),

  source_lines AS (
    SELECT cart_day, cart_id, product_id, user_id, quantity, category
    FROM `pricing.cart_lines`
    WHERE cart_day BETWEEN date_sub(@run_start, INTERVAL @lookback_days DAY) AND @run_end
  ),

  -- BigQuery has no anti join: the lines no earlier fact holds.
  new_lines AS (
    SELECT l.cart_day, l.cart_id, l.product_id, l.user_id, l.quantity, l.category
    FROM source_lines AS l
    LEFT JOIN held AS h ON l.cart_id = h.cart_id AND l.product_id = h.product_id
    WHERE h.cart_id IS NULL
  ),

  usd_rates AS (
    SELECT rate_date, rate AS usd_per_eur,
           lead(rate_date) OVER (ORDER BY rate_date) AS next_rate_date
    FROM `pricing.exchange_rates`
    WHERE currency = 'USD'
  ),

  snapshots AS (
    SELECT product_id, snapshot_date, price_usd,
           -- The first snapshot also prices the sales older than it.
           CASE
             WHEN row_number() OVER (PARTITION BY product_id ORDER BY snapshot_date) = 1 THEN DATE '0001-01-01'
             ELSE snapshot_date
           END AS valid_from,
           lead(snapshot_date) OVER (PARTITION BY product_id ORDER BY snapshot_date) AS valid_until
    FROM `pricing.product_snapshots`
  ),

  facts AS (
    SELECT greatest(n.cart_day, @run_start) AS booked_day, n.cart_day AS sale_day, n.cart_id, n.product_id,
           n.user_id, n.category,
           CASE WHEN n.cart_day >= @run_start THEN 'sale' ELSE 'late_sale' END AS kind,
           greatest(n.cart_day, @run_start) AS sale_booked_day,
           0 AS quantity_before, n.quantity AS quantity_after,
           s.price_usd, s.snapshot_date, r.usd_per_eur, r.rate_date
    FROM new_lines AS n
    LEFT JOIN snapshots AS s
      ON n.product_id = s.product_id AND n.cart_day >= s.valid_from
         AND (s.valid_until IS NULL OR n.cart_day < s.valid_until)
    LEFT JOIN usd_rates AS r
      ON n.cart_day >= r.rate_date AND (r.next_rate_date IS NULL OR n.cart_day < r.next_rate_date)

    UNION ALL

    -- A booked line whose quantity changed, or that is gone: the difference, priced as first sold.
    SELECT @run_start AS booked_day, h.sale_day, h.cart_id, h.product_id, h.user_id, h.category,
           CASE WHEN coalesce(l.quantity, 0) > h.quantity THEN 'further_sale' ELSE 'return' END AS kind,
           h.sale_booked_day, h.quantity AS quantity_before, coalesce(l.quantity, 0) AS quantity_after,
           h.price_usd, h.snapshot_date, h.usd_per_eur, h.rate_date
    FROM held AS h
    LEFT JOIN source_lines AS l ON h.cart_id = l.cart_id AND h.product_id = l.product_id
    WHERE coalesce(l.quantity, 0) <> h.quantity
  ),

  scaled AS (
    SELECT *,
           CAST(price_usd * 100 AS INT64) AS usd_cents,
           CAST(usd_per_eur * 1000000 AS INT64) AS rate_millionths
    FROM facts
  )

  SELECT
    booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day,
    quantity_before, quantity_after, quantity_after - quantity_before AS quantity, price_usd, snapshot_date,
    (quantity_after - quantity_before) * price_usd AS amount_usd,
    CAST(
      div((2 * quantity_after * CAST(usd_cents AS BIGNUMERIC) * 1000000 + rate_millionths), (2 * rate_millionths))
      - div((2 * quantity_before * CAST(usd_cents AS BIGNUMERIC) * 1000000 + rate_millionths), (2 * rate_millionths))
      AS INT64
    ) * NUMERIC '0.01' AS amount_eur,
    usd_per_eur, rate_date
  FROM scaled
) AS source
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.booked_day BETWEEN @run_start AND @run_end THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day, quantity_before,
  quantity_after, quantity, price_usd, snapshot_date, amount_usd, amount_eur, usd_per_eur, rate_date
) VALUES (
  source.booked_day, source.sale_day, source.cart_id, source.product_id, source.user_id, source.category,
  source.kind, source.sale_booked_day, source.quantity_before, source.quantity_after, source.quantity,
  source.price_usd, source.snapshot_date, source.amount_usd, source.amount_eur, source.usd_per_eur,
  source.rate_date
);
