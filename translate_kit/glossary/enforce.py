"""Making a translation follow the glossary, and saying where it did not: pure functions.

The mechanisms (substitute, nbest, both, placeholder, verify) are steps before or after the model,
so both backends and pivots see text in and ranked hypotheses out; a required term missing from
the final target is a `term` check. A pipeline calls `prepare` (before the cache lookup: its
`Prepared.fragment` goes into the sentence's cache key, empty when no term matched) and `finish`
(on the model's hypotheses). The mechanisms' table: docs/glossaries.md, "Enforcement".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

from ..errors import UsageError
from ..options import DEFAULT_GLOSSARY_HYPOTHESES, DEFAULT_GLOSSARY_MODE, GLOSSARY_MODES
from .match import Match, Matcher, absent, rules
from .terms import Term

MECHANISMS = GLOSSARY_MODES
PLACEHOLDER = "TKX{n}"


@dataclass(frozen=True)
class Policy:
    """How terms are enforced: the mechanism, and how many hypotheses nbest asks for."""

    mechanism: str = DEFAULT_GLOSSARY_MODE
    hypotheses: int = DEFAULT_GLOSSARY_HYPOTHESES

    def __post_init__(self):
        if self.mechanism not in MECHANISMS:
            raise UsageError(f"unknown glossary mechanism '{self.mechanism}'; known: {', '.join(MECHANISMS)}")
        if self.hypotheses < 1:
            raise UsageError(f"glossary hypotheses must be 1 or more, not {self.hypotheses}")

    @property
    def n(self) -> int:
        """Hypotheses to ask the model for."""
        return self.hypotheses if self.mechanism in ("nbest", "both") else 1

    def signature(self) -> str:
        return f"{self.mechanism}/{self.n}"


@dataclass(frozen=True)
class Slot:
    """A placeholder token and the term it stands for."""

    token: str
    term: Term


@dataclass(frozen=True)
class Choice:
    """The hypothesis kept: its rank among the model's, its text, the required terms it lacks."""

    index: int
    text: str
    missing: tuple[Term, ...]


@dataclass(frozen=True)
class Prepared:
    """One source sentence ready for the model: the text to send and what to check after."""

    original: str
    source: str  # what the model translates
    matches: tuple[Match, ...]
    slots: tuple[Slot, ...]
    fragment: str  # for the cache key; "" when nothing matched
    n: int  # hypotheses to ask for


def required(matches: Sequence[Match]) -> list[Term]:
    """The distinct terms a translation must hold, in source order."""
    return list(dict.fromkeys(m.term for m in matches))


def substitute(text: str, matches: Sequence[Match]) -> str:
    """`text` with every matched span (ending included) replaced by its preferred target term,
    made plural when the source's ending says plural and the target is an English common noun
    (les drones -> drones), so that the model still sees the number."""
    return _replace(text, matches, [_inflect(m) for m in matches])


def _inflect(match: Match) -> str:
    target = match.term.target
    plural = match.ending.lower() in rules(match.term.src).plural if match.ending else False
    if not plural or match.term.tgt.split("-")[0] != "en" or not target.split(" ")[-1][:1].islower():
        return target
    if target.endswith(("s", "x", "z", "ch", "sh")):
        return target + "es"
    if target.endswith("y") and target[-2:-1] not in "aeiou":
        return target[:-1] + "ies"
    return target + "s"


def protect(text: str, matches: Sequence[Match], template: str = PLACEHOLDER) -> tuple[str, tuple[Slot, ...]]:
    """`text` with each matched span replaced by a token; one token per distinct term."""
    tokens: dict[Term, str] = {}
    for match in matches:
        tokens.setdefault(match.term, template.format(n=len(tokens) + 1))
    slots = tuple(Slot(token, term) for term, token in tokens.items())
    return _replace(text, matches, [tokens[m.term] for m in matches]), slots


def restore(text: str, slots: Sequence[Slot]) -> str:
    """The tokens of `slots` in a translation replaced by their target terms (a model may space
    them out or change their case: TKX1, tkx1, TKX 1)."""
    for slot in slots:
        text = _token_pattern(slot.token).sub(lambda _m, t=slot.term.target: t, text)
    return text


def _token_pattern(token: str) -> re.Pattern:
    letters, digits = re.match(r"(\D*)(\d*)", token).groups()
    return re.compile(rf"(?<!\w){re.escape(letters)}\s?{re.escape(digits)}(?!\d)", re.IGNORECASE)


def _replace(text: str, matches: Sequence[Match], replacements: Sequence[str]) -> str:
    out, last = [], 0
    for match, replacement in zip(matches, replacements):
        out += [text[last:match.start], replacement]
        last = match.end
    out.append(text[last:])
    return "".join(out)


def missing(text: str, terms: Sequence[Term], lang: str) -> list[Term]:
    """The terms none of whose target variants is in `text` (language `lang`)."""
    return absent(text, terms, lang)


