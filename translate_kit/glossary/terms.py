"""What a glossary holds: entries (one concept in several languages), and the terms of one language
pair that matching and enforcement use.

A file row or a TBX concept is an Entry: for each language its variants, the first preferred
(`Zelensky|Zelenski|Zelenskyy` in the source column, all matched; `Kyiv|Kiev` in the target
column: Kyiv is written, both count as present). A run needs one direction, so the Glossary hands
out Terms for a (source, target) pair, with the duplicates and conflicts of that pair as Problems:
two entries that give one source term different targets cannot both be followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Case = Literal["auto", "exact", "any"]
CASES = ("auto", "exact", "any")  # auto: the capitals written in the entry must be capitals in the text


@dataclass(frozen=True)
class Term:
    """One source -> target rule of a language pair. `origin` is "file:line" for messages."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]  # the first is written (substitution, placeholders); any counts as present
    src: str
    tgt: str
    case: Case = "auto"
    note: str = ""
    origin: str = ""

    @property
    def target(self) -> str:
        return self.targets[0]

    @property
    def source(self) -> str:
        return self.sources[0]


@dataclass(frozen=True)
class Entry:
    """One concept of a glossary file: {language: variants}, a note, a case mode, where it was read."""

    terms: tuple[tuple[str, tuple[str, ...]], ...]
    deprecated: tuple[tuple[str, tuple[str, ...]], ...] = ()  # TBX: matched in a source, never written
    note: str = ""
    case: Case = "auto"
    origin: str = ""

    def get(self, lang: str, deprecated: bool = False) -> tuple[str, ...]:
        """The variants for `lang` (then its deprecated ones too when asked); a region-less code also
        finds a regional column (fr finds fr-CA)."""
        found = _lookup(self.terms, lang)
        return found + _lookup(self.deprecated, lang) if deprecated else found


def _lookup(terms, lang: str) -> tuple[str, ...]:
    for code, variants in terms:
        if code == lang:
            return variants
    base = lang.split("-")[0]
    for code, variants in terms:
        if code.split("-")[0] == base:
            return variants
    return ()


@dataclass(frozen=True)
class Problem:
    """A duplicate (same source, same target: harmless) or a conflict (same source, other target)."""

    kind: Literal["duplicate", "conflict"]
    key: str  # the source variant both entries have
    first: Term
    second: Term

    def __str__(self) -> str:
        if self.kind == "duplicate":
            return (f"{self.second.origin}: duplicate of {self.first.origin} "
                    f"('{self.key}' -> '{self.second.target}')")
        return (f"{self.second.origin}: '{self.key}' -> '{self.second.target}' conflicts with "
                f"{self.first.origin} ('{self.key}' -> '{self.first.target}')")


@dataclass
class Glossary:
    """Every entry of one or several files, in file order."""

    entries: list[Entry] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        seen: dict[str, None] = {}
        for entry in self.entries:
            for code, _ in entry.terms:
                seen.setdefault(code, None)
        return list(seen)

    def terms(self, src: str, tgt: str) -> list[Term]:
        """The terms of one direction: entries with variants in both languages."""
        out = []
        for entry in self.entries:
            sources, targets = entry.get(src, deprecated=True), entry.get(tgt)
            if sources and targets:
                out.append(Term(sources, targets, src, tgt, entry.case, entry.note, entry.origin))
        return out

    def __add__(self, other: Glossary) -> Glossary:
        return Glossary(self.entries + other.entries, self.paths + other.paths)
