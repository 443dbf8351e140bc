"""Rooms found by looking: readers/ and writers/ each list their formats by importing their own
modules and collecting the named subclasses of their base class, so a new format is one new file."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def named_subclasses(package: str, path: Iterable[str], base: type) -> dict[str, object]:
    """One instance of every subclass of `base` (at any depth) with a `name`, after importing the
    public modules of `package` (those not starting with "_"), sorted by name."""
    for module in pkgutil.iter_modules(path):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")
    found: dict[str, object] = {}
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.name:
            found[cls.name] = cls()
    return dict(sorted(found.items()))


def unavailable(libraries: dict[str, str]) -> dict[str, str]:
    """{module: why it cannot be imported} for those of `libraries` (module -> distribution) that fail
    here: a missing package, or one whose own imports fail (lxml_html_clean for trafilatura)."""
    problems = {}
    for module in libraries:
        try:
            importlib.import_module(module)
        except Exception as err:  # ImportError, and whatever a broken package raises at import
            text = str(err).strip().splitlines()
            problems[module] = f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
    return problems

