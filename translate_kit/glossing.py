"""A glossary on the model service: what a Translator (or a PivotTranslator) does with its texts
when the run has --glossary (issue 25). The hook translators.py calls; glossary/ holds the pure parts.

Per text, before the cache: `Enforcer.prepare` matches the glossary (for the pair the reader asked
for, the final language through a pivot) and gives the text the model reads (terms substituted, or
placeholders) and the text's cache fragment. The cache key of a text is its leg's signature plus
that fragment, so:
- a text no entry matches has an empty fragment and shares its entry with runs without a glossary;
- editing a glossary changes the keys of exactly the texts whose matches changed.
Misses go to the model as one batch run (the engine's own batching and out-of-memory back-off);
with nbest/both, a translation still lacking a term is asked again for n hypotheses (one batch run
of those only) and the best one holding the terms is kept. What is stored is the final text.
Every translation, cached, reviewed or new, is then checked: Translation.terms lists the terms its
text matched, each with `missing`, which checks/terms.py turns into a `term` check.

Reviewed translations (tk import-review) are looked up first, by the original text, and win: they
are never changed, only checked.

Through a pivot (src -> en -> tgt), substitution and placeholders go into the first leg's input;
n hypotheses and the restoring of placeholders apply to the last leg only, whose cache key takes
the fragment only then (a substituted English text needs nothing more: its key is itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from . import quality
from .glossary import Enforcer, Prepared, finish, missing, required, term_report
from .runtime.engine import Engine, plan_batches
from .translators import TRANSLATE, PivotTranslator, Translation, Translator, _ProgressShare


@dataclass(frozen=True)
class Job:
    """One text for one leg: the text the cache knows it by, what the model reads, what its cache
    key gains, and (on the leg that writes the final language) the Prepared sentence whose terms
    choose among hypotheses and whose placeholders are restored."""

    text: str
    source: str
    fragment: str = ""
    prepared: Prepared | None = None


class Glossing:
    """The hook a run's Translators hands its translators (`translators.Translators(glossary=...)`)."""

    def __init__(self, enforcer: Enforcer):
        self.enforcer = enforcer

    def translate(self, translator: Translator | PivotTranslator, texts: list[str],
                  advance: Callable[[int], None]) -> dict[str, Translation]:
        """Unique texts -> Translation, as Translator.translate_texts, the glossary followed and checked."""
        src, tgt = translator.pair
        cache = translator.first.cache if isinstance(translator, PivotTranslator) else translator.cache
        reviewed = cache.get_overrides(src, tgt, texts) if src and tgt else {}
        advance(len(reviewed))
        rest = [t for t in texts if t not in reviewed]
        prepared = {t: self.enforcer.prepare(t, src, tgt) for t in rest}
        if isinstance(translator, PivotTranslator):
            done = self._pivot(translator, rest, prepared, advance)
        else:
            jobs = [Job(t, p.source, p.fragment, p if p.matches else None) for t, p in prepared.items()]
            done = dict(zip(rest, run_jobs(translator, jobs, advance)))
        done.update({text: Translation(target, "review") for text, target in reviewed.items()})
        for text in reviewed:
            prepared[text] = self.enforcer.prepare(text, src, tgt)
        return {text: _with_terms(found, prepared[text], tgt) for text, found in done.items()}

    def known(self, translator: Translator, texts: list[str]) -> set[str]:
        """The texts whose translation needs no model: reviewed, or cached under their glossary key
        (Translator.fit: a run that is all in the cache loads no model, with a glossary too)."""
        src, tgt = translator.pair
        reviewed = set(translator.cache.get_overrides(src, tgt, texts)) if src and tgt else set()
        keys = [(t, self.enforcer.prepare(t, src, tgt).fragment) for t in texts if t not in reviewed]
        return reviewed | {text for text, _ in _lookup(translator, keys)}

    def _pivot(self, pivot: PivotTranslator, texts: list[str], prepared: dict[str, Prepared],
               advance: Callable[[int], None]) -> dict[str, Translation]:
        """PivotTranslator._chain with the glossary: terms into the first leg, choice on the last."""
        half = len(texts) // 2
        first = [Job(t, p.source, p.fragment if p.source != t else "") for t, p in prepared.items()]
        english = dict(zip(texts, run_jobs(pivot.first, first, _ProgressShare(advance, half, len(texts)))))
        pieces = {t: pivot._pieces(english[t].target) for t in texts}
        jobs: dict[tuple[str, str], Job] = {}
        for t in texts:
            last = _on_last_leg(prepared[t])
            for piece in pieces[t]:
                job = Job(piece, piece, last.fragment if last else "", last)
                jobs.setdefault((piece, job.fragment), job)
        share = _ProgressShare(advance, len(texts) - half, len(jobs))
        final = dict(zip(jobs, run_jobs(pivot.second, list(jobs.values()), share)))
        share.finish()
        out = {}
        for t in texts:
            last = _on_last_leg(prepared[t])
            key = last.fragment if last else ""
            out[t] = pivot._join(english[t], [final[piece, key] for piece in pieces[t]])
        return out


def _on_last_leg(prepared: Prepared) -> Prepared | None:
    """What the pivot's last leg needs of a sentence: its terms to choose among hypotheses or its
    placeholders to restore (then its key gains the fragment); None when it translates the English as is."""
    return prepared if prepared.matches and (prepared.n > 1 or prepared.slots) else None


