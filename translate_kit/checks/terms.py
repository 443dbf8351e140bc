"""Glossary terms (issue 25): a required target term missing from a translation is a `term` check.

The glossary side (glossing.py, glossary/) already knows, per sentence, which terms it matched and
which the translation lacks (Segment.terms); this rule only words them, and gives the other rules
the source as the glossary wants it read: `l'OTAN` rendered `NATO` is not a name dropped.
"""

from __future__ import annotations

from typing import Sequence

from .base import Check


def check_terms(terms: Sequence[dict]) -> list[Check]:
    """One `check` per required term the translation lacks."""
    return [Check("term", f"term '{t['target']}' (for {t['source']}) missing") for t in terms if t.get("missing")]


def as_required(source: str, terms: Sequence[dict]) -> str:
    """The source with each matched term written as the glossary requires it, for the rules that
    compare source and target (names, untranslated words)."""
    for t in terms:
        source = source.replace(t["source"], t["target"])
    return source
