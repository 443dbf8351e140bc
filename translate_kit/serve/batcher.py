"""Micro-batching: requests that arrive together share model calls.

Two threads. The gatherer takes each request (a Job) off the bounded queue as it comes and adds it
to the group being formed (same language pair, up to the token budget; other pairs wait in a
backlog, in order). The worker owns the Service (models and the cache's SQLite connection): it
takes the formed group, segments it, deduplicates its sentences across requests, and makes one
Translator.translate_texts call for all of them (cache first, the model for the misses, in
length-sorted token-budgeted batches that CTranslate2's workers decode at once). So the next group
forms WHILE the previous one decodes, and is handed over the moment the worker is free.

When to hand it over: after a group of several requests, the clients just answered send their
next requests within milliseconds; the worker waits for them (up to a fifth of the last group's
time, at most `max_wait`) rather than leave with only the requests that queued meanwhile. Requests
already forming when the group was answered are new clients, counted on top; those that came after
are the returning ones, never counted twice. Once everyone expected is in (or with no one to
expect: a single client, or the first group after an idle spell), it goes once `wait` passes with
no new request (or three times the burst's mean gap, when requests come further apart), so a
burst of clients starting at once keeps the group open up to `max_wait`.
Without that wait, 16 clients split into two cohorts of 8 that take turns for ever, each a model
batch of half the size (issue 27). With it, the groups grow to every client at work.

The queue is bounded (`limit` jobs waiting for the model): past it `submit` raises QueueFull and
the server answers 429 with a Retry-After, never an unbounded backlog. A job whose client gave up
(timeout, disconnect) is skipped if it has not started, and a started group stops after its batch
in progress once none of its clients is left (Job.gone). `close()` lets the worker finish the jobs
it holds, then closes the cache: a SIGTERM never leaves a batch half stored.
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


class Abandoned(Exception):
    """Every request of a group has gone (clients left or timed out): its work stops at the next batch."""


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
    gone: threading.Event = field(default_factory=threading.Event)  # set when its client has left
    arrived: float = 0.0  # when it joined a group being formed (time.monotonic())

    @property
    def pair(self) -> tuple[str, str]:
        return self.src, self.tgt


class Batcher:
    def __init__(self, make_service: Callable[[], object], limit: int = 64, wait: float = 0.005, budget: int = 4096,
                 max_wait: float = 0.25):
        self.limit, self.wait, self.budget, self.max_wait = limit, wait, budget, max_wait
        self._last_jobs = 1  # requests in the last group: how many clients seem to be working at once
        self._last_seconds = 1.0
        self._answered = 0.0  # when the last group's requests were answered (time.monotonic())
        self.groups = self.grouped = 0  # groups translated, and the requests they held (for /stats)
        self.formed_while_busy = 0  # requests that joined a group while the worker was translating (for /stats)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._waiting = 0  # jobs submitted and not yet taken by the worker
        self._lock = threading.Lock()  # _waiting, _closing
        self._cond = threading.Condition()  # the group being formed, the backlog, _busy, _stop_seen
        self._forming: list[Job] = []
        self._forming_size = 0
        self._backlog: collections.deque[Job] = collections.deque()  # other pairs (or over the budget): later
        self._busy = False  # the worker is translating a group
        self._closing = False
        self._stop_seen = False  # the gatherer has taken the close marker
        self._ready = threading.Event()
        self._gatherer = threading.Thread(target=self._gather_forever, name="tk-serve-gather", daemon=True)
        self._thread = threading.Thread(target=self._run, args=(make_service,), name="tk-serve-worker", daemon=True)
        self._gatherer.start()
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

    @property
    def forming(self) -> int:
        """Requests in the group being formed (for /stats and the scheduling test)."""
        return len(self._forming)

    @property
    def busy(self) -> bool:
        return self._busy

    def retry_after(self) -> int:
        """Seconds until the queue has likely moved on: the last group's time, at least 1."""
        return max(1, round(self._last_seconds))

    def close(self, timeout: float = 10.0) -> None:
        """Finish the jobs already taken and queued, then stop and close the cache; after
        `timeout` seconds the worker (a daemon) is abandoned: a SIGTERM ends in bounded time, and
        a batch cut short is simply not stored (each batch is stored in one transaction)."""
        with self._lock:
            self._closing = True
        self._queue.put(None)
        self._thread.join(timeout)

    # --- the gatherer: forms the next group while the worker translates ----------------------------

    def _gather_forever(self) -> None:
        while True:
            job = self._queue.get()
            with self._cond:
                self._refill()
                if job is None:
                    self._stop_seen = True
                elif self._joins(job):
                    self._forming.append(job)
                    self._forming_size += self._estimate(job)
                    job.arrived = time.monotonic()
                    self.formed_while_busy += self._busy
                else:
                    self._backlog.append(job)
                self._cond.notify_all()
            if job is None:
                return

    def _joins(self, job: Job) -> bool:
        """Whether `job` can join the group being formed (caller holds _cond): same pair, room left,
        and no older job of its pair waiting in the backlog (order is kept within a pair)."""
        if not self._forming:
            return not any(j.pair == job.pair for j in self._backlog)
        return job.pair == self._forming[0].pair and self._forming_size < self.budget

    def _refill(self) -> None:
        """The next group starts from the backlog's oldest pair (caller holds _cond)."""
        if self._forming or not self._backlog:
            return
        pair = self._backlog[0].pair
        for job in list(self._backlog):
            if job.pair == pair and self._forming_size < self.budget:
                self._backlog.remove(job)
                self._forming.append(job)
                self._forming_size += self._estimate(job)

    def _take_group(self) -> list[Job] | None:
        """The formed group, once the worker is free: waits for a first job, then (after a group of
        several requests) for the clients just answered to come back; None when closing and empty."""
        with self._cond:
            self._busy = False
            self._refill()
            while not self._forming and not self._stop_seen:
                self._cond.wait()
                self._refill()
            if not self._forming:
                return None
            started = time.monotonic()
            # The clients of the last group come back only if they were answered just now; those
            # already here when it was answered are new ones (counting them twice would hold the
            # group for the whole pause), and after an idle spell nobody is coming back.
            returning = self._last_jobs if self._last_jobs > 1 and started - self._answered < self.max_wait else 0
            expect = sum(job.arrived <= self._answered for job in self._forming) + returning
            pause = max(self.wait, min(self.max_wait, 0.2 * self._last_seconds)) if returning else self.max_wait
            while self._forming_size < self.budget and not self._stop_seen:
                deadline = started + pause
                if len(self._forming) >= expect:  # all expected here: go once arrivals have stopped
                    last = max(job.arrived for job in self._forming)
                    deadline = min(deadline, max(last, started - self.wait) + self._quiet())
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken, self._forming, self._forming_size = self._forming, [], 0
            self._refill()
            self._busy = True
        with self._lock:
            self._waiting -= len(taken)
        group = [job for job in taken if job.future.set_running_or_notify_cancel()]
        if group:
            self._last_jobs = len(group)
            self.groups, self.grouped = self.groups + 1, self.grouped + len(group)
        return group

    def _quiet(self) -> float:
        """How long without a new request means no more are coming (caller holds _cond): `wait`, or
        three times the mean gap between the requests that came since the last answer when they
        arrive further apart (a burst of clients starting at once on a busy machine)."""
        times = [job.arrived for job in self._forming if job.arrived > self._answered]
        if len(times) < 2:
            return self.wait
        return max(self.wait, 3 * (max(times) - min(times)) / (len(times) - 1))

    # --- the worker: owns the Service ----------------------------------------------------------------

    def _run(self, make_service) -> None:
        try:
            service, failure = make_service(), None
        except Exception as err:  # noqa: BLE001 - reported on every job instead
            service, failure = None, err
            log.error("the translation service could not start: %s", err)
        self._ready.set()
        try:
            while (group := self._take_group()) is not None:
                if not group:
                    continue
                if failure is not None:
                    for job in group:
                        job.future.set_exception(TkError("the translation service could not start"))
                    continue
                self._translate(service, group)
        finally:
            if service is not None:
                service.close()

    @staticmethod
    def _abandoned(group: list[Job]):
        """The progress callback of a group's translation: after each batch (cached as it comes),
        it stops the work when no client of the group is still waiting for it."""
        def check(done: int) -> None:
            if all(job.gone.is_set() for job in group):
                raise Abandoned()
        return check

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
            done = service.translate(translator, unique, self._abandoned(group)) if unique else {}
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
            self._answered = time.monotonic()
            for job in group:
                job.future.set_result(pieces[id(job)])
        except Exception as err:  # noqa: BLE001 - every waiting request gets the error, the worker goes on
            if isinstance(err, Abandoned):
                log.info("%s-%s: %d request(s) abandoned by their clients; their work stopped", src, tgt, len(group))
            elif not isinstance(err, TkError):
                log.exception("translation failed for %s-%s", src, tgt)
            self._answered = time.monotonic()
            for job in group:
                if not job.future.done():
                    job.future.set_exception(err)
        self._last_seconds = self._answered - started
