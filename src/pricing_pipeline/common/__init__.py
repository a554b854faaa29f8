"""What every step shares: settings, paths, whole-file writes, the TARGET calendar, categories, a run's
parameters, the data folder's lock and the base error. Imports nothing else of the package.
"""
