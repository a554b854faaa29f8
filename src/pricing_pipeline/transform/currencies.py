"""The minor unit of each currency a price is given in: how many decimals its prices keep.

ISO 4217's list one, as the iso-4217 package ships it, gives the minor unit of every current
currency (JPY, KRW and ISK have none; most have two). The ECB's history also quotes currencies that
list one no longer holds, because they were replaced (ROL by RON, TRL by TRY) or by the euro (CYP,
EEK, LTL, LVL, MTL, SIT, SKK, HRK, BGN). ISO's list of withdrawn currencies (list three) does not
give minor units, so those come from Unicode CLDR's currency data, as the babel package ships it:
CLDR records the digits of withdrawn codes too (TRL: 0), and its rule for a code it knows without a
digits entry is its default of 2. A code neither source knows stops the load: a minor unit is never
guessed.
"""

from __future__ import annotations

import importlib.metadata

import pandas as pd
from babel import Locale
from babel.core import get_cldr_version, get_global
from iso_4217 import Currency

from pricing_pipeline.common.errors import PipelineError

MINOR_UNIT_COLUMNS = ["currency", "minor_unit", "minor_units_per_unit", "source"]
ISO_VERSION = importlib.metadata.version("iso-4217")
ISO_SOURCE = f"ISO 4217 list one (iso-4217 {ISO_VERSION})"
CLDR_SOURCE = f"CLDR {get_cldr_version()} currency data (babel), withdrawn from ISO 4217 list one"


class UnknownCurrencyError(PipelineError, ValueError):
    """A currency whose minor unit no source gives."""


def _iso_minor_units() -> dict[str, int]:
    # Withdrawn codes (list three) are in the package too, without a minor unit.
    return {c.name: c.subunit_exp for c in Currency if c.subunit_exp is not None}


def _cldr_minor_unit(code: str) -> int | None:
    """CLDR's digits for a code CLDR knows (it has a name for it); None for a code it does not know."""
    if code not in Locale("en").currencies:
        return None
    fractions = get_global("currency_fractions")
    digits, *_ = fractions.get(code, fractions["DEFAULT"])
    return digits


def minor_units(currencies) -> pd.DataFrame:
    """Each currency's minor unit (decimals), 10 ** minor_unit (the integer the SQL scales by, so that it
    never takes a power in floats) and the source: ISO 4217 list one, else CLDR for withdrawn codes."""
    iso = _iso_minor_units()
    rows = []
    for code in sorted(set(currencies)):
        if code in iso:
            rows.append((code, iso[code], 10 ** iso[code], ISO_SOURCE))
            continue
        digits = _cldr_minor_unit(code)
        if digits is None:
            raise UnknownCurrencyError(
                f"currency {code!r} has no minor unit in ISO 4217 (iso-4217 {ISO_VERSION}) nor in CLDR "
                f"{get_cldr_version()}; update the iso-4217 or babel package"
            )
        rows.append((code, digits, 10**digits, CLDR_SOURCE))
    return pd.DataFrame(rows, columns=MINOR_UNIT_COLUMNS)
