"""Glossaries: the names and terms a reader chooses, found in the source and enforced (issue 25).

    glossary = load_glossary(["style.tsv", "termes.tbx"])     # GlossaryError: file, line, problem
    enforcer = Enforcer(glossary, Policy("both", 8))
    enforcer.matcher("fr", "en")                              # GlossaryError on a conflict, before any model
    prepared = enforcer.prepare(sentence, "fr", "en")         # before the cache lookup: .source, .fragment, .n
    target, checks = enforcer.finish(prepared, hypotheses, "en")  # on the model's n-best, best first

read.py reads files, terms.py holds what they say, match.py finds terms in a text, enforce.py
holds the mechanisms and the check of a translation. Nothing here imports a model.
"""

from __future__ import annotations

from ..errors import GlossaryError
from .enforce import (MECHANISMS, Choice, Enforcer, Policy, Prepared, Slot, cache_fragment, choose, finish, missing,
                      prepare, protect, required, restore, substitute, term_checks, term_records, term_report, verify)
from .match import Match, Matcher, occurs
from .read import load_glossary
from .terms import Entry, Glossary, Problem, Term


def build_matcher(glossary: Glossary, src: str, tgt: str, strict: bool = True) -> Matcher:
    """The matcher of one direction; with `strict`, the first conflict is a GlossaryError (two
    targets for one source term cannot both be followed). Duplicates are harmless."""
    matcher = Matcher(glossary.terms(src, tgt), src)
    conflicts = [p for p in matcher.problems if p.kind == "conflict"]
    if strict and conflicts:
        path, _, line = conflicts[0].second.origin.rpartition(":")
        detail = str(conflicts[0]).split(": ", 1)[1]
        raise GlossaryError(path, f"{detail}; keep one", int(line) if line.isdigit() else None)
    return matcher


def load_enforcer(options, targets: list[str] | None = None) -> Enforcer | None:
    """A run's Enforcer from its GlossaryOptions (None without files): the files read, and the
    matchers of every direction into `targets` (None: into every language of the files, as a
    server needs) built now, so that a bad file or a conflict fails (GlossaryError) before any
    model loads."""
    if not options.paths:
        return None
    enforcer = Enforcer(load_glossary(options.paths), Policy(options.mode, options.hypotheses))
    for tgt in enforcer.glossary.languages if targets is None else targets:
        for src in enforcer.glossary.languages:
            if src.split("-")[0] != tgt.split("-")[0]:
                enforcer.matcher(src, tgt)
    return enforcer


__all__ = ["MECHANISMS", "Choice", "Enforcer", "Entry", "Glossary", "GlossaryError", "Match", "Matcher", "Policy", "Prepared",
           "Problem", "Slot", "Term", "build_matcher", "cache_fragment", "load_enforcer", "choose", "finish", "load_glossary",
           "missing", "occurs", "prepare", "protect", "required", "restore", "substitute", "term_checks", "term_records", "term_report",
           "verify"]
