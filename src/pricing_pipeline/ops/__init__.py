"""What a run does after its load, each module named for the ops table it writes: reconciliation
with the source, the run log, the backups, and restoring from them.
"""
