"""Micro-batching: requests that arrive together share model calls.

One worker thread owns the Service (models, the cache's SQLite connection). It takes the oldest
job, waits `wait` for more, gathers the waiting jobs of the same pair up to `budget`, and makes one
Translator.translate_texts call for their deduplicated sentences; after a group it waits up to
`max_wait` for those clients' next requests (`_gather`). Past `limit` waiting jobs `submit` raises
QueueFull (429); `close()` finishes the jobs held, then closes the cache. docs/design.md#tk-serve
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..errors import TkError

log = logging.getLogger("translate_kit")


class QueueFull(Exception):
    """Too many requests waiting; `retry_after` is a hint in seconds."""

    def __init__(self, retry_after: int):
        super().__init__("queue full")
        self.retry_after = retry_after


@dataclass
class Job:
    """One request: its texts in one language pair; the Future gets a list of Pieces."""

    src: str
    tgt: str
    texts: list[str]
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    alternatives: int = 0  # other translations asked for each text (its Pieces' `others`)

    @property
    def pair(self) -> tuple[str, str]:
        return self.src, self.tgt


class Batcher:
    def __init__(self, make_service: Callable[[], object], limit: int = 64, wait: float = 0.005, budget: int = 4096,
                 max_wait: float = 0.25):
        self.limit, self.wait, self.budget, self.max_wait = limit, wait, budget, max_wait
        self._last_jobs = 1  # requests in the last group: how many clients seem to be working at once
        self.groups = self.grouped = 0  # groups translated, and the requests they held (for /health)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._waiting = 0  # jobs submitted and not yet taken by the worker
        self._lock = threading.Lock()
        self._backlog: collections.deque[Job] = collections.deque()  # taken, other pair: next round
        self._closing = False
        self._stop_seen = False  # the worker has taken the close marker
        self._last_seconds = 1.0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make_service,), name="tk-serve-worker", daemon=True)
        self._thread.start()
        self._ready.wait()

    # --- request side ------------------------------------------------------------------------

    def submit(self, job: Job) -> concurrent.futures.Future:
        with self._lock:
            if self._closing:
                raise QueueFull(self.retry_after())
            if self._waiting >= self.limit:
                raise QueueFull(self.retry_after())
            self._waiting += 1
        self._queue.put(job)
        return job.future

    @property
    def waiting(self) -> int:
        return self._waiting

    def retry_after(self) -> int:
        """Seconds until the queue has likely moved on: the last group's time, at least 1."""
        return max(1, round(self._last_seconds))

    def close(self, timeout: float = 30.0) -> None:
        """Finish the jobs already taken and queued, then stop and close the cache."""
        with self._lock:
            self._closing = True
        self._queue.put(None)
        self._thread.join(timeout)

    # --- worker side ---------------------------------------------------------------------------

    def _run(self, make_service) -> None:
        try:
            service, failure = make_service(), None
        except Exception as err:  # noqa: BLE001 - reported on every job instead
            service, failure = None, err
            log.error("the translation service could not start: %s", err)
        self._ready.set()
        try:
            while True:
                first = self._next(block=not self._stop_seen)
                if first is None:
                    if self._stop_seen and not self._backlog and self._queue.empty():
                        break
                    continue
                group = self._gather(first)
                if failure is not None:
                    for job in group:
                        job.future.set_exception(TkError("the translation service could not start"))
                    continue
                self._translate(service, group)
        finally:
            if service is not None:
                service.close()

    def _take(self, block: bool, timeout: float | None = None) -> Job | None:
        """The next queued job, or None (nothing within the timeout, or the close marker)."""
        try:
            job = self._queue.get(block=block, timeout=timeout)
        except queue.Empty:
            return None
        if job is None:
            self._stop_seen = True
            return None
        with self._lock:
            self._waiting -= 1
        return job

    def _next(self, block: bool) -> Job | None:
        while self._backlog:
            job = self._backlog.popleft()
            if job.future.set_running_or_notify_cancel():
                return job
        while True:
            job = self._take(block and not self._stop_seen)
            if job is None:
                return None
            if job.future.set_running_or_notify_cancel():
                return job

    def _gather(self, first: Job) -> list[Job]:
        """`first` and the jobs of its pair that arrive soon, up to the token budget.

        "Soon" is `wait`; but when the last group held several requests (clients are working
        concurrently), up to `max_wait` (at most a fifth of the last group's time) while the group
        has fewer requests than the last one: the clients just answered send their next requests
        within milliseconds, and catching them here saves them a whole model call of waiting."""
        group, size = [first], self._estimate(first)
        started = time.monotonic()
        short = started + self.wait
        long = started + max(self.wait, min(self.max_wait, 0.2 * self._last_seconds)) if self._last_jobs > 1 else short
        for job in list(self._backlog):  # taken earlier, same pair: they go first
            if job.pair == first.pair and size < self.budget:
                self._backlog.remove(job)
                if job.future.set_running_or_notify_cancel():
                    group.append(job)
                    size += self._estimate(job)
        while size < self.budget:
            left = (long if len(group) < self._last_jobs else short) - time.monotonic()
            job = self._take(block=left > 0 and not self._stop_seen, timeout=max(left, 0.0))
            if job is None:
                break
            if job.pair != first.pair:
                self._backlog.append(job)
                continue
            if job.future.set_running_or_notify_cancel():
                group.append(job)
                size += self._estimate(job)
        self._last_jobs = len(group)
        self.groups, self.grouped = self.groups + 1, self.grouped + len(group)
        return group

    @staticmethod
    def _estimate(job: Job) -> int:
        return sum(len(t) // 4 + 1 for t in job.texts)

    def _translate(self, service, group: list[Job]) -> None:
        started = time.monotonic()
        src, tgt = group[0].pair
        try:
            translator = service.translator(src, tgt)
            pieces = {id(job): [service.segment(translator, text, src) for text in job.texts] for job in group}
            unique = list(dict.fromkeys(t for job in group for p in pieces[id(job)] for t in p.texts()))
            done = service.translate(translator, unique) if unique else {}
            for job in group:
                for piece in pieces[id(job)]:
                    piece.fill(done)
            wanted = [job for job in group if job.alternatives]
            if wanted:
                mine = {t for job in wanted for p in pieces[id(job)] for t in p.texts()}
                others = service.alternatives(translator, {t: done[t] for t in mine}, max(j.alternatives for j in wanted))
                for job in wanted:
                    for piece in pieces[id(job)]:
                        piece.others = others
            for job in group:
                job.future.set_result(pieces[id(job)])
        except Exception as err:  # noqa: BLE001 - every waiting request gets the error, the worker goes on
            if not isinstance(err, TkError):
                log.exception("translation failed for %s-%s", src, tgt)
            for job in group:
                if not job.future.done():
                    job.future.set_exception(err)
        self._last_seconds = time.monotonic() - started
