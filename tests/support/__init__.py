"""What several test modules share: the project's paths, the case's data, the ECB figures read
independently of the package, and read-only queries of a run's warehouse."""
