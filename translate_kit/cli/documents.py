"""`tk translate`, `tk summarize`, `tk ls` and `tk import-review`: documents in, documents out.

Each command parses its flags into options (common.py's one option set), calls one library
function, and renders what comes back; common.results_loop says the per-document problems and
maps the outcome to the exit status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CacheError, TkError, UsageError
from ..language import check_language, check_source
from ..options import RunOptions
from .common import (EXIT_FAILED, BackendOpt, DebugOpt, BatchTokensOpt, BeamsOpt, CacheDirOpt, CorpusOpt, DeviceOpt,
                     DocumentProblems, FromOpt, GlossaryModeOpt, GlossaryOpt, JsonOpt, NoCacheOpt, PrecisionOpt,
                     QualityOpt, QuietOpt, ThreadsOpt, check_writable, corpus_dir, decode_options, echo_json, fail,
                     glossary_enforcer, options_or_exit, progress_bar, results_loop, say, setup_logging,
                     terminate_as_interrupt)


def translate(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Files (txt, md, html, pdf, docx), folders (recursively), http(s) URLs, corpus ids, or - for stdin.")],
    to: Annotated[str, typer.Option("--to", metavar="LANG", help="Target language, e.g. en.")] = "en",
    src: FromOpt = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output folder.")] = Path("out"),
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMATS", help="Comma list of md, jsonl, txt, html, tmx, xliff, native, or all. native: a translated copy in the input's own format (HTML, DOCX, Markdown) as <id>.<lang>.<ext>; PDF and plain text have none.")] = "md,jsonl,txt",
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Model for this run: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    beams: BeamsOpt = None,
    precision: PrecisionOpt = "auto",
    backend: BackendOpt = None,
    quality: QualityOpt = None,
    batch_tokens: BatchTokensOpt = None,
    threads: ThreadsOpt = None,
    engine: Annotated[Optional[str], typer.Option("--engine", metavar="ENGINE", help="Where the model runs: local, or ray (a Ray cluster; needs the ray extra; env TK_ENGINE).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, metavar="N", help="ray: model replicas (env TK_WORKERS; default: one per GPU, else per CPU of the cluster).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDRESS", help="ray: an existing cluster, auto or ray://host:10001 (env TK_RAY_ADDRESS; default: a local Ray for this run).")] = None,
    shard: Annotated[Optional[bool], typer.Option("--shard", help="ray: shard the documents over the workers, each with its own cache, merged into yours as shards finish (env TK_SHARD; see docs/cluster.md).")] = None,
    corpus: CorpusOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="In folders, also read symbolic links that lead outside the folder.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", metavar="VERDICT", help="Exit 1 when a sentence is doubt (doubt), or check or worse (check); see tk check.")] = None,
    glossary: GlossaryOpt = None,
    glossary_mode: GlossaryModeOpt = None,
) -> None:
    """Translate documents into aligned bilingual documents.

    Reads plain text, Markdown, HTML pages (the article, not the page furniture), PDF (the text
    layer) and DOCX, by extension or, where it lies, by content; URLs are fetched (proxies from
    http_proxy/https_proxy)."""
    from .. import runtime  # the run's modules: only when a run starts (`tk --help` stays light)
    from ..documents import load_documents
    from ..translate import translate_parts
    from ..writers import get_writers, write_documents

    setup_logging(debug)
    terminate_as_interrupt()
    with options_or_exit():
        to, src = check_language(to, "--to"), check_source(src)  # before anything: they become file names
        if fail_on not in (None, "check", "doubt"):
            raise UsageError(f"--fail-on {fail_on!r}: use check or doubt")
        writers = get_writers(fmt)
        check_writable(out)
        run = RunOptions.from_env(device=device, batch_tokens=batch_tokens, threads=threads, cache_dir=cache_dir,
                                  use_cache=not no_cache, engine=engine, workers=workers, ray_address=ray_address,
                                  shard=shard)
        runtime.check_engine(run.engine)
        decode = decode_options(beams, precision, backend, quality)
        enforcer = glossary_enforcer(glossary, glossary_mode, [to])
    bar, progress = progress_bar(quiet)
    if run.shard:  # documents go to the workers whole (sharded.py): written here as they come back
        from ..sharded import translate_sharded  # the [ray] side: only for --shard

        results = translate_sharded(paths, to, out, writers, src=src, decode=decode, run=run, model=model,
                                    corpus=corpus_dir(corpus), follow_links=follow_links, progress=progress,
                                    glossary=enforcer)
    else:
        docs = load_documents(paths, corpus_dir(corpus), exclude=out, follow_links=follow_links)
        parts = translate_parts(docs, to, src=src, decode=decode, run=run, model=model, progress=progress,
                                glossary=enforcer)
        results = write_documents(parts, writers, out)
    reports, failed = results_loop(
        results, bar, "interrupted; {done} document(s) written, finished batches are cached: run again to resume",
        as_json=as_json)
    if not as_json and not quiet:
        done = sum(1 for r in reports if not r["error"])
        say(f"{done} of {len(reports)} document(s) translated into {out}/{to_check_line(reports)}")
    if failed or (fail_on and sum(r.get("doubt" if fail_on == "doubt" else "to_check", 0) for r in reports)):
        raise typer.Exit(EXIT_FAILED)  # --fail-on: counts from translate.count_origins


def to_check_line(reports: list[dict]) -> str:
    """The run's verdicts, from the per-document counts (translate.count_origins): the end of the
    run's one closing line, empty when no sentence was translated."""
    total = sum(r.get("segments", 0) for r in reports if not r.get("error"))
    check, doubt = (sum(r.get(key, 0) for r in reports if not r.get("error")) for key in ("to_check", "doubt"))
    return f"; {check} of {total} sentences to check ({doubt} doubt)" if total else ""


