"""Untranslated or partly untranslated output: the translation is the source, reads as the source
language (py3langid through language.log_odds, the two languages compared alone), or copies a
long run of the source's own words.

Names and numbers are copied by every good translation, so a copied run counts only its
lower-case words: "l'Union européenne" in an English sentence is a run of one.
"""

from __future__ import annotations

import re

from ..language import log_odds
from .base import Check, base_lang
from .names import MUST_COPY, fold

WORD = re.compile(r"[^\W\d_]+")
MIN_WORDS = 4  # shorter translations are too short to judge their language
ODDS = 4.0  # natural log: the source language e^4 (about 55) times likelier than the target's
RUN = 5  # lower-case source words copied in a row, in a longer sentence
RUN_SHARE = 0.4
LOWER = 2  # lower-case words a copied run must have
# Halves are read only when the whole leans this far towards the source language at least: a
# translation fully in the target language scores -4 to -25 (the evaluation set), one half left
# in the source language above -7; this saves two detector calls on most sentences.
HALF_GATE = -6.0  # ... or this share of the translation's words, in a row


def check_untranslated(source: str, target: str, src: str, tgt: str) -> list[Check]:
    """`untranslated`: the translation is in the source language (doubt); `copied`: part of it is."""
    src, tgt = base_lang(src), base_lang(tgt)
    source_words = WORD.findall(MUST_COPY.sub(" ", source))
    target_words = WORD.findall(MUST_COPY.sub(" ", target))
    if src == tgt or len(source_words) < 2 or not target_words:
        return []
    if fold(" ".join(source_words)) == fold(" ".join(target_words)) and _has_common_words(source_words):
        return [Check("untranslated", "the translation is the source text", "doubt")]
    odds = log_odds(target, src, tgt) if len(target_words) >= MIN_WORDS else -ODDS
    if odds > ODDS:
        return [Check("untranslated", f"the translation reads as {src}, not {tgt}", "doubt")]
    run = copied_run(source_words, target_words)
    if len(run) >= RUN or (len(run) >= 3 and len(run) >= RUN_SHARE * len(target_words)):
        return [Check("copied", f"copied from the source: \"{' '.join(run)}\"")]
    half = _half_in(target, src, tgt) if odds > HALF_GATE else ""
    if half:
        return [Check("copied", f"part of the translation reads as {src}: \"{half}\"")]
    return []


def _half_in(target: str, src: str, tgt: str) -> str:
    """The first or second half of a longer translation when it reads as the source language."""
    words = target.split()
    if len(words) < 2 * MIN_WORDS:
        return ""
    for half in (" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2:])):
        if len(WORD.findall(half)) >= MIN_WORDS and log_odds(half, src, tgt) > ODDS:
            return half
    return ""


def _has_common_words(words: list[str]) -> bool:
    return sum(1 for w in words if w.islower()) >= 2


def copied_run(source_words: list[str], target_words: list[str]) -> list[str]:
    """The longest run of target words, in order, that the source has in a row, with at least
    LOWER of its words in lower case (a run of names is copied by every good translation)."""
    folded_source = [fold(w) for w in source_words]
    positions: dict[str, list[int]] = {}
    for i, w in enumerate(folded_source):
        positions.setdefault(w, []).append(i)
    best: list[str] = []
    lengths: dict[int, int] = {}  # source index -> length of the run ending there, for the previous target word
    for j, word in enumerate(target_words):
        current = {}
        for i in positions.get(fold(word), ()):
            current[i] = lengths.get(i - 1, 0) + 1
            run = target_words[j - current[i] + 1 : j + 1]
            if len(run) > len(best) and sum(1 for w in run if w.islower() and len(w) > 2) >= LOWER:
                best = run
        lengths = current
    return best
