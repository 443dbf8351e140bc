"""The `tk` command: parse arguments, build options, call one library function, render, map errors.

Exit status: 0 all good, 1 some document (or model) failed, 2 usage error, 130 interrupted.
Heavy imports (torch, transformers) happen inside the library calls, never here at import.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_help import App
from .errors import CacheError, DocumentError, DocumentFailed, OutputError, TkError, UsageError
from .language import check_language, check_source
from .options import DecodeOptions, RunOptions, corpus_folder

app = App(help="Local, offline bilingual translation and summaries of foreign-language articles.",
          no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
cache_app = App(help="Inspect, clear or merge the translation cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

from .cli_models import doctor, models_app  # noqa: E402  (typer only; nothing heavy)

app.add_typer(models_app, name="models")
app.command("doctor")(doctor)

from .cli_serve import serve  # noqa: E402  (typer only; the server stack loads when it runs)

app.command("serve")(serve)

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# Options shared by several commands.
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", metavar="DIR", help="Folder where document ids resolve (env TK_CORPUS; default seeds/).")]
CacheDirOpt = Annotated[Optional[Path], typer.Option("--cache-dir", metavar="DIR", help="Cache folder (env TK_CACHE_DIR; default cache/).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable report on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", metavar="DEVICE", help="auto|cpu|cuda|cuda:N|mps (env TK_DEVICE).")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, metavar="N", help="CPU threads (env TK_THREADS; default: all cores).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache for this run.")]


def say(message: str) -> None:
    typer.echo(f"tk: {message}", err=True)


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    say(message)
    return typer.Exit(code)


class DocumentProblems:
    """Per-document errors and notes, said once per problem: a model missing for five documents is
    one line naming the five, not five lines. Messages follow the library's `<document>: <problem>`
    convention; documents with the same problem are gathered, and `say_all()` (at the end of a run,
    or when it stops) prints one line each, in the order the problems first came."""

    SHOWN = 5  # document names listed in a line; the others are counted

    def __init__(self) -> None:
        self.documents: dict[str, list[str]] = {}

    def add_error(self, document: str, error: TkError | str) -> None:
        """A result's error, which names the document itself (`<document>: <problem>`): the typed
        error's own problem (DocumentError.problem, DocumentFailed.cause) when it has one."""
        if isinstance(error, DocumentError) and error.path == document:
            self.add(document, error.problem)
        elif isinstance(error, DocumentFailed) and error.source == document:
            self.add(document, str(error.cause))
        else:
            message, prefix = str(error), f"{document}: "
            self.add(document, message[len(prefix):] if message.startswith(prefix) else message)

    def add(self, document: str, problem: str) -> None:
        self.documents.setdefault(problem, []).append(document)

    def say_all(self) -> None:
        for problem, documents in self.documents.items():
            say(f"{self.named(documents)}: {problem}")
        self.documents.clear()

    @classmethod
    def named(cls, documents: list[str]) -> str:
        documents = list(dict.fromkeys(documents))
        if len(documents) == 1:
            return documents[0]
        shown = ", ".join(documents[: cls.SHOWN])
        more = f" and {len(documents) - cls.SHOWN} more" if len(documents) > cls.SHOWN else ""
        return f"{len(documents)} documents ({shown}{more})"


@contextmanager
def options_or_exit():
    """Building options from flags: a UsageError exits 2, any other TkError exits 1, one line each."""
    try:
        yield
    except UsageError as err:
        raise fail(str(err), EXIT_USAGE)
    except TkError as err:
        raise fail(str(err))


def setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("tk: %(levelname)s: %(message)s"))
    log = logging.getLogger("translate_kit")
    log.handlers[:] = [handler]
    log.setLevel(logging.ERROR if quiet else logging.WARNING)
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-call library chatter


