"""Daily pricing pipeline of the case: ECB reference rates, Fake Store products, prices in EUR.

The notebooks in notebooks/ tell the story; this package holds what they share, so that every
step is written once and tested outside the notebooks.
"""
