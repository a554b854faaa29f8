"""The Spark engine: the transform step's models and data tests run by Apache Spark on Parquet
tables partitioned by day (session.py: the session; models.py: the model files and the tables;
load.py: write, audit, publish; outputs.py: the deliverables)."""
