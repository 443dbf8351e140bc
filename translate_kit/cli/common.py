"""What every `tk` command shares: one option set, one exit-code table, one `say` and `fail`,
the results loop of translate and summarize, logging and the progress bar.

Exit status: 0 all good, 1 some document (or model) failed, 2 usage error, 130 interrupted.
Nothing heavy is imported here: `tk --help` loads typer and this package only.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated, Callable, Iterable, Optional

import typer

from ..errors import DocumentError, DocumentFailed, OutputError, TkError, UsageError
from ..options import corpus_folder, debug_enabled

# --- the exit-code table ----------------------------------------------------------------------

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def exit_code(err: BaseException) -> int:
    """The one mapping from what went wrong to the exit status."""
    if isinstance(err, UsageError):
        return EXIT_USAGE
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_FAILED


def say(message: str) -> None:
    """One line on stderr, `tk: ...`: the only way a command speaks about a problem."""
    typer.echo(f"tk: {message}", err=True)


def fail(problem: str | BaseException, code: int | None = None) -> typer.Exit:
    """Say the problem; the Exit to raise (its status from the table unless `code` is given)."""
    say(str(problem))
    return typer.Exit(code if code is not None else exit_code(problem) if isinstance(problem, BaseException) else EXIT_FAILED)


@contextmanager
def options_or_exit():
    """Building options or asking the library: a UsageError exits 2, any other TkError 1, one line each."""
    try:
        yield
    except TkError as err:
        raise fail(err) from None


def echo_json(data, ensure_ascii: bool = False) -> None:
    typer.echo(json.dumps(data, ensure_ascii=ensure_ascii, indent=2))


# --- one option set ---------------------------------------------------------------------------

CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", metavar="DIR", help="Folder where document ids resolve (env TK_CORPUS; default seeds/).")]
CacheDirOpt = Annotated[Optional[Path], typer.Option("--cache-dir", metavar="DIR", help="Cache folder (env TK_CACHE_DIR; default cache/).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache for this run.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable report on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no closing line; warnings and errors still print.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Also show the traceback of an internal error here (it always goes to the log file named in the message; env TK_DEBUG).")]
FromOpt = Annotated[str, typer.Option("--from", metavar="LANG", help="Source language, or auto to detect per document.")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", metavar="DEVICE", help="auto|cpu|cuda|cuda:N|mps (env TK_DEVICE).")]
BeamsOpt = Annotated[Optional[int], typer.Option("--beams", min=1, metavar="N", help="Beam size (default: the model's own).")]
PrecisionOpt = Annotated[str, typer.Option("--precision", metavar="PRECISION", help="auto (int8 with ct2 on CPU, fp16 on CUDA), fp32, fp16, bf16, int8.")]
BackendOpt = Annotated[Optional[str], typer.Option("--backend", metavar="BACKEND", help="auto (ct2 on CPU, torch on GPU), torch, ct2 (env TK_BACKEND).")]
BatchTokensOpt = Annotated[Optional[int], typer.Option("--batch-tokens", min=1, metavar="N", help="Token budget per batch (source tokens x beams).")]
QualityOpt = Annotated[Optional[str], typer.Option("--quality", metavar="QUALITY", help="auto (the big model tier on CUDA, the base one on a CPU), fast (base) or best (big, where models.lock has one) (env TK_QUALITY). --model overrides it.")]
GlossaryOpt = Annotated[Optional[list[Path]], typer.Option("--glossary", metavar="FILE", help="Glossary file (.tsv, .csv, .tbx) whose terms the translation follows; repeatable (env TK_GLOSSARY, paths separated by ':'). See docs/glossaries.md.")]
GlossaryModeOpt = Annotated[Optional[str], typer.Option("--glossary-mode", metavar="MODE", help="both (default: substitute terms, n-best on a miss), substitute, nbest, placeholder, verify (env TK_GLOSSARY_MODE).")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, metavar="N", help="CPU threads (env TK_THREADS; default: all cores).")]


def decode_options(beams: int | None, precision: str, backend: str | None, quality: str | None = None):
    """--beams, --precision, --backend, --quality as every model command builds them (the same cache
    entries); without --backend or --quality, DecodeOptions reads TK_BACKEND and TK_QUALITY itself
    (defaults < environment < flags)."""
    from ..options import DecodeOptions

    given = {key: value for key, value in (("backend", backend), ("quality", quality)) if value}
    return DecodeOptions(beams=beams, precision=precision, **given)


def glossary_enforcer(paths: list[Path] | None, mode: str | None, targets: list[str] | None):
    """--glossary/--glossary-mode (or TK_GLOSSARY/TK_GLOSSARY_MODE) read, checked and matched for
    `targets` (None: every language of the files) now, before any model loads: a bad setting,
    file or conflict is one line, exit 2.
    None when the run has no glossary (the glossary package is then not imported)."""
    from ..errors import GlossaryError
    from ..options import GlossaryOptions

    options = GlossaryOptions.from_env(paths, mode)  # UsageError: exit 2 via options_or_exit
    if not options.paths:
        return None
    from ..glossary import load_enforcer

    try:
        return load_enforcer(options, targets)
    except GlossaryError as err:
        raise fail(err, EXIT_USAGE) from None


def corpus_dir(corpus: Path | None) -> Path:
    return corpus or corpus_folder()


# --- the run's surroundings ---------------------------------------------------------------------


def setup_logging(debug: bool = False) -> None:
    """Warnings on stderr as `tk: WARNING: ...`, with --quiet too (a cue that could not be read, a
    model tier that is not here: a script must not lose them); --debug (or TK_DEBUG) adds the
    tracebacks of internal errors."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("tk: %(levelname)s: %(message)s"))
    log = logging.getLogger("translate_kit")
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug or debug_enabled() else logging.WARNING)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-call library chatter


