"""What the notebooks import only to show things: the run's session, SQL files as text, charts and
price lists, each small whatever the size of the run.
"""
