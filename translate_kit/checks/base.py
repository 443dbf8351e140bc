"""The types every rule shares: a finding (Check) and a sentence's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("ok", "check", "doubt")  # in order of worry


@dataclass(frozen=True)
class Check:
    """One finding on a sentence: a short code and the words a reader sees.

    `severity` is what the finding alone makes of the sentence ("check" or "doubt")."""

    code: str
    detail: str
    severity: str = "check"

    def to_dict(self) -> dict:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    verdict: str = "ok"
    checks: tuple[Check, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "checks": [c.to_dict() for c in self.checks]}


def worst(*verdicts: str) -> str:
    return max(verdicts, key=VERDICTS.index)


def base_lang(lang: str) -> str:
    """`pt-BR` -> `pt`: the rules know languages, not regions."""
    return (lang or "").replace("_", "-").split("-")[0].lower()
