"""The transform step (notebooks/02_transform.ipynb): load the run's tidy tables into staging and
marts in one tested transaction, and write the run's deliverables.
"""

from pricing_pipeline.extract.handoff import EXCHANGE_RATES, PRODUCTS, handoff_relation, read_handoff
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.transform.outputs import export_outputs
from pricing_pipeline.warehouse.connection import connect
from pricing_pipeline.warehouse.partitions import run_frame

# The hand-off it reads, the warehouse it loads into, and the run's rows it shows.
__all__ = [
    "EXCHANGE_RATES",
    "PRODUCTS",
    "connect",
    "export_outputs",
    "handoff_relation",
    "load_run",
    "read_handoff",
    "run_frame",
]
