"""What every step shares: settings, paths, whole-file writes, the TARGET calendar, categories, a run's
parameters and the base error. Imports nothing else of the package.
"""
