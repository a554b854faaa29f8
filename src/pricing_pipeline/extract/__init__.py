"""The extract step (notebooks/01_extract.ipynb): ask each source for the run's bodies, land them
unchanged, parse and validate them, and hand the tidy tables to the transform.
"""
