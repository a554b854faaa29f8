"""A package's names imported when first used (PEP 562), so that importing one of its modules does
not load the libraries of the others."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def names_imported_when_used(package: str, module_of: dict[str, str]) -> Callable[[str], object]:
    """The package's module-level __getattr__: each name of module_of (name -> its module under the
    package) is imported from its module when first asked for."""

    def attribute(name: str) -> object:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module_of[name]}"), name)

    return attribute
