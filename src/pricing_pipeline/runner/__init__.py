"""The daily pipeline: its steps in order, the notebooks executed by papermill, one run at a time
per data folder, and a failure told in a few lines.
"""