def choose(hypotheses: Sequence[str], terms: Sequence[Term], lang: str,
           scores: Sequence[float] | None = None) -> Choice:
    """The best hypothesis holding every term; else the one missing fewest. Hypotheses come
    best first (as both backends return them); `scores`, when given, rank them instead."""
    if not hypotheses:
        raise ValueError("choose() needs one hypothesis at least")
    best = None
    for index, text in enumerate(hypotheses):
        lacks = tuple(missing(text, terms, lang))
        rank = (len(lacks), -scores[index] if scores is not None else index)
        if best is None or rank < best[0]:
            best = (rank, Choice(index, text, lacks))
        if not lacks and scores is None:
            break
    return best[1]


def verify(text: str, matches: Sequence[Match], lang: str) -> list[dict]:
    """One check per required term missing from the translation `text`."""
    return term_checks(matches, missing(text, required(matches), lang))


def term_checks(matches: Sequence[Match], gone: Sequence[Term]) -> list[dict]:
    """The checks for terms `gone` from a translation, naming each as the source wrote it."""
    written: dict[Term, str] = {}
    for match in matches:
        written.setdefault(match.term, match.text)
    return [{"code": "term", "detail": f"term '{t.target}' (for {written[t]}) missing"} for t in gone]


def term_records(matches: Sequence[Match]) -> list[dict]:
    """The terms a sentence matched, once each, as outputs show them (jsonl `terms`, XLIFF's
    <gls:glossEntry>: term, translation, definition; XLIFF 1.2 notes)."""
    seen: dict[Term, dict] = {}
    for m in matches:
        seen.setdefault(m.term, {"source": m.text, "target": m.term.target, "note": m.term.note, "origin": m.term.origin})
    return list(seen.values())


def term_report(matches: Sequence[Match], target: str, lang: str) -> tuple[dict, ...]:
    """What a translated sentence carries (Segment.terms): each term it matched, once, as
    `term_records` gives it, with `missing` true when the translation `target` lacks it. Checks
    (checks/terms.py) and every output are made from this one record."""
    gone = set(missing(target, required(matches), lang))
    records, seen = [], set()
    for m in matches:
        if m.term not in seen:
            seen.add(m.term)
            records.append({"source": m.text, "target": m.term.target, "note": m.term.note,
                            "origin": m.term.origin, "missing": m.term in gone})
    return tuple(records)


def cache_fragment(matches: Sequence[Match], policy: Policy) -> str:
    """What the glossary adds to one sentence's cache key: the spans matched, the targets they
    require and the mechanism; "" when nothing matched, or when the mechanism is `verify` (the
    translation is then the one without a glossary; only its checks differ, and they are cheap to
    redo). Editing an entry changes exactly the keys of the sentences it matches."""
    if not matches or policy.mechanism == "verify":
        return ""
    parts = [f"{m.start}:{m.end}:{m.term.case}:{'|'.join(m.term.targets)}" for m in matches]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"glossary:{policy.signature()}:{digest}"


def prepare(text: str, matcher: Matcher, policy: Policy) -> Prepared:
    """Before the cache lookup: match, then build the text the model gets."""
    matches = tuple(matcher.match(text))
    if not matches:
        return Prepared(text, text, (), (), "", 1)
    slots: tuple[Slot, ...] = ()
    if policy.mechanism in ("substitute", "both"):
        source = substitute(text, matches)
    elif policy.mechanism == "placeholder":
        source, slots = protect(text, matches)
    else:
        source = text
    return Prepared(text, source, matches, slots, cache_fragment(matches, policy), policy.n)


def finish(prepared: Prepared, hypotheses: Sequence[str], lang: str,
           scores: Sequence[float] | None = None) -> tuple[str, list[dict]]:
    """On the model's hypotheses (best first): the translation kept and its term checks."""
    if not prepared.matches:
        return hypotheses[0], []
    texts = [restore(h, prepared.slots) for h in hypotheses] if prepared.slots else list(hypotheses)
    choice = choose(texts, required(prepared.matches), lang, scores)
    return choice.text, term_checks(prepared.matches, choice.missing)


class Enforcer:
    """A run's glossary and policy, with one matcher per direction built on first use: what a
    pipeline (or a server, or a Ray actor: it pickles, matchers rebuild) holds. `matcher` raises
    GlossaryError on a conflict, so calling it for the run's directions before any model loads
    makes a bad glossary fail first."""

    def __init__(self, glossary, policy: Policy | None = None):
        self.glossary = glossary
        self.policy = policy or Policy()
        self._matchers: dict[tuple[str, str], Matcher] = {}

    def __getstate__(self):
        return {"glossary": self.glossary, "policy": self.policy}

    def __setstate__(self, state):
        self.__init__(state["glossary"], state["policy"])

    def matcher(self, src: str, tgt: str) -> Matcher:
        if (src, tgt) not in self._matchers:
            from . import build_matcher

            self._matchers[src, tgt] = build_matcher(self.glossary, src, tgt)
        return self._matchers[src, tgt]

    def prepare(self, text: str, src: str, tgt: str) -> Prepared:
        return prepare(text, self.matcher(src, tgt), self.policy)

    def finish(self, prepared: Prepared, hypotheses: Sequence[str], tgt: str,
               scores: Sequence[float] | None = None) -> tuple[str, list[dict]]:
        return finish(prepared, hypotheses, tgt, scores)
