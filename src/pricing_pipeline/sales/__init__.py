"""Sales: Fake Store's carts as sales facts that never rewrite the past, priced in every currency.

extract.py (the carts of a run's window, validated), load.py (staging and marts in one
transaction), reconciliation.py (the window read again, compared per day), outputs.py (CSVs).
"""
