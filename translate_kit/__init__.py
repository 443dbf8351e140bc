"""translate_kit: local, offline bilingual translation and summaries of foreign-language articles.

Public API (heavy imports happen lazily, inside the calls):

    from translate_kit import load_documents, translate
    for result in translate(load_documents(["seeds/"]), "en"):
        ...

The names below load on first use (PEP 562; ~0.1 s of `tk --help`). `translate` and `summarize`
are the functions, not their modules, even after a module was imported (which binds its name).
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

_EXPORTS = {
    "Document": "documents",
    "load_documents": "documents",
    "DecodeOptions": "options",
    "RunOptions": "options",
    "SummaryOptions": "summarize",
    "summarize": "summarize",
    "DocResult": "translate",
    "translate": "translate",
}
__all__ = sorted(_EXPORTS)


def _export(name: str):
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


class _Package(types.ModuleType):
    def __getattr__(self, name: str):
        if name not in _EXPORTS:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = _export(name)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted({*super().__dir__(), *_EXPORTS})


def _function_over_module(name: str) -> property:
    def get(self):
        return _export(name)

    def keep_function(self, value) -> None:  # the import system binding the submodule: the function stays
        if not isinstance(value, types.ModuleType):
            raise AttributeError(f"{__name__}.{name} is read-only")

    return property(get, keep_function)


_Package.translate = _function_over_module("translate")
_Package.summarize = _function_over_module("summarize")
sys.modules[__name__].__class__ = _Package
