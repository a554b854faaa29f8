"""What the notebooks import only to show things: the run's session, SQL files as text, charts and
price lists, each small whatever the size of the run.
"""

from pricing_pipeline.notebook.session import Run, open_run, show_sql

# charts and price_lists are imported as modules (they load matplotlib and babel).
__all__ = ["Run", "open_run", "show_sql"]
