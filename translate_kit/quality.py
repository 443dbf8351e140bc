"""Degenerate model output, found per segment, and what to do about it.

Three cheap checks on a (source, target) pair, in this order: ``empty``, ``repetition`` (an n-gram
back to back, more often than the source repeats itself) and ``length`` (far longer or shorter
than the source; CJK characters count 3). A flagged segment is generated once more with
``RETRY_DECODING``, the better output is kept, and it stays flagged. The thresholds, and why
hand-written: docs/design.md#quality-checks
"""

from __future__ import annotations

import math
import re
import unicodedata

# Passed to Engine.generate() for the one retry of a flagged segment.
RETRY_DECODING = {"no_repeat_ngram_size": 3, "repetition_penalty": 1.3}

MAX_NGRAM = 4
LONG_FACTOR, LONG_SLACK = 3.0, 15  # target longer than 3x the source + 15 characters
SHORT_FACTOR, SHORT_MIN_SOURCE = 0.3, 20  # target under 0.3x a source of 20+ characters

# Words, single CJK characters (those scripts write no spaces), digits, single punctuation marks.
TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)
LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def problem(source: str, target: str) -> str | None:
    """'empty', 'repetition', 'length', or None when the output looks normal for its source."""
    if not LETTER_OR_DIGIT.search(source):
        return None  # nothing to judge: such segments are copied, not translated
    if not LETTER_OR_DIGIT.search(target):
        return "empty"
    if _is_loop(source, target):
        return "repetition"
    if _length_off(source, target):
        return "length"
    return None


def choose(source: str, first: str, retry: str) -> tuple[str, str | None]:
    """The better of the first output and the retry, and the flag to keep on the segment."""
    first_problem = problem(source, first)
    kept = max((first, retry), key=lambda t: _score(source, t))  # max() keeps `first` on a tie
    return kept, problem(source, kept) or first_problem


def _score(source: str, target: str) -> tuple[bool, float]:
    return problem(source, target) is None, -abs(math.log((width(target) + 1) / (width(source) + 1)))


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def longest_run(items: list[str]) -> tuple[int, int]:
    """(times, n): the most back-to-back repetitions of any n-gram (n <= MAX_NGRAM) in `items`."""
    best = (1, 1)
    for n in range(1, MAX_NGRAM + 1):
        i = 0
        while i + 2 * n <= len(items):
            times = 1
            while items[i + times * n : i + (times + 1) * n] == items[i : i + n]:
                times += 1
            if times > best[0]:
                best = (times, n)
            i += max(1, (times - 1) * n) if times > 1 else 1
    return best


def _is_loop(source: str, target: str) -> bool:
    times, n = longest_run(tokens(target))
    if times < 3 or times * n < 4:
        return False
    return times >= longest_run(tokens(source))[0] + 2


def width(text: str) -> int:
    """Characters, with wide (CJK) characters counted 3: about their weight in a Latin translation."""
    # Fast path: below U+1100 only unassigned code points report W or F (Python 3.11 data), so a
    # Latin, Greek or Cyrillic text is its length; the checks call this several times a sentence.
    if not text or max(text) < "\u1100":
        return len(text.strip())
    return sum(3 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text.strip())


def _length_off(source: str, target: str) -> bool:
    src, tgt = width(source), width(target)
    if tgt > LONG_FACTOR * src + LONG_SLACK:
        return True
    return src >= SHORT_MIN_SOURCE and tgt < SHORT_FACTOR * src
