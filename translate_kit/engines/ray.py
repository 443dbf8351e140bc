"""The Ray engine: Engine's contract, with the model work on a Ray cluster (the [ray] extra).

Why Ray Data: it is the maintained way to run a stateful model over a stream of inputs on many
machines: `map_batches` with a callable class loads one model per actor
(`compute=ActorPoolStrategy(size=N)`), schedules GPU actors with `num_gpus=1`, restarts an actor
whose process dies and retries its batches (Ray Data's actor defaults: max_restarts=-1,
max_task_retries=-1), and streams results back as they finish.

What stays on the driver (translate.py, unchanged): reading, segmenting, deduplication, the cache
lookup and the cache store. Only cache misses reach `RayEngine.run`, at most one window of them
(translate.WINDOW_SEGMENTS unique texts) at a time, so memory follows the window, never the
corpus. The driver counts tokens and plans token-budgeted batches (engine.plan_batches) with the
model's own tokenizer, sends each batch as one row, and yields each finished batch back to
Translator.translate_texts, which stores it in SQLite before it takes the next: an interrupted
cluster run resumes from the cache like a local one.

The model reaches workers as a real cluster allows: each actor resolves the same repo id and
revision from its own Hugging Face cache (pulling it when online) or from a path on shared
storage (--model DIR), through the same loading functions as a local run; an actor whose resolved
revision, backend or precision differs from the driver's (the cache key) ends the run.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator, Sequence

from .. import models
from ..engine import Engine, GenerationFailed, plan_batches
from ..errors import ModelUnavailable, RunAborted, TkError
from ..models import LoadedModel, ModelRef
from ..options import DecodeOptions, RunOptions

log = logging.getLogger("translate_kit")


class ClusterLost(RunAborted):
    """The Ray cluster could not be reached, or went away mid-run."""


class WorkerModelError(RunAborted):
    """A worker could not load the driver's model, or loaded a different one."""


# --- the cluster ---------------------------------------------------------------------------


def connect(run: RunOptions):
    """Ray, connected: a local Ray started for this run (stopped at exit), or run.ray_address."""
    import ray

    if not ray.is_initialized():
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
        # Ray's C++ core logs warnings to this process's stderr (e.g. ray-project/ray#53727 for
        # every Ray Data actor pool): fatal only, unless the user asked for more.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        try:
            if run.ray_address or os.environ.get("RAY_ADDRESS"):
                ray.init(address=run.ray_address, **quiet)
            else:
                ray.init(include_dashboard=False, **quiet)
        except Exception as err:  # no cluster there, version mismatch, refused connection
            where = run.ray_address or os.environ.get("RAY_ADDRESS") or "a local Ray"
            raise ClusterLost(f"cannot start or reach {where}: {_first_line(err)}") from None
        atexit.register(ray.shutdown)
    _quiet_ray()
    return ray


def _quiet_ray() -> None:
    """The library never prints: no Ray Data progress bars or execution plans on stderr, and
    Ray's cluster messages (e.g. "A worker died...", which Ray retries) go to the "ray" logger
    instead of stdout, where they would corrupt --json. A failure that matters ends the run
    with its own line (ClusterLost)."""
    import ray._private.worker as ray_worker
    from ray.data import DataContext

    if hasattr(ray_worker, "print_to_stdstream") and not getattr(ray_worker.print_to_stdstream, "tk_quiet", False):
        def to_log(data: dict, ignore_prefix: bool = False) -> None:
            logging.getLogger("ray").warning("%s", " ".join(map(str, data.get("lines", []))))

        to_log.tk_quiet = True
        ray_worker.print_to_stdstream = to_log  # read by Ray's listener thread at each message

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def cluster_device(run: RunOptions) -> str:
    """--device as given (it names the workers' device), else cuda when the cluster has GPUs."""
    if run.device != "auto":
        return run.device
    ray = connect(run)
    return "cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu"


