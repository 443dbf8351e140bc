"""`tk glossary check`: read glossary files, report duplicates and conflicts, show what matches in a corpus.

Registered on the main app in cli/__init__.py with one line; `say` and the corpus folder come from
common.py. Exit status: 2 for a file that cannot be read (one line naming the file, the line and
the problem), 1 when a direction has conflicts or a corpus document cannot be read, 0 otherwise.
The glossary package and the readers load only when the command runs.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import corpus_dir, say
from .help import App
from ..errors import GlossaryError, TkError, UsageError

glossary_app = App(help="Check glossary files (TSV/CSV with language columns, TBX) and what they match.",
                   no_args_is_help=True)

EXAMPLE_CHARS = 30  # of context each side of a match in the corpus listing




@glossary_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Glossary files: .tsv, .csv, .tbx.")],
    corpus: Annotated[Optional[list[str]], typer.Option("--corpus", metavar="PATHS", help="Documents, folders or corpus ids to match the terms against (repeatable).")] = None,
    src: Annotated[Optional[str], typer.Option("--from", metavar="LANG", help="Source language (default: the first language column).")] = None,
    tgt: Annotated[Optional[str], typer.Option("--to", metavar="LANG", help="Target language (default: every other language of the files).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one machine-readable report on stdout.")] = False,
) -> None:
    """Parse the files, list duplicates and conflicts per direction, and with --corpus how often each term is found."""
    from ..glossary import Matcher, load_glossary

    try:
        glossary = load_glossary(files)
        source, targets = _directions(glossary.languages, src, tgt)
    except (GlossaryError, UsageError) as err:
        say(str(err))
        raise typer.Exit(2)
    matchers = {target: Matcher(glossary.terms(source, target), source) for target in targets}
    report = {"files": [str(f) for f in files], "entries": len(glossary.entries), "languages": glossary.languages,
              "pairs": [_pair_report(source, t, m) for t, m in matchers.items()]}
    failed = any(p["conflicts"] for p in report["pairs"])
    if corpus:
        report["corpus"], unreadable = _corpus_report(corpus, matchers[targets[0]])  # matches depend on the source only
        failed = failed or unreadable
    _render(report) if not as_json else typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(1)


def _directions(languages: list[str], src: str | None, tgt: str | None) -> tuple[str, list[str]]:
    from ..language import check_language

    source = check_language(src, "--from") if src else languages[0]
    targets = [check_language(tgt, "--to")] if tgt else [code for code in languages if code != source]
    for code in (source, *targets):
        if code not in languages and code.split("-")[0] not in {c.split("-")[0] for c in languages}:
            raise UsageError(f"the glossary has no '{code}' column; it has {', '.join(languages)}")
    if not targets or source in targets:
        raise UsageError(f"--to must differ from --from ({source})")
    return source, targets


def _pair_report(src: str, tgt: str, matcher) -> dict:
    return {"src": src, "tgt": tgt, "terms": len(matcher),
            "duplicates": [str(p) for p in matcher.problems if p.kind == "duplicate"],
            "conflicts": [str(p) for p in matcher.problems if p.kind == "conflict"]}


def _corpus_report(paths: list[str], matcher) -> tuple[dict, bool]:
    """Per term: matches, documents, one example; unreadable documents reported as they come."""
    from ..documents import load_documents
    from ..segment import split_paragraphs

    counts: Counter = Counter()
    documents: dict = defaultdict(set)
    examples: dict = {}
    read = paragraphs = 0
    unreadable = False
    for doc in load_documents(paths, corpus=corpus_dir(None)):
        if isinstance(doc, TkError):
            say(str(doc))
            unreadable = True
            continue
        read += 1
        for paragraph in split_paragraphs(doc.text):
            paragraphs += 1
            for match in matcher.match(paragraph):
                counts[match.term] += 1
                documents[match.term].add(doc.id)
                examples.setdefault(match.term, f"{doc.id}: {_context(paragraph, match)}")
    terms = [{"source": t.source, "target": t.target, "origin": t.origin, "matches": counts[t],
              "documents": len(documents[t]), "example": examples.get(t, "")} for t in matcher.terms]
    return {"src": matcher.src, "tgt": matcher.terms[0].tgt if matcher.terms else "", "documents": read,
            "paragraphs": paragraphs, "matches": sum(counts.values()), "terms": terms}, unreadable


def _context(text: str, match) -> str:
    start, end = max(0, match.start - EXAMPLE_CHARS), match.end + EXAMPLE_CHARS
    snippet = f"{text[start:match.start]}[{text[match.start:match.end]}]{text[match.end:end]}"
    return ("…" if start else "") + " ".join(snippet.split()) + ("…" if end < len(text) else "")


def _render(report: dict) -> None:
    typer.echo(f"{', '.join(report['files'])}: {report['entries']} entries; languages {', '.join(report['languages'])}")
    for pair in report["pairs"]:
        typer.echo(f"{pair['src']} -> {pair['tgt']}: {pair['terms']} terms, {len(pair['duplicates'])} duplicate(s), "
                   f"{len(pair['conflicts'])} conflict(s)")
        for line in pair["conflicts"]:
            typer.echo(f"  conflict: {line}")
        for line in pair["duplicates"]:
            typer.echo(f"  duplicate: {line}")
    corpus = report.get("corpus")
    if not corpus:
        return
    found = [t for t in corpus["terms"] if t["matches"]]
    typer.echo(f"corpus ({corpus['src']} -> {corpus['tgt']}): {corpus['documents']} document(s), {corpus['paragraphs']} paragraph(s); "
               f"{len(found)} of {len(corpus['terms'])} terms found, {corpus['matches']} match(es)")
    for term in sorted(found, key=lambda t: -t["matches"]):
        typer.echo(f"  {term['source']} -> {term['target']}: {term['matches']} in {term['documents']} document(s), "
                   f"e.g. {term['example']}")
    missing = [f"{t['source']} -> {t['target']}" for t in corpus["terms"] if not t["matches"]]
    if missing:
        typer.echo(f"never found: {'; '.join(missing)}")
