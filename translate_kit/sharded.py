"""`tk translate --engine ray --shard`: whole documents go to the Ray workers, each of which runs
the local pipeline on them against its own node's cache.

The driver lists the inputs as a local run does and ships shards of consecutive inputs as bytes
(SHARD_BYTES, SHARD_DOCUMENTS, MIN_SHARD_BYTES; QUEUED_PER_WORKER in flight per actor). As each
shard comes back it checks each document's model, revision and signature against its own, merges
the shard's cache rows (Cache.merge), writes its files once and hands the documents on in input
order. How it runs: docs/cluster.md#sharded---shard; why: docs/design.md#ray-and-the-sharded-driver
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from .cache import Cache, Merged, NoCache, entry_rows, found
from .documents import assign_ids, expand_inputs, fetched_document, input_bytes, is_url, read_document, read_stdin
from .errors import CacheError, DocumentError, InternalError, OutputError, TkError
from .incidents import internal
from .options import DecodeOptions, RunOptions, node_cache_dir
from .runtime import Plan, plan_run
from .runtime import get as get_backend
from .runtime.ray import (
    QUEUED_PER_WORKER,
    WorkerModelError,
    _raise_worker_error,
    connect,
    layout,
    release,
    start_actors,
    wait_one,
)
from .readers._fetch import fetch
from .translate import DocResult, glossing_hook, translate_parts
from .translators import Progress, Translators, open_cache
from . import writers as output  # by module: a test (and a user) may wrap its functions

log = logging.getLogger("translate_kit")

SHARD_BYTES = 4_000_000  # input bytes in one shard, at most (one larger document is a shard of its own)
MIN_SHARD_BYTES = 256_000  # ~2 000 segments of prose: a window's worth, so the model's batches stay full
SHARD_DOCUMENTS = 256  # documents in one shard, at most
SHARDS_PER_WORKER = 4  # a small corpus is cut finer, so that the workers finish together
UNSIZED_BYTES = 64_000  # what a URL or stdin counts for, before it is read
KEPT = "finished shards are merged into the cache and their documents written"


@dataclass(frozen=True)
class Input:
    """One input of the run, as the driver lists it; `data` is read when its shard is sent."""

    index: int  # position among the run's inputs (the order of reports)
    kind: str  # file | stdin | url | error
    name: Path | str  # the path as given, the URL, "-", or (error) what the message names
    doc_id: str = ""
    size: int = 0
    data: bytes = b""
    extra: str = ""  # url: the final URL after redirects; error: the problem


@dataclass
class ShardDocument:
    """One document's outcome, as a worker sends it back; the CLI reads `source_name`, `error`
    and `to_dict()`, as from a local run's results."""

    index: int
    source_name: str
    error: TkError | None
    report: dict
    files: dict[str, bytes] = field(default_factory=dict)  # output file name -> bytes, until written

    def to_dict(self) -> dict:
        return self.report


@dataclass
class ShardResult:
    documents: list[ShardDocument]
    entries: list[tuple]  # every `entries` row the shard read or wrote (cache.COLUMNS order)
    languages: list[tuple]
    logs: list[tuple[int, str]]  # (level, message) the worker logged while reading and translating
    host: str


# --- the driver ----------------------------------------------------------------------------


def translate_sharded(paths: Iterable[str], tgt: str, out: Path, writers: list, *, run: RunOptions, src: str = "auto",
                      decode: DecodeOptions | None = None, model: str | None = None,
                      corpus: Path | None = None, follow_links: bool = False,
                      progress: Progress | None = None, glossary=None) -> Iterator[ShardDocument]:
    """`tk translate`'s work, sharded over Ray workers; yields one ShardDocument per input, in input
    order, once its files are in `out` (or its error is known). See the module docstring.
    `glossary`: a glossary.Enforcer every worker follows (it pickles), as a local run does."""
    decode, progress = decode or DecodeOptions(), progress or Progress()
    connect(run)
    run_plan = plan_run(decode, run)  # decided once, here; every worker receives it
    device = run_plan.device
    plan = layout(run, device)
    inputs = list_inputs(paths, corpus, out, follow_links)
    cache = open_cache(run)
    actors: list = []
    conflicts = Merged()
    try:
        reviews = cache.all_overrides() if isinstance(cache, Cache) else []
        worker_run = replace(run, engine="local", shard=False, device=device, threads=plan.threads,
                             cache_dir=Path(run.cache_dir).resolve())
        progress.note(f"starting {plan.workers} Ray worker(s)")
        actors = start_actors(ShardWorker, plan, tgt, src, decode, worker_run, model, [w.name for w in writers],
                              reviews, run_plan, glossary)
        check = ModelCheck(decode, run, model, run_plan)
        waiting: dict[int, ShardDocument] = {}
        next_index = 0
        for result in run_shards(actors, shards(inputs, plan.workers)):
            for doc in result.documents:
                check(doc, result.host)
            conflicts += merge_rows(cache, result)
            for level, message in result.logs:
                log.log(level, "%s", message)
            write_files(result.documents, out)
            segments = sum(d.report.get("segments", 0) for d in result.documents if not d.error)
            progress.add_total(segments)
            progress.advance(segments)
            waiting.update((d.index, d) for d in result.documents)
            while next_index in waiting:
                yield waiting.pop(next_index)
                next_index += 1
    finally:
        release(actors)
        cache.close()
    if conflicts.conflicts:
        log.warning("%d sentence(s) came back from the workers translated otherwise than this cache already had "
                    "them (batches of other sentences change the numbers slightly); the cache keeps what it had, "
                    "those documents' outputs have the workers' translation", conflicts.conflicts)


