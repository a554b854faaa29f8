-- The daily increment of `pricing.sales_daily` (sql/bigquery/sales_daily.sql) in BigQuery's
-- dialect, run after sql/bigquery/sales_lines_daily.sql with the same parameters: the only days
-- whose figures a run can have changed are rebuilt, its booked days (@run_start..@run_end) and the
-- restated days of its window (those days and the @lookback_days before them), as
-- sql/marts/sales_daily.sql rebuilds them. Its SELECT is the full build's with those days' WHERE
-- clauses (the tests check that they do not drift apart).
--
-- Reads:
--   pricing.sales_lines
--
-- One MERGE: ON FALSE matches no row; the rows of those days are deleted (NOT MATCHED BY SOURCE,
-- limited to them) and the days' rows inserted. A restated day's facts were booked on or after it
-- (a fact is never booked before its sale), so `booked_day >=` the window's first day is implied
-- and lets BigQuery prune the facts' older partitions.
MERGE `pricing.sales_daily` AS target
USING (
  WITH facts AS (
    SELECT 'booked' AS basis, booked_day AS day, category, quantity, amount_usd, amount_eur
    FROM `pricing.sales_lines`
    WHERE booked_day BETWEEN @run_start AND @run_end
    UNION ALL
    SELECT 'restated' AS basis, sale_day AS day, category, quantity, amount_usd, amount_eur
    FROM `pricing.sales_lines`
    WHERE sale_day BETWEEN date_sub(@run_start, INTERVAL @lookback_days DAY) AND @run_end
      AND booked_day >= date_sub(@run_start, INTERVAL @lookback_days DAY)
  )

  SELECT
    basis, day, category,
    sum(greatest(quantity, 0)) AS units_sold,
    sum(greatest(-quantity, 0)) AS units_returned,
    sum(quantity) AS net_units,
    sum(CASE WHEN quantity > 0 THEN amount_usd ELSE 0 END) AS gross_usd,
    -sum(CASE WHEN quantity < 0 THEN amount_usd ELSE 0 END) AS returns_usd,
    sum(amount_usd) AS net_usd,
    sum(CASE WHEN quantity > 0 THEN amount_eur ELSE 0 END) AS gross_eur,
    -sum(CASE WHEN quantity < 0 THEN amount_eur ELSE 0 END) AS returns_eur,
    sum(amount_eur) AS net_eur
  FROM facts
  GROUP BY basis, day, category
) AS source
ON FALSE
WHEN NOT MATCHED BY SOURCE
  AND (
    (target.basis = 'booked' AND target.day BETWEEN @run_start AND @run_end)
    OR (target.basis = 'restated' AND target.day BETWEEN date_sub(@run_start, INTERVAL @lookback_days DAY) AND @run_end)
  ) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  basis, day, category, units_sold, units_returned, net_units, gross_usd, returns_usd, net_usd,
  gross_eur, returns_eur, net_eur
) VALUES (
  source.basis, source.day, source.category, source.units_sold, source.units_returned, source.net_units,
  source.gross_usd, source.returns_usd, source.net_usd, source.gross_eur, source.returns_eur, source.net_eur
);
