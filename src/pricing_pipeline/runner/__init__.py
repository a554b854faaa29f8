"""The daily pipeline: its steps in order, the notebooks executed by papermill, and a failure told
in a few lines.
"""