def summarize(
    docs: Annotated[list[str], typer.Argument(metavar="DOC", help="Corpus ids or unique prefixes (003), files, folders, or - for stdin.")],
    method: Annotated[str, typer.Option("--method", metavar="METHOD", help="abstractive (distilBART over the English translation) or extractive (central source sentences; no summarizer).")] = "abstractive",
    length: Annotated[str, typer.Option("--length", metavar="LENGTH", help="short, medium or long.")] = "medium",
    lang: Annotated[Optional[str], typer.Option("--lang", metavar="LANGS", help="Comma list of summary languages (default: en and the document's own).")] = None,
    src: FromOpt = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Also write <id>.summary.md and <id>.summary.json here.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Summarizer: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    beams: BeamsOpt = None,
    precision: PrecisionOpt = "auto",
    backend: BackendOpt = None,
    quality: QualityOpt = None,
    threads: ThreadsOpt = None,
    corpus: CorpusOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
    glossary: GlossaryOpt = None,
    glossary_mode: GlossaryModeOpt = None,
) -> None:
    """Summarize documents, in English and their own language, aligned sentence by sentence."""
    from ..documents import load_documents  # the run's modules: only when a run starts
    from ..summarize import SummaryOptions, parse_langs, render_text, summarize as run_summary, write_summary

    setup_logging(debug)
    terminate_as_interrupt()
    with options_or_exit():
        options = SummaryOptions(method, length, parse_langs(lang), check_source(src), model).check()
        if out is not None:
            check_writable(out)
        run = RunOptions.from_env(device=device, threads=threads, cache_dir=cache_dir, use_cache=not no_cache)
        decode = decode_options(beams, precision, backend, quality)  # as `tk translate` builds it: the same cache entries
        enforcer = glossary_enforcer(glossary, glossary_mode, None)  # the translations follow it
    bar, progress = progress_bar(quiet, "translating" if method == "abstractive" else "summarizing")

    def each(result, problems: DocumentProblems) -> None:
        bar.clear()
        if not result.error and out is not None:
            write_summary(result, out)
        for note in result.notes:
            problems.add(result.doc_id, note)
        if not result.error and not as_json:
            typer.echo(render_text(result))

    results = run_summary(load_documents(docs, corpus_dir(corpus)), options, decode=decode, run=run, progress=progress,
                          glossary=enforcer)
    _, failed = results_loop(results, bar, "interrupted; {done} document(s) done, finished batches are cached", each,
                             as_json)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def list_corpus(
    paths: Annotated[Optional[list[str]], typer.Argument(metavar="PATH", help="Files, folders, URLs, corpus ids or - (as tk translate takes them; default: the corpus folder).")] = None,
    corpus: CorpusOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List documents: id, format, language, paragraphs, sentences, characters, date."""
    from ..corpus import describe  # reads the documents: only when it runs

    with options_or_exit():
        rows = describe(corpus_dir(corpus), paths)
    if as_json:
        echo_json(rows)
    else:
        typer.echo(f"{'id':<24} {'format':<6} {'lang':<4} {'paras':>5} {'sents':>5} {'chars':>7}  date")
        for r in rows:
            if r.get("error"):
                typer.echo(f"{r['id']:<24} {r.get('format') or '-':<6} {r['error']}")
                continue
            typer.echo(f"{r['id']:<24} {r['format']:<6} {r['lang']:<4} {r['paragraphs']:>5} {r['sentences']:>5} {r['characters']:>7}  {r['date'] or '-'}")
    if any(r.get("error") for r in rows):
        raise typer.Exit(EXIT_FAILED)


def import_review(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Reviewed XLIFF files (.xlf) written by tk translate --format xliff or xliff12.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Use the segments marked reviewed or final in XLIFF files as translations in later runs."""
    from ..review import import_review as run_import  # the XLIFF reader: only when it runs

    with options_or_exit():
        folder = cache_dir or RunOptions.from_env().cache_dir
    reports, failed, problems = [], False, DocumentProblems()
    for path in files:
        try:
            reports.append(run_import(path, folder))
        except CacheError as err:  # the cache, not this file: the same for every file, so say it once
            raise fail(err)
        except TkError as err:
            failed = True
            problems.add_error(str(path), str(err))
            reports.append({"file": str(path), "error": str(err)})
            continue
        r = reports[-1]
        if not as_json:
            say(f"{path}: {r['reviewed']} reviewed segment(s) imported for {r['src_lang']}->{r['tgt_lang']} "
                f"({r['not_reviewed']} not marked reviewed, {r['empty']} empty)")
    problems.say_all()
    if as_json:
        echo_json({"files": reports, "ok": not failed})
    if failed:
        raise typer.Exit(EXIT_FAILED)


