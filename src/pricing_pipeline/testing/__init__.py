"""A local fake of both APIs, for the tests and the benchmark: never imported by the pipeline."""
