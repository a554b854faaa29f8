"""The embedded DuckDB warehouse that stands in for BigQuery: connections, transactions, the run's
partitions, the data tests, read-only probes of the file, and the models in sql/.
"""