def terminate_as_interrupt() -> None:
    """SIGTERM ends a run like Ctrl-C: finished batches are already cached, outputs stay whole."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def check_writable(out: Path) -> None:
    """Fail before any model work when the output folder cannot be written."""
    from ..writers import remove_stale_temporaries  # the writers (and their libraries): only for a run that writes

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise OutputError(f"{out}: cannot write output here ({err.strerror or err})") from None
    remove_stale_temporaries(out)  # left by a tk that was killed


# --- per-document problems, and the results loop ------------------------------------------------


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


def results_loop(results: Iterable, bar, interrupted: str, each: Callable[[object, DocumentProblems], None] = lambda r, p: None,
                 as_json: bool = False) -> tuple[list[dict], bool]:
    """The loop `tk translate` and `tk summarize` share: each result's error gathered (said once
    per problem), `each(result, problems)` for the command's own output, every report kept.
    Ctrl-C is exit 130 with `interrupted` (the count of documents done filled in), a TkError that
    stops the run exit 1; at the end the --json report. Returns (reports, whether any failed)."""
    reports, failed, problems = [], False, DocumentProblems()
    try:
        with closing(results) if hasattr(results, "close") else _nothing():
            for result in results:
                if result.error:
                    failed = True
                    problems.add_error(result.source_name, result.error)
                each(result, problems)
                reports.append(result.to_dict())
    except KeyboardInterrupt:
        bar.close()
        problems.say_all()
        raise fail(interrupted.format(done=len(reports)), EXIT_INTERRUPTED) from None
    except TkError as err:
        bar.close()
        problems.say_all()
        raise fail(err, EXIT_FAILED) from None
    bar.close()
    problems.say_all()
    if as_json:
        echo_json({"documents": reports, "ok": not failed})
    return reports, failed


@contextmanager
def _nothing():
    yield


# --- the progress bar ----------------------------------------------------------------------------


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
    from ..translators import Progress  # the model service: only for a command that runs models

    if quiet or not _isatty(sys.stderr):
        bar = _NoBar()
    else:
        from tqdm import tqdm  # ~40 ms: only when a bar is drawn

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