def terminate_as_interrupt() -> None:
    """SIGTERM ends a run like Ctrl-C: finished batches are already cached, outputs stay whole."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def corpus_dir(corpus: Path | None) -> Path:
    return corpus or corpus_folder()


def check_writable(out: Path) -> None:
    """Fail before any model work when the output folder cannot be written."""
    import tempfile

    from .writers import remove_stale_temporaries

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise OutputError(f"{out}: cannot write output here ({err.strerror or err})") from None
    remove_stale_temporaries(out)  # left by a tk that was killed


class _NoBar:
    """What the commands use of a tqdm bar, drawing nothing (--quiet, or stderr not a terminal)."""

    total = 0

    def refresh(self, *args, **kwargs) -> None: ...
    def update(self, n: int = 1) -> None: ...
    def set_description_str(self, *args, **kwargs) -> None: ...
    def clear(self, *args, **kwargs) -> None: ...
    def close(self) -> None: ...


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def progress_bar(quiet: bool, desc: str = "translating"):
    """A tqdm bar on stderr (segments, rate, ETA) wired to the library's progress callbacks.
    Off with --quiet, and when stderr is not a terminal (logs get no bar redraws). What a long
    wait is ("loading Helsinki-NLP/opus-mt-fr-en", "converting ... for CTranslate2 (once)") shows
    as the bar's label until the work starts; the step under way (translating, summarizing) too.
    Without a bar to draw, tqdm is not imported (~40 ms of a warm run)."""
    from .translators import Progress

    if quiet or not _isatty(sys.stderr):
        bar = _NoBar()
    else:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="seg", desc=desc, file=sys.stderr, dynamic_ncols=True)
    label = {"step": desc, "shown": desc}

    def show(text: str, refresh: bool = True) -> None:
        label["shown"] = text
        bar.set_description_str(text, refresh=refresh)

    def add_total(n: int) -> None:
        bar.total += n
        bar.refresh()

    def advance(n: int) -> None:
        if label["shown"] != label["step"]:  # a note was showing: the work has started
            show(label["step"], refresh=False)
        bar.update(n)

    def stage(step: str) -> None:
        label["step"] = step
        show(step)

    return bar, Progress(add_total=add_total, advance=advance, stage=stage, note=show)


@app.command()
def translate(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Files (txt, md, html, pdf, docx), folders (recursively), http(s) URLs, corpus ids, or - for stdin.")],
    to: Annotated[str, typer.Option("--to", metavar="LANG", help="Target language, e.g. en.")] = "en",
    src: Annotated[str, typer.Option("--from", metavar="LANG", help="Source language, or auto to detect per document.")] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output folder.")] = Path("out"),
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMATS", help="Comma list of md, jsonl, txt, html, tmx, xliff, native, or all. native: a translated copy in the input's own format (HTML, DOCX, Markdown) as <id>.<lang>.<ext>; PDF and plain text have none.")] = "md,jsonl,txt",
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Model for this run: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    beams: Annotated[Optional[int], typer.Option("--beams", min=1, metavar="N", help="Beam size (default: the model's own).")] = None,
    precision: Annotated[str, typer.Option("--precision", metavar="PRECISION", help="auto (int8 with ct2 on CPU, fp16 on CUDA), fp32, fp16, bf16, int8.")] = "auto",
    backend: Annotated[Optional[str], typer.Option("--backend", metavar="BACKEND", help="auto (ct2 on CPU, torch on GPU), torch, ct2 (env TK_BACKEND).")] = None,
    batch_tokens: Annotated[Optional[int], typer.Option("--batch-tokens", min=1, metavar="N", help="Token budget per batch (source tokens x beams).")] = None,
    threads: ThreadsOpt = None,
    engine: Annotated[Optional[str], typer.Option("--engine", metavar="ENGINE", help="Where the model runs: local, or ray (a Ray cluster; needs the ray extra; env TK_ENGINE).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, metavar="N", help="ray: model replicas (env TK_WORKERS; default: one per GPU, else per CPU of the cluster).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDRESS", help="ray: an existing cluster, auto or ray://host:10001 (env TK_RAY_ADDRESS; default: a local Ray for this run).")] = None,
    shard: Annotated[Optional[bool], typer.Option("--shard", help="ray: shard the documents over the workers, each with its own cache, merged into yours as shards finish (env TK_SHARD; see README \"Past one machine\").")] = None,
    corpus: CorpusOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="In folders, also read symbolic links that lead outside the folder.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Translate documents into aligned bilingual documents.

    Reads plain text, Markdown, HTML pages (the article, not the page furniture), PDF (the text
    layer) and DOCX, by extension or, where it lies, by content; URLs are fetched (proxies from
    http_proxy/https_proxy)."""
    from contextlib import closing

    from . import runtime
    from .documents import load_documents
    from .translate import translate_parts
    from .writers import get_writers, write_documents

    setup_logging(quiet)
    terminate_as_interrupt()
    with options_or_exit():
        to, src = check_language(to, "--to"), check_source(src)  # before anything: they become file names
        writers = get_writers(fmt)
        check_writable(out)
        run = RunOptions.from_env(device=device, batch_tokens=batch_tokens, threads=threads, cache_dir=cache_dir,
                                  use_cache=not no_cache, engine=engine, workers=workers, ray_address=ray_address,
                                  shard=shard)
        runtime.check_engine(run.engine)
        # without --backend, DecodeOptions reads TK_BACKEND itself (defaults < environment < flags)
        decode = DecodeOptions(beams=beams, precision=precision, **({"backend": backend} if backend else {}))
    bar, progress = progress_bar(quiet)
    if run.shard:  # documents go to the workers whole (sharded.py): written here as they come back
        from .sharded import translate_sharded

        results = translate_sharded(paths, to, out, writers, src=src, decode=decode, run=run, model=model,
                                    corpus=corpus_dir(corpus), follow_links=follow_links, progress=progress)
    else:
        docs = load_documents(paths, corpus_dir(corpus), exclude=out, follow_links=follow_links)
        parts = translate_parts(docs, to, src=src, decode=decode, run=run, model=model, progress=progress)
        results = write_documents(parts, writers, out)
    reports, failed, problems = [], False, DocumentProblems()
    try:
        with closing(results):
            for result in results:
                if result.error:
                    failed = True
                    problems.add_error(result.source_name, result.error)
                reports.append(result.to_dict())
    except KeyboardInterrupt:
        bar.close()
        problems.say_all()
        raise fail(f"interrupted; {len(reports)} document(s) written, finished batches are cached: run again to resume",
                   EXIT_INTERRUPTED)
    except TkError as err:
        bar.close()
        problems.say_all()
        raise fail(str(err))
    bar.close()
    problems.say_all()
    if as_json:
        typer.echo(json.dumps({"documents": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    elif not quiet:
        done = sum(1 for r in reports if not r["error"])
        say(f"{done} of {len(reports)} document(s) translated into {out}/")
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def summarize(
    docs: Annotated[list[str], typer.Argument(metavar="DOC", help="Corpus ids or unique prefixes (003), files, folders, or - for stdin.")],
    method: Annotated[str, typer.Option("--method", metavar="METHOD", help="abstractive (distilBART over the English translation) or extractive (central source sentences; no summarizer).")] = "abstractive",
    length: Annotated[str, typer.Option("--length", metavar="LENGTH", help="short, medium or long.")] = "medium",
    lang: Annotated[Optional[str], typer.Option("--lang", metavar="LANGS", help="Comma list of summary languages (default: en and the document's own).")] = None,
    src: Annotated[str, typer.Option("--from", metavar="LANG", help="Source language, or auto to detect per document.")] = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Also write <id>.summary.md and <id>.summary.json here.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Summarizer: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    precision: Annotated[str, typer.Option("--precision", metavar="PRECISION", help="auto (int8 with ct2 on CPU, fp16 on CUDA), fp32, fp16, bf16, int8.")] = "auto",
    backend: Annotated[Optional[str], typer.Option("--backend", metavar="BACKEND", help="auto (ct2 on CPU, torch on GPU), torch, ct2 (env TK_BACKEND).")] = None,
    threads: ThreadsOpt = None,
    corpus: CorpusOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Summarize documents, in English and their own language, aligned sentence by sentence."""
    from .documents import load_documents
    from .summarize import SummaryOptions, parse_langs, render_text, summarize as run_summary, write_summary

    setup_logging(quiet)
    terminate_as_interrupt()
    with options_or_exit():
        options = SummaryOptions(method, length, parse_langs(lang), check_source(src), model).check()
        if out is not None:
            check_writable(out)
        run = RunOptions.from_env(device=device, threads=threads, cache_dir=cache_dir, use_cache=not no_cache)
        # as `tk translate` builds it (same cache entries); without --backend, TK_BACKEND
        decode = DecodeOptions(precision=precision, **({"backend": backend} if backend else {}))
    reports, failed, problems = [], False, DocumentProblems()
    bar, progress = progress_bar(quiet, "translating" if method == "abstractive" else "summarizing")
    try:
        for result in run_summary(load_documents(docs, corpus_dir(corpus)), options, decode=decode, run=run,
                                  progress=progress):
            failed = failed or bool(result.error)
            bar.clear()
            if result.error:
                problems.add_error(result.source_name, result.error)
            elif out is not None:
                write_summary(result, out)
            for note in result.notes:
                problems.add(result.doc_id, note)
            if not result.error and not as_json:
                typer.echo(render_text(result))
            reports.append(result.to_dict())
    except KeyboardInterrupt:
        bar.close()
        problems.say_all()
        raise fail(f"interrupted; {len(reports)} document(s) done, finished batches are cached", EXIT_INTERRUPTED)
    except TkError as err:
        bar.close()
        problems.say_all()
        raise fail(str(err))
    bar.close()
    problems.say_all()
    if as_json:
        typer.echo(json.dumps({"documents": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("ls")
def list_corpus(corpus: CorpusOpt = None, as_json: JsonOpt = False) -> None:
    """List the corpus: id, format, language, paragraphs, sentences, characters, date."""
    from .corpus import describe

    try:
        rows = describe(corpus_dir(corpus))
    except TkError as err:
        raise fail(str(err))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'id':<24} {'format':<6} {'lang':<4} {'paras':>5} {'sents':>5} {'chars':>7}  date")
    for r in rows:
        if r.get("error"):
            typer.echo(f"{r['id']:<24} {r.get('format') or '-':<6} {r['error']}")
            continue
        typer.echo(f"{r['id']:<24} {r['format']:<6} {r['lang']:<4} {r['paragraphs']:>5} {r['sentences']:>5} {r['characters']:>7}  {r['date'] or '-'}")


@app.command("import-review")
def import_review(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Reviewed XLIFF files (.xlf) written by tk translate --format xliff or xliff12.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Use the segments marked reviewed or final in XLIFF files as translations in later runs."""
    from .review import import_review as run_import

    with options_or_exit():
        folder = cache_dir or RunOptions.from_env().cache_dir
    reports, failed, problems = [], False, DocumentProblems()
    for path in files:
        try:
            reports.append(run_import(path, folder))
        except CacheError as err:  # the cache, not this file: the same for every file, so say it once
            raise fail(str(err))
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
        typer.echo(json.dumps({"files": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def cache_or_exit(cache_dir: Path | None):
    """The cache of a `tk cache` command; whatever stops it is one line and exit 1 (2 for usage)."""
    from .cache import Cache

    with options_or_exit():
        cache = Cache(cache_dir or RunOptions.from_env().cache_dir)
        try:
            yield cache
        finally:
            cache.close()


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None, as_json: JsonOpt = False) -> None:
    """Entries, size on disk, and entries per model."""
    with cache_or_exit(cache_dir) as cache:
        stats = cache.stats()
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo(f"{stats['path']}: {stats['entries']} entries, {stats['bytes'] / 1e6:.1f} MB; "
               f"{stats['reviews']} imported review(s) in {Path(stats['reviews_path']).name}")
    for m in stats["models"]:
        typer.echo(f"  {m['model']:<48} {m['task']:<10} {m['entries']:>7}")
    for name in stats["damaged_files"]:
        typer.echo(f"  set aside as damaged (kept, safe to delete once you no longer need it): {name}")


@cache_app.command("clear")
def cache_clear(
    model: Annotated[Optional[str], typer.Option("--model", metavar="REPO", help="Only this model's entries (repo id).")] = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove cached results (all, or one model's). Imported reviews are kept."""
    with cache_or_exit(cache_dir) as cache:
        removed = cache.clear(model)
    say(f"removed {removed} cache entries")


@cache_app.command("check")
def cache_check(
    repair: Annotated[bool, typer.Option("--repair", help="Recover what can be read from a damaged file into a new one (the damaged file is kept aside).")] = False,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask SQLite whether the cache files are sound (PRAGMA quick_check); changes nothing unless --repair."""
    from .cache import check

    with options_or_exit():
        folder = cache_dir or RunOptions.from_env().cache_dir
        rows = check(folder, repair)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    for row in rows if not as_json else []:
        if not row["exists"]:
            typer.echo(f"{row['path']}: not there (nothing cached yet)")
        elif not row["damage"]:
            typer.echo(f"{row['path']}: ok")
        elif "repair" in row:
            r = row["repair"]
            typer.echo(f"{row['path']}: was damaged ({row['damage']}); recovered "
                       f"{', '.join(f'{n} {t}' for t, n in r['recovered'].items()) or 'nothing'}; "
                       f"the damaged file is kept as {Path(r['kept_as']).name}")
        else:
            typer.echo(f"{row['path']}: damaged ({row['damage']}); `tk cache check --repair` recovers what can be "
                       "read (the next tk run that uses the cache does too)")
    if any(row["damage"] and "repair" not in row for row in rows):
        raise typer.Exit(EXIT_FAILED)


@cache_app.command("merge")
def cache_merge(
    others: Annotated[list[Path], typer.Argument(metavar="OTHER", help="Other caches: folders (e.g. a node's cache copied back) or their translations.sqlite3 / reviews.sqlite3 files.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add the entries, detected languages and reviews of other caches that this one lacks.

    Keys are by content, so merging is a union; where both have an entry with different text,
    this cache's is kept and the difference counted."""
    from .cache import Merged, cache_files, merge_file
    from .errors import CacheFileError

    rows = []

    def refused(name, err: CacheFileError) -> None:  # this file only: the others are still merged
        rows.append({"file": str(name), "error": str(err)})
        say(str(err))

    with cache_or_exit(cache_dir) as cache:  # this cache's own trouble (busy, full) ends it: one line
        for other in others:
            try:
                paths = cache_files(other)
            except CacheFileError as err:
                refused(other, err)
                continue
            merged: dict = {}  # a folder's files (translations, reviews) said in one line
            for path in paths:
                try:
                    for table, counts in merge_file(cache, path).items():
                        merged.setdefault(table, Merged())
                        merged[table] += counts
                except CacheFileError as err:
                    refused(path, err)
            if merged:  # at least one of its files was merged
                rows.append({"file": str(other), "error": None, **{t: m.as_dict() for t, m in merged.items()}})
                if not as_json:
                    say(f"{other}: {merged_line(merged)}")
    failed = any(row["error"] for row in rows)
    if as_json:
        typer.echo(json.dumps({"files": rows, "ok": not failed}, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)


def merged_line(merged: dict) -> str:
    """"12 entries added, 3 already here; 1 language added" and what differed or was malformed."""
    names = {"entries": ("entry", "entries"), "languages": ("language", "languages"), "overrides": ("review", "reviews")}
    said = []
    for table, m in merged.items():
        if not any(m.as_dict().values()):
            continue
        one, many = names[table]
        text = f"{m.added} {one if m.added == 1 else many} added, {m.present} already here"
        if m.conflicts:
            text += f", {m.conflicts} different from this cache's (this cache's kept)"
        if m.skipped:
            text += f", {m.skipped} malformed row(s) skipped"
        said.append(text)
    return "; ".join(said) or "nothing in it to merge"


def main() -> None:
    app()
