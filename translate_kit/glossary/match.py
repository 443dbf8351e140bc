"""Finding a glossary's terms in a text: word-bounded, case-aware, with cheap inflection.

Every source variant (German adjective endings included) is in one Aho-Corasick automaton, run
over a folded copy of the text (lower case, plain apostrophes, whitespace runs squeezed); every
overlapping hit is kept only when it is word-bounded (or ends in an ending the language allows)
and its case fits the entry's (auto, exact, any), and overlaps go leftmost-longest. The rules:
docs/glossaries.md#matching; why pyahocorasick: docs/design.md#other-choices
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import product
from typing import Sequence

from .terms import Problem, Term

APOSTROPHES = "’‘ʼ´`"
SPACES = "\t\n\r\v\f\u00a0\u2002\u2003\u2007\u2009\u200a\u202f\u3000"
_FOLD = str.maketrans({**{c: "'" for c in APOSTROPHES}, **{c: " " for c in SPACES}})
_RUNS = re.compile(r" {2,}")
MAX_INNER_VARIANTS = 64


@dataclass(frozen=True)
class Rules:
    """What a language does to a term in running text, cheaply."""

    suffixes: tuple[str, ...] = ()  # endings the last word may take (plural, case)
    plural: tuple[str, ...] = ()  # those of them that mean a plural (German endings are mostly case: none)
    inner: tuple[str, ...] = ()  # endings an inner word ending in -e may take (German adjectives)
    clitics: tuple[str, ...] = ()  # elided words before an apostrophe (l', d', qu')


RULES = {
    "fr": Rules(("s", "x"), ("s", "x"), (), ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu")),
    "de": Rules(("s", "es", "e", "n", "en", "er", "em", "ns"), (), ("n", "r", "s", "m")),
    "es": Rules(("s", "es"), ("s", "es")),
    "en": Rules(("s", "es"), ("s", "es")),
    "pt": Rules(("s", "es"), ("s", "es")),
    "ca": Rules(("s", "es"), ("s", "es"), (), ("l", "d")),
    "it": Rules((), (), (), ("l", "dell", "all", "dall", "nell", "sull", "un", "quest", "quell")),
    "nl": Rules(("s", "en"), ("s", "en")),
}


def rules(lang: str) -> Rules:
    return RULES.get(lang.split("-")[0].lower(), Rules())


@dataclass(frozen=True)
class Match:
    """A term found in a text: [start, end) in the original text, with its ending and clitic."""

    term: Term
    start: int
    end: int
    text: str
    clitic: str = ""  # "l'" in l'OTAN: the elided word before the term, as written
    ending: str = ""  # "s" in drones: what the text added to the entry's last word


# --- folding ---------------------------------------------------------------------------------


def _lower(text: str) -> str:
    """Lower case of the same length (a few characters, such as İ, lower into two: kept as they are)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def normalize(term: str) -> str:
    """A term as the automaton stores it, case kept: folded apostrophes and spaces, one space a run."""
    return _RUNS.sub(" ", term.translate(_FOLD)).strip()


@dataclass
class Folded:
    """A text folded for matching, and the way back to the original's positions."""

    original: str
    cased: str
    lower: str
    keys: list[int] = field(default_factory=lambda: [0])  # folded positions after each squeezed run
    shifts: list[int] = field(default_factory=lambda: [0])  # characters squeezed before them

    @classmethod
    def of(cls, text: str) -> Folded:
        cased = text.translate(_FOLD)
        keys, shifts = [0], [0]
        if "  " in cased:
            total = 0
            for run in _RUNS.finditer(cased):
                keys.append(run.start() - total + 1)
                total += run.end() - run.start() - 1
                shifts.append(total)
            cased = _RUNS.sub(" ", cased)
        return cls(text, cased, _lower(cased), keys, shifts)

    def pos(self, i: int) -> int:
        return i + self.shifts[bisect_right(self.keys, i) - 1]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.pos(start), self.pos(end - 1) + 1


def _word(c: str) -> bool:
    return c.isalnum()


def _tail(lower: str, stop: int, suffixes: tuple[str, ...]) -> int | None:
    """Length of the ending after a hit that ends at `stop`, 0 at a word boundary, None mid-word."""
    n = len(lower)
    if stop >= n or not _word(lower[stop]):
        return 0
    j = stop
    while j < n and j - stop <= 4 and _word(lower[j]):
        j += 1
    if j < n and _word(lower[j]):
        return None
    return j - stop if lower[stop:j] in suffixes else None


def case_ok(pattern: str, found: str, mode: str) -> bool:
    if mode == "any":
        return True
    if mode == "exact":
        return found == pattern
    return all(f.isupper() for p, f in zip(pattern, found) if p.isupper())


def inflected(pattern: str, lang_rules: Rules) -> list[str]:
    """The pattern, and the German forms of its inner adjectives (-e -> -en/-er/-es/-em)."""
    words = pattern.split(" ")
    if not lang_rules.inner or len(words) < 2:
        return [pattern]
    choices = [[w] + [w + e for e in lang_rules.inner] if w[-1:].lower() == "e" else [w] for w in words[:-1]]
    forms = []
    for combo in product(*choices):
        forms.append(" ".join((*combo, words[-1])))
        if len(forms) >= MAX_INNER_VARIANTS:
            break
    return forms


# --- matching --------------------------------------------------------------------------------


