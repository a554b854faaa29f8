"""The transform step (notebooks/02_transform.ipynb): load the run's tidy tables into staging and
marts in one tested transaction, and write the run's deliverables.
"""
