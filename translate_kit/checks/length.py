"""Content dropped or added: the translation's length against the source's, relative to the
language pair's normal ratio, and a stretch of the translation repeated (an invented tail).

quality.py already flags the extremes (under 0.3x or over 3x); these rules look closer. A
sentence's ratio varies more the shorter it is, so the allowed deviation widens for short
sentences (TOLERANCE + SHORT_SLACK / sqrt(characters)).
"""

from __future__ import annotations

import math
import re

from .base import Check, base_lang
from .names import fold

# Characters of translation per character of source, for news prose (measured on the evaluation
# set, tests/data/checks/; other pairs fall back to 1.0 and to the widths quality.width counts).
RATIOS = {("fr", "en"): 0.90, ("de", "en"): 0.91, ("es", "en"): 0.94, ("it", "en"): 0.92,
          ("pt", "en"): 0.92, ("nl", "en"): 0.95, ("en", "fr"): 1.15, ("en", "de"): 1.05, ("en", "es"): 1.12}
TOLERANCE = 0.22  # log ratio a long sentence may stray from its pair's ratio
SHORT_SLACK = 2.2  # ... plus this over the square root of its length (about +0.22 at 100 characters)
MIN_SOURCE = 30  # characters: shorter sources are not judged on length
FEWER_CLAUSES = 0.75  # share of the allowed deviation that is enough when the translation also has fewer clauses
CLAUSE = re.compile(r"[,;:—–()]|\s-\s")
WORD = re.compile(r"[^\W_]+")
REPEAT = 4  # words: a stretch this long said twice, where the source says nothing twice


def ratio(src: str, tgt: str) -> float:
    return RATIOS.get((base_lang(src), base_lang(tgt)), 1.0)


def deviation(source: str, target: str, src: str, tgt: str) -> float:
    """log(target / expected length): < 0 shorter than usual, > 0 longer."""
    from ..quality import width

    return math.log((width(target) + 1) / (ratio(src, tgt) * width(source) + 1))


def allowed(source: str) -> float:
    from ..quality import width

    return TOLERANCE + SHORT_SLACK / math.sqrt(max(width(source), 1))


def check_length(source: str, target: str, src: str, tgt: str) -> list[Check]:
    """`dropped`: much shorter than the pair's usual ratio (or fewer clauses and shorter);
    `added`: much longer; `repeat`: a stretch of words said twice."""
    checks = _repeat(source, target)
    from ..quality import width

    if width(source) < MIN_SOURCE:
        return checks
    dev, room = deviation(source, target, src, tgt), allowed(source)
    fewer = len(CLAUSE.findall(source)) - len(CLAUSE.findall(target))
    if dev < -room or (fewer >= 1 and dev < -FEWER_CLAUSES * room):
        share = 1 - math.exp(dev)
        checks.append(Check("dropped", f"the translation is {share:.0%} shorter than usual; part of the source may be missing"))
    elif dev > room + 0.1 and not checks:
        share = math.exp(dev) - 1
        checks.append(Check("added", f"the translation is {share:.0%} longer than usual; it may say more than the source"))
    return checks


def _repeat(source: str, target: str) -> list[Check]:
    words = [fold(w) for w in WORD.findall(target)]
    seen: dict[tuple, int] = {}
    for i in range(len(words) - REPEAT + 1):
        gram = tuple(words[i : i + REPEAT])
        if gram in seen and i - seen[gram] >= REPEAT:
            if _repeated_in(source, gram):
                return []
            return [Check("repeat", f"\"{' '.join(gram)}\" said twice")]
        seen.setdefault(gram, i)
    return []


def _repeated_in(source: str, gram: tuple) -> bool:
    """Whether the source repeats itself too (then the translation may)."""
    words = [fold(w) for w in WORD.findall(source)]
    grams = [tuple(words[i : i + 2]) for i in range(len(words) - 1)]
    return len(grams) != len(set(grams))