class Matcher:
    """The terms of one language pair, ready to be found in source texts of language `src`."""

    def __init__(self, terms: Sequence[Term], src: str):
        self.terms = tuple(terms)
        self.src = src
        self.rules = rules(src)
        self.problems = find_problems(self.terms)
        self._automaton = self._build()

    def _build(self):
        table: dict[str, list[tuple[int, str, tuple[int, ...]]]] = {}  # key -> (term, as written, capitals)
        for index, term in enumerate(self.terms):
            for variant in filter(None, map(normalize, term.sources)):
                for pattern in inflected(variant, self.rules):
                    capitals = tuple(i for i, c in enumerate(pattern) if c.isupper())
                    table.setdefault(_lower(pattern), []).append((index, pattern, capitals))
        if not table:
            return None
        import ahocorasick  # lazy: tk --help and runs without a glossary never load it

        automaton = ahocorasick.Automaton()
        for key, candidates in table.items():
            automaton.add_word(key, (len(key), _word(key[0]), _word(key[-1]), tuple(candidates)))
        automaton.make_automaton()
        return automaton

    def __len__(self) -> int:
        return len(self.terms)

    def __getstate__(self):  # the automaton pickles too, but rebuilding it is as fast and smaller
        return {"terms": self.terms, "src": self.src}

    def __setstate__(self, state):
        self.__init__(state["terms"], state["src"])

    def match(self, text: str) -> list[Match]:
        """Every term found in `text`, left to right, overlaps resolved leftmost-longest."""
        if self._automaton is None or not text:
            return []
        folded = Folded.of(text)
        hits = self._hits(folded)
        return [self._match(folded, *hit) for hit in _leftmost_longest(hits)]

    def _hits(self, folded: Folded) -> list[tuple[int, int, int, int]]:
        """(start, end with ending, term index, ending length) of every hit that passes the checks."""
        lower, cased, suffixes = folded.lower, folded.cased, self.rules.suffixes
        hits = []
        for end, (length, word_start, word_end, candidates) in self._automaton.iter(lower):
            start, stop = end - length + 1, end + 1
            if word_start and start > 0 and _word(lower[start - 1]):
                continue
            tail = _tail(lower, stop, suffixes) if word_end else 0
            if tail is None:
                continue
            for index, pattern, capitals in candidates:
                case = self.terms[index].case
                if case == "any" or (case == "auto" and all(cased[start + i].isupper() for i in capitals)) \
                        or cased[start:stop] == pattern:
                    hits.append((start, stop + tail, index, tail))
        return hits

    def _match(self, folded: Folded, start: int, stop: int, index: int, tail: int) -> Match:
        begin, end = folded.span(start, stop)
        text = folded.original[begin:end]
        return Match(self.terms[index], begin, end, text, self._clitic(folded, start), text[len(text) - tail:] if tail else "")

    def _clitic(self, folded: Folded, start: int) -> str:
        if start < 2 or folded.cased[start - 1] != "'" or not self.rules.clitics:
            return ""
        j = start - 1
        while j > 0 and folded.lower[j - 1].isalpha():
            j -= 1
        if folded.lower[j:start - 1] not in self.rules.clitics:
            return ""
        begin, end = folded.span(j, start)
        return folded.original[begin:end]


def _leftmost_longest(hits: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    chosen, reach = [], -1
    for start, stop, index, tail in sorted(hits, key=lambda h: (h[0], -h[1], h[2])):
        if start >= reach:
            chosen.append((start, stop, index, tail))
            reach = stop
    return chosen


def occurs(text: str, variants: Sequence[str], lang: str, case: str = "auto") -> bool:
    """True when one of `variants` is in `text` as a word (with the language's endings)."""
    return _occurs(Folded.of(text), variants, rules(lang), case)


def absent(text: str, terms: Sequence[Term], lang: str) -> list[Term]:
    """The terms none of whose target variants is in `text`: the check on a translation, a few
    terms at a time, so a plain find per variant on a text folded once."""
    folded, lang_rules = Folded.of(text), rules(lang)
    return [t for t in terms if not _occurs(folded, t.targets, lang_rules, t.case)]


def _occurs(folded: Folded, variants: Sequence[str], lang_rules: Rules, case: str) -> bool:
    for variant in variants:
        for pattern in inflected(normalize(variant), lang_rules):
            if _find(folded, pattern, lang_rules, case):
                return True
    return False


def _find(folded: Folded, pattern: str, lang_rules: Rules, case: str) -> bool:
    key = _lower(pattern)
    if not key:
        return False
    at = folded.lower.find(key)
    while at >= 0:
        stop = at + len(key)
        left = not _word(key[0]) or at == 0 or not _word(folded.lower[at - 1])
        right = not _word(key[-1]) or _tail(folded.lower, stop, lang_rules.suffixes) is not None
        if left and right and case_ok(pattern, folded.cased[at:stop], case):
            return True
        at = folded.lower.find(key, at + 1)
    return False


# --- duplicates and conflicts ----------------------------------------------------------------


def find_problems(terms: Sequence[Term]) -> list[Problem]:
    """Pairs of terms that one source text can match both: same target = duplicate, else conflict."""
    seen: dict[str, list[tuple[Term, str]]] = {}
    problems, reported = [], set()
    for term in terms:
        for variant in dict.fromkeys(normalize(v) for v in term.sources):
            for other, written in seen.get(_lower(variant), []):
                if other is term or (id(other), id(term)) in reported or not _overlap(written, other.case, variant, term.case):
                    continue
                reported.add((id(other), id(term)))
                kind = "duplicate" if _lower(other.target) == _lower(term.target) else "conflict"
                problems.append(Problem(kind, variant, other, term))
            seen.setdefault(_lower(variant), []).append((term, variant))
    return problems


def _overlap(a: str, case_a: str, b: str, case_b: str) -> bool:
    """Can one text match both written forms, given their case modes?"""
    if case_a == "exact" and case_b == "exact":
        return a == b
    if case_a == "exact":
        return case_ok(b, a, case_b)
    if case_b == "exact":
        return case_ok(a, b, case_a)
    return True
