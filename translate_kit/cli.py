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

from .errors import OutputError, TkError, UsageError
from .options import DecodeOptions, RunOptions, env

app = typer.Typer(help="Local, offline bilingual translation and summaries of foreign-language articles.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
cache_app = typer.Typer(help="Inspect or clear the translation cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

from .cli_models import doctor, models_app  # noqa: E402  (typer only; nothing heavy)

app.add_typer(models_app, name="models")
app.command("doctor")(doctor)

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# Options shared by several commands.
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder where document ids resolve (env TK_CORPUS; default seeds/).")]
CacheDirOpt = Annotated[Optional[Path], typer.Option("--cache-dir", help="Cache folder (env TK_CACHE_DIR; default cache/).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable report on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="auto|cpu|cuda|cuda:N|mps (env TK_DEVICE).")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="CPU threads (env TK_THREADS; default: all cores).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache for this run.")]


def say(message: str) -> None:
    typer.echo(f"tk: {message}", err=True)


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    say(message)
    return typer.Exit(code)


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
    return corpus or Path(env("CORPUS", "seeds"))


def check_writable(out: Path) -> None:
    """Fail before any model work when the output folder cannot be written."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise OutputError(f"{out}: cannot write output here ({err.strerror or err})") from None


def progress_bar(quiet: bool):
    """A tqdm bar on stderr (segments, rate, ETA) wired to the library's progress callbacks.
    Off with --quiet, and when stderr is not a terminal (logs get no bar redraws)."""
    from tqdm import tqdm

    from .translate import Progress

    bar = tqdm(total=0, unit="seg", desc="translating", disable=True if quiet else None, file=sys.stderr, dynamic_ncols=True)

    def add_total(n: int) -> None:
        bar.total += n
        bar.refresh()

    return bar, Progress(add_total=add_total, advance=bar.update)


@app.command()
def translate(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (*.txt, *.md, recursively), corpus ids, or - for stdin.")],
    to: Annotated[str, typer.Option("--to", help="Target language, e.g. en.")] = "en",
    src: Annotated[str, typer.Option("--from", help="Source language, or auto to detect per document.")] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    fmt: Annotated[str, typer.Option("--format", "-f", help="Comma list of formats, or all.")] = "md,jsonl,txt",
    model: Annotated[Optional[str], typer.Option("--model", help="Model for this run: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    beams: Annotated[Optional[int], typer.Option("--beams", min=1, help="Beam size (default: the model's own).")] = None,
    precision: Annotated[str, typer.Option("--precision", help="auto (int8 with ct2 on CPU, fp16 on CUDA), fp32, fp16, bf16, int8.")] = "auto",
    backend: Annotated[Optional[str], typer.Option("--backend", help="auto (ct2 on CPU, torch on GPU), torch, ct2 (env TK_BACKEND).")] = None,
    batch_tokens: Annotated[Optional[int], typer.Option("--batch-tokens", min=1, help="Token budget per batch (source tokens x beams).")] = None,
    threads: ThreadsOpt = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="Where the model runs: local, or ray (a Ray cluster; needs the ray extra; env TK_ENGINE).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="ray: model replicas (env TK_WORKERS; default: one per GPU, else per CPU of the cluster).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="ray: an existing cluster, auto or ray://host:10001 (env TK_RAY_ADDRESS; default: a local Ray for this run).")] = None,
    corpus: CorpusOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Translate documents into aligned bilingual documents."""
    from . import engines
    from .documents import load_documents
    from .translate import translate_parts
    from .writers import DocumentOutputs, get_writers

    setup_logging(quiet)
    terminate_as_interrupt()
    with options_or_exit():
        writers = get_writers(fmt)
        check_writable(out)
        run = RunOptions.from_env(device=device, batch_tokens=batch_tokens, threads=threads, cache_dir=cache_dir,
                                  use_cache=not no_cache, engine=engine, workers=workers, ray_address=ray_address)
        engines.check(run.engine)
        # without --backend, DecodeOptions reads TK_BACKEND itself (defaults < environment < flags)
        decode = DecodeOptions(beams=beams, precision=precision, **({"backend": backend} if backend else {}))
    docs = load_documents(paths, corpus_dir(corpus), exclude=out)
    bar, progress = progress_bar(quiet)
    reports, failed = [], False
    outputs: DocumentOutputs | None = None  # the document being written, part by part
    try:
        for part in translate_parts(docs, to, src=src, decode=decode, run=run, model=model, progress=progress):
            if part.error:  # nothing of it is written: its temporary files go
                if outputs is not None:
                    outputs.abort()
                    outputs = None
                failed = True
                bar.clear()
                say(part.error)
            else:
                outputs = outputs or DocumentOutputs(writers, part, out)
                outputs.add(part)
                if part.final:
                    part.outputs = [str(p) for p in outputs.finish(part)]
                    outputs = None
            if part.final:
                reports.append(report(part))
    except KeyboardInterrupt:
        bar.close()
        raise fail(f"interrupted; {len(reports)} document(s) written, finished batches are cached: run again to resume",
                   EXIT_INTERRUPTED)
    except TkError as err:
        bar.close()
        raise fail(str(err))
    finally:
        if outputs is not None:  # interrupted in the middle of a document: no file that looks complete
            outputs.abort()
    bar.close()
    if as_json:
        typer.echo(json.dumps({"documents": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    elif not quiet:
        done = sum(1 for r in reports if not r["error"])
        say(f"{done} of {len(reports)} document(s) translated into {out}/")
    if failed:
        raise typer.Exit(EXIT_FAILED)


def report(result) -> dict:
    return {
        "id": result.doc_id,
        "source": result.source_name,
        "src_lang": result.src_lang,
        "tgt_lang": result.tgt_lang,
        "model": result.model,
        "revision": result.revision,
        "pinned": result.pinned,
        "pivot": result.pivot,
        "encoding": result.document.encoding if result.document else None,
        "warnings": getattr(result.document, "warnings", []),  # what reading repaired (documents.decode)
        **result.counts,
        "seconds": result.seconds,
        "outputs": result.outputs,
        "note": result.note,
        "error": result.error,
    }


@app.command()
def summarize(
    docs: Annotated[list[str], typer.Argument(help="Corpus ids or unique prefixes (003), files, folders, or - for stdin.")],
    method: Annotated[str, typer.Option("--method", help="abstractive (distilBART over the English translation) or extractive (central source sentences; no summarizer).")] = "abstractive",
    length: Annotated[str, typer.Option("--length", help="short, medium or long.")] = "medium",
    lang: Annotated[Optional[str], typer.Option("--lang", help="Comma list of summary languages (default: en and the document's own).")] = None,
    src: Annotated[str, typer.Option("--from", help="Source language, or auto to detect per document.")] = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write <id>.summary.md and <id>.summary.json here.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Summarizer: a models.lock name, a repo id, or a local folder.")] = None,
    device: DeviceOpt = None,
    precision: Annotated[str, typer.Option("--precision", help="auto (fp16 on CUDA, fp32 elsewhere), fp32, fp16, bf16, int8 (CPU).")] = "auto",
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
        options = SummaryOptions(method, length, parse_langs(lang), src, model).check()
        if out is not None:
            check_writable(out)
        run = RunOptions.from_env(device=device, threads=threads, cache_dir=cache_dir, use_cache=not no_cache)
        decode = DecodeOptions(precision=precision)  # as `tk translate` builds it: same cache entries
    reports, failed = [], False
    try:
        for result in run_summary(load_documents(docs, corpus_dir(corpus)), options, decode=decode, run=run):
            failed = failed or bool(result.error)
            if result.error:
                say(result.error)
            elif out is not None:
                write_summary(result, out)
            for note in result.notes:
                say(f"{result.doc_id}: {note}")
            if not result.error and not as_json:
                typer.echo(render_text(result))
            reports.append(result.to_dict())
    except KeyboardInterrupt:
        raise fail(f"interrupted; {len(reports)} document(s) done, finished batches are cached", EXIT_INTERRUPTED)
    except TkError as err:
        raise fail(str(err))
    if as_json:
        typer.echo(json.dumps({"documents": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("ls")
def list_corpus(corpus: CorpusOpt = None, as_json: JsonOpt = False) -> None:
    """List the corpus: id, language, paragraphs, sentences, characters, date."""
    from .corpus import describe

    try:
        rows = describe(corpus_dir(corpus))
    except TkError as err:
        raise fail(str(err))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'id':<24} {'lang':<4} {'paras':>5} {'sents':>5} {'chars':>7}  date")
    for r in rows:
        if r.get("error"):
            typer.echo(f"{r['id']:<24} {r['error']}")
            continue
        typer.echo(f"{r['id']:<24} {r['lang']:<4} {r['paragraphs']:>5} {r['sentences']:>5} {r['characters']:>7}  {r['date'] or '-'}")


@app.command("import-review")
def import_review(
    files: Annotated[list[Path], typer.Argument(help="Reviewed XLIFF files (.xlf) written by tk translate --format xliff.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Use the segments marked reviewed or final in XLIFF files as translations in later runs."""
    from .review import import_review as run_import

    folder = cache_dir or RunOptions.from_env().cache_dir
    reports, failed = [], False
    for path in files:
        try:
            reports.append(run_import(path, folder))
        except TkError as err:
            failed = True
            say(str(err))
            reports.append({"file": str(path), "error": str(err)})
            continue
        r = reports[-1]
        if not as_json:
            say(f"{path}: {r['reviewed']} reviewed segment(s) imported for {r['src_lang']}->{r['tgt_lang']} "
                f"({r['not_reviewed']} not marked reviewed, {r['empty']} empty)")
    if as_json:
        typer.echo(json.dumps({"files": reports, "ok": not failed}, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None, as_json: JsonOpt = False) -> None:
    """Entries, size on disk, and entries per model."""
    from .cache import Cache

    stats = Cache(cache_dir or RunOptions.from_env().cache_dir).stats()
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo(f"{stats['path']}: {stats['entries']} entries, {stats['bytes'] / 1e6:.1f} MB")
    for m in stats["models"]:
        typer.echo(f"  {m['model']:<48} {m['task']:<10} {m['entries']:>7}")


@cache_app.command("clear")
def cache_clear(
    model: Annotated[Optional[str], typer.Option("--model", help="Only this model's entries (repo id).")] = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove cached results (all, or one model's)."""
    from .cache import Cache

    removed = Cache(cache_dir or RunOptions.from_env().cache_dir).clear(model)
    say(f"removed {removed} cache entries")


def main() -> None:
    app()
