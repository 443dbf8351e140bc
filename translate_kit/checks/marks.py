"""Quotation marks and brackets balanced like the source's.

Languages write quotes differently (« » in French, „ " in German, " " in English), so quotes are
compared as pairs: a source with a whole quotation needs a translation with one, and a
translation's quotes must be balanced where the source's are (a sentence may open a quote that
the next one closes: then nothing is compared). Brackets are the same in every language.
"""

from __future__ import annotations

import re

from .base import Check

OPEN_QUOTES, CLOSE_QUOTES, BOTH = "«„“‹", "»”›", '"'
BRACKETS = (("(", ")"), ("[", "]"))
# A German „quote“ closes with “, the English opening mark: read by language, not by character.
GERMAN_CLOSE = re.compile(r"(?<=\S)“")


def quote_pairs(text: str) -> tuple[int, bool]:
    """(quotations, balanced) in `text`."""
    text = GERMAN_CLOSE.sub("”", text) if "„" in text else text
    opens = sum(text.count(c) for c in OPEN_QUOTES)
    closes = sum(text.count(c) for c in CLOSE_QUOTES)
    straight = text.count(BOTH)
    balanced = opens == closes and straight % 2 == 0
    return min(opens, closes) + straight // 2, balanced


def check_marks(source: str, target: str, src: str = "", tgt: str = "") -> list[Check]:
    """`quotes`: a quotation of the source lost or left open; `brackets`: brackets that differ."""
    checks = []
    source_quotes, source_balanced = quote_pairs(source)
    target_quotes, target_balanced = quote_pairs(target)
    if source_balanced and (not target_balanced or target_quotes < source_quotes):
        checks.append(Check("quotes", "quotation marks not as in the source"))
    for opening, closing in BRACKETS:
        if (source.count(opening), source.count(closing)) != (target.count(opening), target.count(closing)):
            checks.append(Check("brackets", f"brackets {opening}{closing} not as in the source"))
            break
    return checks