def list_inputs(paths: Iterable[str], corpus: Path | None, out: Path, follow_links: bool) -> list[Input]:
    """The run's inputs as documents.load_documents lists them (same order, ids, errors), unread."""
    items = list(expand_inputs(paths, corpus, exclude=out, follow_links=follow_links))
    ids = assign_ids([i for i in items if not isinstance(i, DocumentError)])
    inputs = []
    for n, item in enumerate(items):
        if isinstance(item, DocumentError):
            inputs.append(Input(n, "error", item.path, extra=item.problem))
        elif item == "-":
            inputs.append(Input(n, "stdin", item, ids[item], UNSIZED_BYTES))
        elif isinstance(item, str) and is_url(item):
            inputs.append(Input(n, "url", item, ids[item], UNSIZED_BYTES))
        else:
            inputs.append(Input(n, "file", item, ids[item], _size(item)))
    return inputs


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # its read says why, in its shard


def shards(inputs: list[Input], workers: int) -> Iterator[list[Input]]:
    """Runs of consecutive inputs, unread: SHARDS_PER_WORKER per worker, each of MIN_SHARD_BYTES
    (so that the model's batches stay full) to SHARD_BYTES; a corpus too small for that is cut
    into one shard per worker."""
    total, workers = sum(i.size for i in inputs), max(1, workers)
    floor = min(MIN_SHARD_BYTES, -(-total // workers))  # a small corpus: still one shard per worker at least
    target = min(SHARD_BYTES, max(floor, total // (workers * SHARDS_PER_WORKER)))
    step = total / max(1, -(-total // max(1, target)))  # equal shares of the bytes, each at most `target`
    shard, before, boundary = [], 0, step
    for item in inputs:
        middle = before + item.size / 2  # an input goes to the share its middle falls in
        if shard and (middle > boundary or len(shard) >= SHARD_DOCUMENTS):
            yield shard
            shard = []
            while middle > boundary:
                boundary += step
        shard.append(item)
        before += item.size
    if shard:
        yield shard


def loaded(shard: list[Input]) -> list[Input]:
    """The shard with its inputs' bytes (read here, when it is sent); a read that fails is that
    input's error, said as a local run says it."""
    done = []
    for item in shard:
        try:
            if item.kind == "file":
                item = replace(item, data=input_bytes(item.name))
            elif item.kind == "stdin":
                item = replace(item, data=sys.stdin.buffer.read())
            elif item.kind == "url":
                data, final = fetch(item.name)
                item = replace(item, data=data, extra=final)
        except DocumentError as err:
            item = replace(item, kind="error", name=err.path, extra=err.problem)
        except Exception as err:  # unforeseen: this input alone fails
            failed = internal(err, "reading", item.name)
            item = replace(item, kind="error", name=failed.path, extra=failed.problem)
        done.append(item)
    return done


def run_shards(actors: list, todo: Iterator[list[Input]]) -> Iterator[ShardResult]:
    """Each shard sent to the least busy actor (QUEUED_PER_WORKER each at most); yields the results
    as they finish. A worker's error, or a lost cluster, ends the run with one line."""
    load = {i: 0 for i in range(len(actors))}
    flying: dict = {}  # ObjectRef -> actor number
    more = True
    while True:
        while more:
            i = min(load, key=load.get)
            if load[i] >= QUEUED_PER_WORKER:
                break
            shard = next(todo, None)
            if shard is None:
                more = False
                break
            flying[actors[i].translate.remote(loaded(shard))] = i
            load[i] += 1
        if not flying:
            return
        ref, (result, error) = wait_one(flying, KEPT)
        load[flying.pop(ref)] -= 1
        if error:
            _raise_worker_error(f"{error}; {KEPT}")
        yield result


def merge_rows(cache, result: ShardResult) -> Merged:
    """The shard's cache rows into the driver's cache, as `tk cache merge` merges a file."""
    if not isinstance(cache, Cache):  # --no-cache
        return Merged()
    merged = cache.merge("entries", result.entries)
    merged += cache.merge("languages", result.languages)
    return merged


def write_files(documents: list[ShardDocument], out: Path) -> None:
    """Each document's files into `out`, whole or not at all; a file the folder refuses is that
    document's error (OutputError, a full disk, ends the run)."""
    for doc in documents:
        files, doc.files = doc.files, {}
        if not files:
            continue
        try:
            doc.report["outputs"] = [str(p) for p in output.publish_files(out, files)]
        except DocumentError as err:
            doc.error, doc.report["outputs"], doc.report["error"] = err, [], str(err)


class ModelCheck:
    """Each language pair's model as the driver resolves it (its files, no weights loaded): a
    document a worker translated with another model, revision, backend or precision ends the run.
    Where the driver cannot resolve a pair itself, the first worker's answer is the reference."""

    def __init__(self, decode: DecodeOptions, run: RunOptions, model: str | None, plan: Plan | None = None):
        self.translators = Translators(decode, run, NoCache(), model, plan=plan)
        self.expected: dict[tuple[str, str], tuple[str, str, str]] = {}

    def __call__(self, doc: ShardDocument, host: str) -> None:
        r = doc.report
        if not r.get("signature"):  # no model ran for it (an error before, a passthrough)
            return
        pair, got = (r["src_lang"], r["tgt_lang"]), (r["model"], r["revision"], r["signature"])
        if pair not in self.expected:
            try:
                t = self.translators.get(*pair)
                self.expected[pair] = (t.display, t.revision, t.signature_text)
            except TkError:
                self.expected[pair] = got
        want = self.expected[pair]
        if got != want:
            raise WorkerModelError(
                f"a Ray worker on {host} translated {doc.source_name} with {got[0]} (revision {got[1]}; {got[2]}), "
                f"the driver's {pair[0]}-{pair[1]} model is {want[0]} (revision {want[1]}; {want[2]}); give every node "
                f"the same model (`tk models pull`, or --model on shared storage) and backends; {KEPT}")


# --- the workers ---------------------------------------------------------------------------


class ShardCache:
    """The node's cache, as the local pipeline uses it, recording every entry and language a shard
    reads or writes (the driver merges them into its own cache); reviews are the driver's."""

    def __init__(self, cache: Cache, reviews: list[tuple[str, str, str, str]]):
        self.cache, self.path = cache, cache.path
        self.reviews: dict[tuple[str, str], dict[str, str]] = {}
        for src, tgt, source, target in reviews:
            self.reviews.setdefault((src, tgt), {})[source] = target
        self.begin()

    def begin(self) -> None:
        self.entries: dict[str, tuple] = {}
        self.languages: dict[str, str] = {}

    def get_many(self, signature, sources):
        rows = self.cache.entry_rows(signature, sources)
        self.entries.update((row[0], row) for row in rows)
        return {row[4]: found(row) for row in rows}

    def put_many(self, signature, task, model, items):
        rows = entry_rows(signature, task, model, items)
        self.cache.put_rows(rows)
        self.entries.update((row[0], row) for row in rows)

    def get_overrides(self, src_lang, tgt_lang, texts):
        mine = self.reviews.get((src_lang, tgt_lang), {})
        return {t: mine[t] for t in texts if t in mine}

    def get_language(self, key):
        lang = self.cache.get_language(key)
        if lang is not None:
            self.languages[key] = lang
        return lang

    def put_language(self, key, lang):
        self.cache.put_language(key, lang)
        self.languages[key] = lang

    def close(self):
        self.cache.close()


class _Collect(logging.Handler):
    """What the worker logs while it does a shard, for the driver to say (a local run prints it)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))


class ShardWorker:
    """One Ray actor: one model service (models load once, on first use) and the node's cache."""

    def __init__(self, tgt: str, src: str, decode: DecodeOptions, run: RunOptions, model: str | None,
                 formats: list[str], reviews: list[tuple[str, str, str, str]], plan: Plan, glossary=None):
        self.tgt, self.src = tgt, src
        self.host, self.error = socket.gethostname(), ""
        _remove_stale_scratch()
        self.writers = output.get_writers(",".join(formats))
        self.cache: ShardCache | NoCache = NoCache()
        try:
            if run.use_cache:
                folder = node_cache_dir() or Path(run.cache_dir)
                self.cache = ShardCache(Cache(folder, run.cache_timeout), reviews)
                run = replace(run, cache_dir=folder)  # converted models (ct2) live beside it, as locally
        except TkError as err:
            self.error = (f"CacheError: worker on {self.host}: {err} (TK_NODE_CACHE_DIR on that node "
                          f"names another cache folder)")
        try:
            get_backend(plan.backend).check(plan)  # the driver's Plan, checked here, never decided again
        except TkError as err:
            self.error = self.error or (f"WorkerModelError: worker on {self.host} cannot run {plan.backend} "
                                        f"{plan.precision} on {plan.device} ({err}); use --backend and --precision "
                                        f"that every node supports")
        self.translators = Translators(decode, run, self.cache, model, plan=plan, glossary=glossing_hook(glossary))

    def translate(self, shard: list[Input]) -> tuple[ShardResult | None, str]:
        """(the shard's result, "") or (None, "Kind: message") for what stops the run."""
        if self.error:
            return None, self.error
        collect = _Collect()
        logger = logging.getLogger("translate_kit")
        logger.addHandler(collect)
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-"))
        try:
            if isinstance(self.cache, ShardCache):
                self.cache.begin()
            documents = self._translate(shard, scratch)
        except (CacheError, OutputError) as err:
            return None, f"{type(err).__name__}: worker on {self.host}: {err}"
        except OSError as err:  # the scratch copy of the inputs
            return None, f"OutputError: worker on {self.host}: cannot write its scratch folder {scratch} ({err})"
        except Exception as err:  # unforeseen, outside any one document: this shard's documents fail, the others go on
            documents = _failed_shard(shard, internal(err, f"translating on {self.host}", shard[0].name))
        finally:
            logger.removeHandler(collect)
            shutil.rmtree(scratch, ignore_errors=True)
        entries = list(getattr(self.cache, "entries", {}).values())
        languages = list(getattr(self.cache, "languages", {}).items())
        return ShardResult(documents, entries, languages, collect.lines, self.host), ""

    def _translate(self, shard: list[Input], scratch: Path) -> list[ShardDocument]:
        parts = translate_parts(_documents(shard, scratch / "in"), self.tgt, src=self.src, translators=self.translators)
        done = []
        for item, result in zip(shard, output.write_documents(parts, self.writers, scratch / "out")):
            files = {}
            for name in result.outputs:
                files[Path(name).name] = Path(name).read_bytes()
                os.unlink(name)
            report = result.to_dict()
            report["outputs"] = []  # the driver's paths, once it has written them
            done.append(ShardDocument(item.index, result.source_name, result.error, report, files))
        return done


def _failed_shard(shard: list[Input], err: InternalError) -> list[ShardDocument]:
    failed = [InternalError(item.name, err.problem, err.log) for item in shard]
    return [ShardDocument(item.index, item.name, e, DocResult(item.doc_id, item.name, error=e).to_dict(), {})
            for item, e in zip(shard, failed)]


SCRATCH = "tk-shard-"  # + pid: a worker's scratch folder, in the node's temporary folder


def _remove_stale_scratch() -> None:
    """Scratch folders of workers that were killed (Ray restarts them in new processes)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH}*-*"):
        pid = folder.name[len(SCRATCH):].split("-")[0]
        if pid.isdigit() and not output._alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _documents(shard: list[Input], spool: Path) -> Iterator:
    """The shard's documents, read as load_documents reads them: a file from a node-local copy
    (named as the driver named it), stdin and URLs from the bytes the driver read."""
    for item in shard:
        try:
            if item.kind == "error":
                yield DocumentError(item.name, item.extra)
            elif item.kind == "stdin":
                yield read_stdin(item.doc_id, item.data)
            elif item.kind == "url":
                yield fetched_document(item.name, item.data, item.extra, item.doc_id)
            else:
                copy = spool / str(item.index) / Path(item.name).name
                copy.parent.mkdir(parents=True)
                copy.write_bytes(item.data)
                yield read_document(copy, item.doc_id, given_as=Path(item.name))
        except DocumentError as err:
            yield err
        except Exception as err:  # unforeseen: this input alone fails, as in a local run
            yield internal(err, "reading", item.name)