def _with_terms(found: Translation, prepared: Prepared, tgt: str) -> Translation:
    if not prepared.matches or found.origin == "failed":
        return found
    return replace(found, terms=term_report(prepared.matches, found.target, tgt))


def signature_of(translator: Translator, fragment: str) -> str:
    """A leg's cache signature for a text with this glossary fragment (the plain one for none)."""
    return f"{translator.signature}|{fragment}" if fragment else translator.signature


def run_jobs(translator: Translator, jobs: Sequence[Job], advance: Callable[[int], None]) -> list[Translation]:
    """Jobs -> Translation each (aligned): the cache under each job's key, then the model for the
    misses, each finished batch stored before the next; duplicate jobs are done once."""
    unique = list(dict.fromkeys((j.text, j.fragment) for j in jobs))
    by_key = {(j.text, j.fragment): j for j in jobs}
    found = _lookup(translator, unique)
    advance(len(found))
    misses = _fitting(translator, [by_key[k] for k in unique if k not in found])
    failed: dict[str, object] = {}
    sources = [j.source for j in misses]
    for positions, outputs, scores in translator.generated(sources, failed):
        rows = translator.checked([sources[i] for i in positions], outputs, scores)
        batch = [misses[i] for i in positions]
        chosen = _enforced(translator, batch, [r[1] for r in rows], [r[3] for r in rows], [r[4] for r in rows])
        _store(translator, batch, chosen)
        found.update({(j.text, j.fragment): Translation(target, "model", flag, None, score)
                      for j, (target, flag, score) in zip(batch, chosen)})
        advance(len(batch))
    for j in misses:
        if j.source in failed:
            found[j.text, j.fragment] = Translation("", "failed", None, failed[j.source])
    return [found[j.text, j.fragment] for j in jobs]


def _fitting(translator: Translator, jobs: list[Job]) -> list[Job]:
    """Texts were fitted to the model's input limit as written (Translator.fit); a substituted one
    that no longer fits (a sentence near the limit whose terms take more tokens) goes as written,
    its terms then only checked, rather than fail."""
    changed = [i for i, j in enumerate(jobs) if j.source != j.text]
    if not changed:
        return jobs
    engine, jobs = translator.engine, list(jobs)
    for i, length in zip(changed, engine.count_tokens([jobs[i].source for i in changed])):
        if length > engine.max_input_tokens:
            jobs[i] = replace(jobs[i], source=jobs[i].text)
    return jobs


def _lookup(translator: Translator, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Translation]:
    """One query per distinct signature: most texts share the plain one; a matched text has its own."""
    groups: dict[str, list[str]] = {}
    for text, fragment in keys:
        groups.setdefault(fragment, []).append(text)
    found = {}
    for fragment, texts in groups.items():
        for text, (target, origin, flag, score) in translator.cache.get_many(signature_of(translator, fragment), texts).items():
            found[text, fragment] = Translation(target, "review" if origin == "review" else "cache", flag, None, score)
    return found


def _store(translator: Translator, jobs: list[Job], chosen: list[tuple[str, str | None, float | None]]) -> None:
    groups: dict[str, list[tuple]] = {}
    for job, (target, flag, score) in zip(jobs, chosen):
        groups.setdefault(job.fragment, []).append((job.text, target, "model", flag, score))
    for fragment, rows in groups.items():
        translator.cache.put_many(signature_of(translator, fragment), TRANSLATE, translator.label, rows)


def _enforced(translator: Translator, jobs: list[Job], outputs: list[str], flags: list[str | None],
              scores: list[float | None]) -> list[tuple[str, str | None, float | None]]:
    """(target, flag, score) per job: placeholders restored, and for nbest/both a translation that
    lacks a term replaced by the best of n hypotheses holding more of them (its score then unknown:
    Engine.hypotheses gives none, so None rather than the first output's)."""
    chosen = []
    for job, out, flag, score in zip(jobs, outputs, flags, scores):
        chosen.append((finish(job.prepared, [out], _target_language(job.prepared))[0] if job.prepared else out, flag, score))
    again = [i for i, job in enumerate(jobs) if job.prepared and job.prepared.n > 1
             and missing(chosen[i][0], required(job.prepared.matches), _target_language(job.prepared))]
    if not again:
        return chosen
    for i, hypotheses in zip(again, _hypotheses(translator.engine, [jobs[i].source for i in again],
                                                 jobs[again[0]].prepared.n)):
        job = jobs[i]
        target, _ = finish(job.prepared, [outputs[i], *hypotheses], _target_language(job.prepared))
        if target != chosen[i][0]:
            chosen[i] = (target, quality.problem(job.source, target), None)
    return chosen


def _target_language(prepared: Prepared) -> str:
    return prepared.matches[0].term.tgt


def _hypotheses(engine: Engine, texts: list[str], k: int) -> list[list[str]]:
    """Engine.hypotheses over batches planned for a beam of k (as the server's alternatives)."""
    lengths = engine.count_tokens(texts)
    out: list[list[str]] = [[] for _ in texts]
    for batch in plan_batches(lengths, engine.budget, max(engine.beams, k)):
        for i, found in zip(batch, engine.hypotheses([texts[i] for i in batch], k)):
            out[i] = found
    return out