@dataclass(frozen=True)
class Layout:
    """How the work is spread: actors, and what each one asks Ray for."""

    workers: int
    threads: int  # per actor (CPU)
    num_cpus: float
    num_gpus: int


def layout(run: RunOptions, device: str) -> Layout:
    """--workers, else one actor per GPU (num_gpus=1 each), else one per CPU of the cluster."""
    import ray

    resources = ray.cluster_resources()
    cpus, gpus = max(1, int(resources.get("CPU", 1))), int(resources.get("GPU", 0))
    if device.startswith("cuda"):
        workers = run.workers or max(1, gpus)
        return Layout(workers, 1, min(1.0, cpus / workers), 1)
    threads = run.threads or 1  # one single-threaded replica per core: fastest measured (ct2.MAX_WORKERS)
    workers = run.workers or max(1, cpus // threads)
    return Layout(workers, threads, min(float(threads), cpus / workers), 0)


# --- the driver's side ---------------------------------------------------------------------


@dataclass
class RayEngine(Engine):
    """Engine's contract. Counting and planning run here, on the model's own tokenizer and
    config (no weights loaded on the driver); generation runs on the cluster's actors."""

    requested: DecodeOptions | None = None  # what the user asked for; actors resolve it again
    run_options: RunOptions | None = None
    layout: Layout | None = None

    @classmethod
    def start(cls, ref: ModelRef, decode: DecodeOptions, requested: DecodeOptions, device: str,
              run: RunOptions) -> "RayEngine":
        connect(run)
        path = models.ensure_local(ref)
        planner = _planner(ref, path, device)
        plan = layout(run, device)
        worker_run = replace(run, engine="local", threads=plan.threads, cache_dir=Path(run.cache_dir).resolve())
        engine = cls(planner, decode, run.batch_tokens, requested=requested, run_options=worker_run, layout=plan)
        engine.backend = decode.backend  # which DEFAULT_BATCH_TOKENS row applies: what the actors run
        return engine

    def run(self, texts: Sequence[str], **overrides) -> Iterator[tuple[list[int], list[str]]]:
        """Yields (positions in `texts`, outputs) per batch as the cluster finishes them; each
        batch exactly once, and every batch, or an error."""
        if not texts:
            return
        lengths = self.count_tokens(texts)
        plan = plan_batches(lengths, self._spread_budget(lengths), self.beams)
        results = self._stream(plan, texts, overrides)
        pending = set(range(len(plan)))
        while pending:
            try:
                row = next(results)
            except StopIteration:
                raise ClusterLost(f"the Ray cluster returned {len(plan) - len(pending)} of {len(plan)} batches; "
                                  f"finished batches are cached: run again to resume") from None
            except TkError:
                raise
            except Exception as err:  # actors or nodes lost beyond Ray's retries, the head gone
                raise ClusterLost(f"the Ray cluster went away mid-run ({_first_line(err)}); "
                                  f"finished batches are cached: run again to resume") from None
            k = int(row["batch"])
            if row["error"]:
                _raise_worker_error(str(row["error"]))
            if k in pending:  # a retried batch that came back twice counts once
                pending.discard(k)
                self.calls += 1
                yield plan[k], json.loads(row["outputs"])

    def _stream(self, plan: list[list[int]], texts: Sequence[str], overrides: dict):
        """The batches through Ray Data: one row (one planned batch) per block and per call."""
        import ray.data

        rows = [{"batch": k, "texts": json.dumps([texts[i] for i in batch], ensure_ascii=False)}
                for k, batch in enumerate(plan)]
        shape = self.layout
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            BatchWorker,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(shape.workers, len(rows))),
            fn_constructor_kwargs={"ref": self.loaded.ref, "revision": self.loaded.revision, "decode": self.decode,
                                   "requested": self.requested, "device": self.loaded.device, "run": self.run_options},
            fn_kwargs={"overrides": overrides},
            num_cpus=shape.num_cpus,
            num_gpus=shape.num_gpus or None,
        )
        return iter(dataset.iter_rows())

    def _spread_budget(self, lengths: list[int]) -> int:
        """The batch budget, lowered when the work is too small to give every actor a batch
        (as Ct2Engine spreads work over its local workers)."""
        work, longest = sum(lengths) * self.beams, max(lengths) * self.beams
        return max(longest, min(self.budget, math.ceil(work / self.layout.workers)))


