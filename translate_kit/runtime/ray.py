"""The Ray engine: Engine's contract, with the model work on a Ray cluster (the [ray] extra).

Reading, segmenting, the cache and batch planning stay on the driver (translate.py); only cache
misses reach `RayEngine.run`, a window (translate.WINDOW_SEGMENTS texts) at a time, with at most
QUEUED_PER_WORKER batches per actor in flight. The actors, kept for the run, each hold one model
(from their own Hugging Face cache or shared storage), receive the driver's Plan and only check
that their hardware can run it. Why Ray, and actors rather than Ray Data:
docs/design.md#ray-and-the-sharded-driver
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import CacheError, OutputError, RunAborted, TkError, first_line
from ..models import ModelRef, ensure_local, resolved_revision
from ..options import DecodeOptions, RunOptions
from . import registry
from .engine import Engine, GenerationFailed, Generated, load_without_weights, plan_batches, spread_budget
from .plan import Plan

log = logging.getLogger("translate_kit")


class ClusterLost(RunAborted):
    """The Ray cluster could not be reached, or went away mid-run."""


class WorkerModelError(RunAborted):
    """A worker could not load the driver's model, or loaded a different one."""


# --- the cluster ---------------------------------------------------------------------------


def connect(run: RunOptions):
    """Ray, connected: a local Ray started for this run (stopped at exit), or run.ray_address."""
    import ray  # the [ray] extra: imported when a Ray run starts

    if not ray.is_initialized():
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
        address = run.ray_address or os.environ.get("RAY_ADDRESS")
        if address:
            _check_reachable(address)
        try:
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(include_dashboard=False, **quiet)
        except Exception as err:  # no cluster there, version mismatch, refused connection
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise ClusterLost(f"cannot start or reach {where}: {first_line(err)}") from None
        atexit.register(ray.shutdown)
    _quiet_ray()
    return ray


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """A host:port (or ray://host:port) that accepts no connection fails now, in one line: Ray
    itself would retry connecting to it for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():  # "auto", or a form Ray resolves itself
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ClusterLost(f"cannot reach the Ray cluster at {address}: {err.strerror or err}") from None


def _quiet_ray() -> None:
    """The library never prints: Ray's cluster messages (e.g. "A worker died...", which Ray then
    retries) go to the "ray" logger, silenced, instead of stdout, where they would corrupt --json.
    A failure that matters ends the run with its own line (ClusterLost, WorkerModelError)."""
    import ray._private.worker as ray_worker  # the [ray] extra, as above

    logging.getLogger("ray").setLevel(logging.ERROR)
    if hasattr(ray_worker, "print_to_stdstream") and not getattr(ray_worker.print_to_stdstream, "tk_quiet", False):
        def to_log(data: dict, ignore_prefix: bool = False) -> None:
            logging.getLogger("ray").warning("%s", " ".join(map(str, data.get("lines", []))))

        to_log.tk_quiet = True
        ray_worker.print_to_stdstream = to_log  # looked up by Ray's listener thread at each message


def cluster_device(run: RunOptions) -> str:
    """--device as given (it names the workers' device), else cuda when the cluster has GPUs.
    An index is dropped: each GPU actor sees only the GPU Ray gave it, as cuda:0."""
    if run.device != "auto":
        return "cuda" if run.device.startswith("cuda") else run.device
    ray = connect(run)
    return "cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu"


@dataclass(frozen=True)
class Layout:
    """How the work is spread: actors, and what each one asks Ray for."""

    workers: int
    threads: int  # per actor (CPU)
    num_cpus: float
    num_gpus: float


def layout(run: RunOptions, device: str) -> Layout:
    """--workers, else one actor per GPU (num_gpus=1 each), else one per CPU of the cluster."""
    import ray  # the [ray] extra: imported when a Ray run starts

    resources = ray.cluster_resources()
    cpus, gpus = max(1, int(resources.get("CPU", 1))), int(resources.get("GPU", 0))
    if device.startswith("cuda"):
        if not gpus:  # its actors would wait for a GPU forever
            raise ClusterLost(f"--device {device}, but the Ray cluster has no GPU; use --device cpu (or auto)")
        workers = run.workers or max(1, gpus)  # more workers than GPUs share them, rather than wait forever
        return Layout(workers, 1, min(1.0, cpus / workers), min(1.0, gpus / workers))
    threads = run.threads or 1  # one single-threaded replica per core: fastest measured (ct2.MAX_WORKERS)
    workers = run.workers or max(1, cpus // threads)
    return Layout(workers, threads, min(float(threads), cpus / workers), 0)


# --- the driver's side ---------------------------------------------------------------------

QUEUED_PER_WORKER = 2  # batches sent ahead to each actor: it never waits for the driver, and little is in flight


@dataclass
class RayEngine(Engine):
    """Engine's contract. Counting and planning run here, on the model's own tokenizer and
    config (no weights loaded on the driver); generation runs on a pool of Ray actors, one model
    each, started on first use and kept for the whole run (every window, every retry)."""

    run_options: RunOptions | None = None
    layout: Layout | None = None
    _actors: list = field(default_factory=list, repr=False)
    _turn: int = field(default=-1, repr=False)  # the actor the last hypotheses() call went to

    @classmethod
    def start(cls, ref: ModelRef, plan: Plan, decode: DecodeOptions, run: RunOptions) -> "RayEngine":
        connect(run)
        planner = load_without_weights(ref, ensure_local(ref), plan.device)
        shape = layout(run, plan.device)
        worker_run = replace(run, engine="local", shard=False, threads=shape.threads, cache_dir=Path(run.cache_dir).resolve())
        return cls(planner, decode, plan, run_options=worker_run, layout=shape)

    @property
    def actors(self) -> list:
        """The model actors. Ray restarts one whose process dies (max_restarts=-1) and retries the
        batches it had (max_task_retries=-1): a killed worker costs time, never a segment."""
        if not self._actors:
            loaded = self.loaded
            self._actors = start_actors(BatchWorker, self.layout, loaded.ref, loaded.revision, self.plan, self.decode,
                                        self.run_options)
        return self._actors

    def run(self, texts: Sequence[str], **overrides) -> Iterator[Generated]:
        """Yields (positions in `texts`, outputs, scores) per batch as the actors finish them, each batch
        once; QUEUED_PER_WORKER batches per actor are in flight, never the whole of `texts`."""
        if not texts:
            return
        lengths = self.count_tokens(texts)
        plan = plan_batches(lengths, self._spread_budget(lengths), self.beams)
        todo = list(enumerate(plan))[::-1]
        load = {i: 0 for i in range(len(self.actors))}  # batches in flight per actor
        flying: dict = {}  # ObjectRef -> (batch number, actor number)
        try:
            while todo or flying:
                for i in sorted(load, key=load.get):
                    if todo and load[i] < QUEUED_PER_WORKER:
                        k, batch = todo.pop()
                        ref = self.actors[i].translate.remote([texts[j] for j in batch], overrides)
                        flying[ref], load[i] = (k, i), load[i] + 1
                ref, (outputs, scores) = self._next_finished(flying)
                k, i = flying.pop(ref)
                load[i] -= 1
                self.calls += 1
                yield plan[k], outputs, scores
        except GenerationFailed:  # one segment too big for a worker: the caller retries one by one, same actors
            raise
        except BaseException:  # a failed or interrupted run: its actors free their CPUs/GPUs now
            self.release()
            raise

    def hypotheses(self, texts: Sequence[str], k: int) -> list[list[str]]:
        """Engine.hypotheses on one actor (the next, in turn): the batch as planned, decoded as a
        local run would (the glossary's n-best retry, glossing.py)."""
        if not texts:
            return []
        actors = self.actors
        self._turn = (self._turn + 1) % len(actors)
        call = actors[self._turn].hypotheses.remote(list(texts), k)
        try:
            _, (found, error) = wait_one({call: None}, "finished batches are cached")
        except BaseException:
            self.release()
            raise
        if error:
            _raise_worker_error(error)
        self.calls += 1
        return found

    def release(self) -> None:
        """Ends the model actors (a later run() starts new ones). Without it they live as long as
        this engine is referenced, e.g. by a traceback, holding resources a next run would wait for."""
        release(self._actors)
        self._actors = []

    def _next_finished(self, flying: dict):
        """(ref, (outputs, scores)) of one finished batch; a worker's error, or a lost cluster, ends the run."""
        ref, (outputs, scores, error) = wait_one(flying, "finished batches are cached")
        if error:
            _raise_worker_error(error)
        return ref, (outputs, scores)

    def _spread_budget(self, lengths: list[int]) -> int:
        """The batch budget, lowered when the work is too small to give every actor a batch
        (engine.spread_budget, as Ct2Engine spreads work over its local workers)."""
        return spread_budget(lengths, self.budget, self.beams, self.layout.workers)


def start_actors(cls, shape: Layout, *args) -> list:
    """`shape.workers` Ray actors of `cls(*args)`, each with shape's CPUs and GPUs. Ray restarts one
    whose process dies (max_restarts=-1) and retries the calls it had (max_task_retries=-1)."""
    import ray  # the [ray] extra: imported when a Ray run starts

    actor = ray.remote(num_cpus=shape.num_cpus, num_gpus=shape.num_gpus, max_restarts=-1, max_task_retries=-1)(cls)
    return [actor.remote(*args) for _ in range(shape.workers)]


def release(actors: list) -> None:
    """Ends these actors now, so that their CPUs and GPUs are free for a next run."""
    import ray  # the [ray] extra: imported when a Ray run starts

    for actor in actors:
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone with its cluster
            pass


def wait_one(flying, kept: str):
    """(ref, value) of one finished call among `flying` (ObjectRefs). A failure of our code on a
    worker (WorkerModelError), or a cluster lost beyond Ray's retries (ClusterLost), ends the run
    with one line saying what is `kept` ("finished batches are cached")."""
    import ray  # the [ray] extra: imported when a Ray run starts
    from ray.exceptions import RayTaskError  # the [ray] extra, as above

    try:
        ready, _ = ray.wait(list(flying), num_returns=1)
        return ready[0], ray.get(ready[0])
    except RayTaskError as err:  # our code failed on the worker in a way the user cannot fix
        raise WorkerModelError(f"a Ray worker failed: {first_line(err.cause or err)}; {kept}") from None
    except Exception as err:  # actors or nodes lost beyond Ray's retries, the head node gone
        raise ClusterLost(f"the Ray cluster went away mid-run ({first_line(err)}); {kept}: run again to resume") from None


# Errors travel back as data, "Kind: message": a load error is no crash that an actor restart
# could fix, and a remote traceback is no line for a user.
_WORKER_ERRORS = {"GenerationFailed": GenerationFailed, "CacheError": CacheError, "OutputError": OutputError}


def _raise_worker_error(error: str):
    kind, _, message = error.partition(": ")
    raise _WORKER_ERRORS.get(kind, WorkerModelError)(message)


# --- the workers' side ---------------------------------------------------------------------


class BatchWorker:
    """One model replica per Ray actor; each call translates one planned batch (or gives its n best)."""

    def __init__(self, ref: ModelRef, revision: str, plan: Plan, decode: DecodeOptions, run: RunOptions):
        self.engine, self.error = None, ""
        try:
            self.engine = _worker_engine(ref, revision, plan, decode, run)
        except TkError as err:
            self.error = f"WorkerModelError: worker on {socket.gethostname()}: {err}"

    def translate(self, texts: list[str], overrides: dict) -> tuple[list[str], list[float | None], str]:
        """(outputs and their scores in input order, "") or ([], [], "Kind: message")."""
        if self.error:
            return [], [], self.error
        try:
            done = {i: (out, score) for positions, outputs, scores in self.engine.run(texts, **overrides)
                    for i, out, score in zip(positions, outputs, scores)}
        except GenerationFailed as err:
            return [], [], f"GenerationFailed: {err}"
        return [done[i][0] for i in range(len(texts))], [done[i][1] for i in range(len(texts))], ""

    def hypotheses(self, texts: list[str], k: int) -> tuple[list[list[str]], str]:
        """(the `k` best translations of each text, "") or ([], "Kind: message")."""
        if self.error:
            return [], self.error
        try:
            return self.engine.hypotheses(texts, k), ""
        except GenerationFailed as err:
            return [], f"GenerationFailed: {err}"


def _worker_engine(ref: ModelRef, revision: str, plan: Plan, decode: DecodeOptions, run: RunOptions) -> Engine:
    """The local engine for the driver's Plan, once this node has the same model revision and
    hardware that can run the Plan: a different model or precision would mix outputs in one
    cache key. Nothing is decided again here."""
    found = resolved_revision(ref, ensure_local(ref))
    if found != revision:
        raise WorkerModelError(f"{ref.repo} resolves to revision {found}, the driver's is {revision}; "
                               f"give every node the same model (`tk models pull`, or --model on shared storage)")
    backend = registry.get(plan.backend)
    try:
        backend.check(plan)
    except TkError as err:
        raise WorkerModelError(f"{ref.repo} cannot run as {plan.backend} {plan.precision} on {plan.device} here ({err}), "
                               f"as the driver's cache key says; use --backend and --precision that every node supports") from None
    return backend.engine(ref, plan, decode, run, lambda message: None)
