"""The largest values the warehouse's columns hold, checked by both product parsers (record by
record and in bulk) and by the rates' parser: a body beyond them stops before the load.
"""

from decimal import Decimal

# The warehouse keeps rates as DECIMAL(18, 6): the ECB publishes at most 6 decimals.
RATE_DECIMALS = 6
# DECIMAL(18, 6) rates, DECIMAL(10, 2) prices, INTEGER ids, counts and quantities (the carts').
RATE_LIMIT = Decimal(10) ** 12
PRICE_LIMIT = Decimal(10) ** 8
COUNT_LIMIT = 2**31 - 1