def _planner(ref: ModelRef, path: Path, device: str) -> LoadedModel:
    """What counting and planning need, without the weights: tokenizer, config, generation config."""
    from ..ct2 import _tokenizer

    models.quiet_transformers()
    try:
        from transformers import GenerationConfig

        config = SimpleNamespace(**json.loads((path / "config.json").read_text(encoding="utf-8")))
        model = SimpleNamespace(config=config, generation_config=GenerationConfig.from_pretrained(path))
        tokenizer = _tokenizer(path)
    except Exception as err:
        raise ModelUnavailable(f"{ref.repo}: model files in {path} are missing or damaged "
                               f"({type(err).__name__}); run `tk models pull {ref.name or ref.repo}` again, "
                               f"or pass --model DIR") from err
    return LoadedModel(ref, path, models.resolved_revision(ref, path), tokenizer, model, device)


# Errors travel back as data, "Kind: message": an actor that raised would be retried forever
# (a load error is no crash Ray can fix), and its traceback is no line for a user.
_WORKER_ERRORS = {"GenerationFailed": GenerationFailed}


def _raise_worker_error(error: str):
    kind, _, message = error.partition(": ")
    raise _WORKER_ERRORS.get(kind, WorkerModelError)(message)


def _first_line(err: BaseException) -> str:
    text = [line for line in str(err).strip().splitlines() if line.strip()]
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


# --- the workers' side ---------------------------------------------------------------------


class BatchWorker:
    """One model replica per Ray actor; each call translates one planned batch (one row)."""

    def __init__(self, ref: ModelRef, revision: str, decode: DecodeOptions, requested: DecodeOptions,
                 device: str, run: RunOptions):
        self.engine, self.error = None, ""
        try:
            self.engine = _worker_engine(ref, revision, decode, requested, device, run)
        except TkError as err:
            self.error = f"WorkerModelError: worker on {socket.gethostname()}: {err}"

    def __call__(self, batch: dict, overrides: dict) -> dict:
        import numpy as np

        outputs, error = [], self.error
        if not error:
            texts = json.loads(str(batch["texts"][0]))
            try:
                done = dict(p for positions, out in self.engine.run(texts, **overrides) for p in zip(positions, out))
                outputs = [done[i] for i in range(len(texts))]
            except GenerationFailed as err:
                error = f"GenerationFailed: {err}"
        return {"batch": np.asarray(batch["batch"]), "outputs": np.asarray([json.dumps(outputs, ensure_ascii=False)]),
                "error": np.asarray([error])}


def _worker_engine(ref: ModelRef, revision: str, decode: DecodeOptions, requested: DecodeOptions,
                   device: str, run: RunOptions) -> Engine:
    """The local engine, built by the local path's own loader, and checked against the driver's
    model and resolved decoding: a different model or precision would mix outputs in one cache key."""
    from ..cache import NoCache
    from ..translate import Translators  # the local builder (issue 12 moves it into the backend registry)

    found = models.resolved_revision(ref, models.ensure_local(ref))
    if found != revision:
        raise WorkerModelError(f"{ref.repo} resolves to revision {found}, the driver's is {revision}; "
                               f"give every node the same model (`tk models pull`, or --model on shared storage)")
    builder = Translators(requested, run, NoCache())
    builder.device = device
    engine = builder._engine(ref, decode)
    if (engine.decode.backend, engine.decode.precision) != (decode.backend, decode.precision):
        raise WorkerModelError(f"{ref.repo} runs as {engine.decode.backend} {engine.decode.precision} here, "
                               f"the driver's cache key says {decode.backend} {decode.precision}; use --backend "
                               f"and --precision that every node supports")
    return engine
