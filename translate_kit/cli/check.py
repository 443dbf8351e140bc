"""`tk check FILE...`: the consistency checks on translations tk did not make (or did), as
translators' QA tools do: TMX, XLIFF 2.x and 1.2, tk's jsonl.

Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import EXIT_FAILED, EXIT_USAGE, say

FAIL_ON = ("check", "doubt")
SHOWN = 300  # characters of a sentence shown in the text report




def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="TMX, XLIFF (2.x or 1.2) or tk jsonl files.")],
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", metavar="VERDICT", help="Exit 1 when a sentence is `check` or worse (check), or `doubt` (doubt).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one machine-readable report on stdout.")] = False,
    score: Annotated[bool, typer.Option("--score", help="Also score each translation under the pair's model, where one is in the local cache (forced decoding; no download), and use it in the verdicts.")] = False,
) -> None:
    """Check translations sentence by sentence: numbers, names, untranslated or dropped text, quotes.

    Each sentence gets a verdict, ok, check or doubt, with the reasons. A file that cannot be read
    is one line on stderr (exit 1); the others are still checked."""
    if fail_on is not None and fail_on not in FAIL_ON:
        say(f"--fail-on {fail_on!r}: use check or doubt")
        raise typer.Exit(EXIT_USAGE)
    from ..checks.files import read_pairs
    from ..checks.report import check_document
    from ..errors import TkError

    documents, errors = [], []
    scorer = ModelScores() if score else None
    for path in files:
        try:
            found = [check_document(doc, scorer(doc, path) if scorer else None) for doc in read_pairs(path)]
        except TkError as err:
            errors.append({"file": str(path), "error": str(err)})
            say(str(err))
            continue
        documents += found
        if not as_json:
            typer.echo(_text_report(str(path), found))
    counts = {v: sum(d["counts"][v] for d in documents) for v in ("ok", "check", "doubt")}
    if as_json:
        typer.echo(json.dumps({"documents": documents, "errors": errors, "counts": counts}, ensure_ascii=False, indent=2))
    if errors or _fails(counts, fail_on):
        raise typer.Exit(EXIT_FAILED)


class ModelScores:
    """`--score`: each pair's model score by forced decoding (Engine.score_pairs), with the model of
    its language pair when that is in the local cache (never downloaded: a direct model only, as a
    pivot's English is not the text checked); else one line says the score is absent."""

    def __init__(self):
        from ..cache import NoCache
        from ..options import DecodeOptions, RunOptions
        from ..translators import Translators

        # this process's engine (scoring needs the weights here, not on Ray's workers)
        self.translators = Translators(DecodeOptions(), RunOptions.from_env(engine="local"), NoCache())
        self.absent: set[tuple[str, str]] = set()

    def __call__(self, doc, path: Path) -> list[float | None] | None:
        from .. import models
        from ..errors import TkError

        pair = (doc.src_lang, doc.tgt_lang)
        if pair in self.absent:
            return None
        try:
            if not all(pair) or models.local_snapshot(models.pick_model(*pair)) is None:
                raise TkError(f"no {pair[0] or '?'}-{pair[1] or '?'} model in the local cache")
            return self.scores(self.translators.get(*pair).engine, doc.pairs)
        except TkError as err:
            self.absent.add(pair)
            say(f"{path}: the model score is absent ({err})")
            return None

    @staticmethod
    def scores(engine, pairs) -> list[float | None]:
        """Scores of the pairs that fit the model's input; None for a pair that does not."""
        fits = [i for i, (_, s, t) in enumerate(pairs)
                if max(engine.count_tokens([s, t])) <= engine.max_input_tokens and s.strip() and t.strip()]
        found = engine.score_pairs([pairs[i][1] for i in fits], [pairs[i][2] for i in fits]) if fits else []
        scores: list[float | None] = [None] * len(pairs)
        for i, value in zip(fits, found):
            scores[i] = value
        return scores


def _fails(counts: dict, fail_on: str | None) -> bool:
    if fail_on == "check":
        return counts["check"] + counts["doubt"] > 0
    return fail_on == "doubt" and counts["doubt"] > 0


def _text_report(path: str, documents: list[dict]) -> str:
    lines = []
    for d in documents:
        c = d["counts"]
        name = f"{path} ({d['id']})" if d["id"] and len(documents) > 1 else path
        lines.append(f"{name}: {d['src_lang']}->{d['tgt_lang']}, {d['segments_total']} sentences: "
                     f"{c['ok']} ok, {c['check']} to check, {c['doubt']} in doubt")
        for s in d["segments"]:
            if s["verdict"] != "ok":
                reasons = "; ".join(c["detail"] for c in s["checks"])
                lines.append(f"  {s['verdict']:5} {s['id']}: {reasons}")
                lines.append(f"        {d['src_lang']}: {_short(s['source'])}")
                lines.append(f"        {d['tgt_lang']}: {_short(s['target'])}")
    return "\n".join(lines)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
