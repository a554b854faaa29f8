"""Sales: Fake Store's carts as sales facts that never rewrite the past, priced in every currency.

window.py (the days read: the run's and a lookback), extract.py (one request, validated),
load.py (staging and marts in one transaction), reconciliation.py (the window read again, compared
per day), outputs.py (CSVs), report.py (the notebook's table and chart).

The notebooks' names are imported when first used: the runner imports window.py under this package
and must not load pandas, DuckDB or matplotlib before its kernels start.
"""

from pricing_pipeline.common.lazy import names_imported_when_used

_MODULE_OF = {
    "CARTS": "extract",
    "fetch_carts": "extract",
    "parse_carts": "extract",
    "sales_catalogue": "extract",
    "load_sales": "load",
    "export_sales_outputs": "outputs",
    "daily_net_eur": "report",
    "day_sales": "report",
    "sales_chart": "report",
    "sales_window": "window",
}
__all__ = sorted(_MODULE_OF)

__getattr__ = names_imported_when_used(__name__, _MODULE_OF)
