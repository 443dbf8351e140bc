"""One verdict per sentence, from the rules' findings and (when there is one) the model's score.

- `doubt`: a finding that alone means the translation is not usable as it is (no translation, a
  loop, left in the source language), or two different kinds of finding on one sentence;
- `check`: one kind of finding, or a model score below SCORE_FLOOR or far below its document's;
- `ok`: nothing found.

The score is the model's mean token log-probability of its output (runtime/engine.py
mean_logprob: the same scale on every backend), carried from the model or the cache on
Segment.score; None means there is none (a copy, a review, an entry cached before scores were
kept, `tk check` without --score or without a local model).
"""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence

from .. import quality
from .attribution import check_attribution
from .base import Check, Verdict, worst
from .length import check_length
from .marks import check_marks
from .names import check_names
from .numbers import check_numbers
from .terms import as_required, check_terms
from .untranslated import check_untranslated

# Model score thresholds (mean log-probability per output token, <= 0). Placeholders: no real
# model could be downloaded where this was written. To calibrate (docs/usage.md, "Which sentences
# to check"): `pytest -m real -s -k chrf` prints, over the references in tests/data (good
# translations), the scores' median and 5th percentile and their correlation with sentence chrF;
# SCORE_FLOOR goes near that 5th percentile, SCORE_GAP near the distance below a document's median
# that separates bad translations from good ones (per model family if they differ much).
SCORE_FLOOR = -1.5
SCORE_GAP = 1.0
MIN_DOCUMENT = 5  # scores needed in a document before one is compared with the others

DEGENERATE = {  # quality.problem's flags, as findings
    "empty": Check("empty", "no translation", "doubt"),
    "repetition": Check("repetition", "the translation repeats itself (the model may have looped)", "doubt"),
    "length": Check("length", "the translation is far shorter or longer than the source"),
}
RULES = (check_untranslated, check_numbers, check_names, check_length, check_attribution, check_marks)


def findings(source: str, target: str, src: str, tgt: str) -> list[Check]:
    """Every rule's findings on one pair (none for a source with nothing to translate)."""
    flag = quality.problem(source, target)
    if flag == "empty":
        return [DEGENERATE["empty"]]
    found = [DEGENERATE[flag]] if flag else []
    for rule in RULES:
        found += rule(source, target, src, tgt)
        if found and found[-1].severity == "doubt" and rule is check_untranslated:
            return found  # the other rules would only restate it
    if flag == "length":  # the length rule says the same, more precisely
        found = [c for c in found if c.code not in ("dropped", "added")]
    return found


def decide(found: Sequence[Check], score: float | None = None, median: float | None = None) -> Verdict:
    verdict = "ok"
    for c in found:
        verdict = worst(verdict, c.severity)
    if len({c.code for c in found}) >= 2:
        verdict = "doubt"
    extra = list(found)
    if score is not None:
        if score < SCORE_FLOOR:
            extra.append(Check("score", f"the model was unsure (score {score:.2f})"))
        elif median is not None and score < median - SCORE_GAP:
            extra.append(Check("score", f"the model was much less sure here than elsewhere (score {score:.2f})"))
        if len(extra) > len(found):
            verdict = worst(verdict, "check")
    return Verdict(verdict, tuple(extra))


def assess(source: str, target: str, src: str, tgt: str, score: float | None = None,
           median: float | None = None, flag: str | None = None, terms: Sequence[dict] = ()) -> Verdict:
    """The verdict on one translated sentence (`median`: its document's median score, if known;
    `flag`: quality.py's flag from when it was translated, which a retry may have kept: it stays a
    reason; `terms`: the glossary terms it matched, Segment.terms)."""
    if not quality.LETTER_OR_DIGIT.search(source):
        return Verdict()
    found = findings(as_required(source, terms) if terms else source, target, src, tgt)
    if flag in DEGENERATE and not any(c.code == flag for c in found):
        found.insert(0, DEGENERATE[flag])
    return decide(found + check_terms(terms), score, median)


def document_median(scores: Iterable[float | None]) -> float | None:
    known = [s for s in scores if s is not None]
    return statistics.median(known) if len(known) >= MIN_DOCUMENT else None


def assess_document(pairs: Sequence[tuple[str, str]], src: str, tgt: str,
                    scores: Sequence[float | None] | None = None) -> list[Verdict]:
    """Verdicts for a document's pairs, each score also compared with the document's median."""
    scores = list(scores) if scores is not None else [None] * len(pairs)
    median = document_median(scores)
    return [assess(s, t, src, tgt, score, median) for (s, t), score in zip(pairs, scores)]


def assess_segments(segments: Iterable, src: str, tgt: str) -> None:
    """Set `verdict` and `checks` on translated segments (Segment objects, in place); segments
    copied or passed through unchanged are `ok`, meta records have no verdict."""
    segments = [s for s in segments if s.kind != "meta"]
    todo = [s for s in segments if s.kind == "text" and s.origin not in ("passthrough", "failed", "copy")]
    median = document_median(getattr(s, "score", None) for s in todo)
    for s in segments:
        s.verdict, s.checks = "ok", []
    for s in todo:
        v = assess(s.text, s.target, src, tgt, getattr(s, "score", None), median, s.flag, getattr(s, "terms", ()))
        s.verdict, s.checks = v.verdict, [c.to_dict() for c in v.checks]
