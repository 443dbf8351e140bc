"""The batcher's scheduling, deterministic (issue 27): the next group forms while the previous
one is in the engine and is handed over whole; concurrent clients end up in one group, not in two
cohorts taking turns with half-size model batches.

A fake Service (pure scheduling logic, no model): `translate` records each group's sentences and
can be held on a gate, so what is in the engine and what is forming is known at every step.
"""

from __future__ import annotations

import threading
import time

from translate_kit.serve.batcher import Batcher, Job
from translate_kit.translators import Translation


class FakePiece:
    def __init__(self, text: str):
        self.source = text

    def texts(self) -> list[str]:
        return [self.source]

    def fill(self, done) -> None:
        self.target = done[self.source].target


class FakeService:
    def __init__(self, hold: threading.Event | None = None, seconds: float = 0.0):
        self.calls: list[list[str]] = []
        self.inside = threading.Event()
        self.hold, self.seconds = hold, seconds

    def translator(self, src, tgt):
        return None

    def segment(self, translator, text, src):
        return FakePiece(text)

    def translate(self, translator, texts, advance=lambda n: None):
        self.calls.append(list(texts))
        self.inside.set()
        if self.hold is not None and len(self.calls) == 1:
            assert self.hold.wait(30)
        time.sleep(self.seconds)
        return {t: Translation(t.upper(), "model") for t in texts}

    def close(self):
        pass


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_the_next_group_forms_while_the_first_is_in_the_engine():
    gate = threading.Event()
    fake = FakeService(hold=gate)
    batcher = Batcher(lambda: fake, wait=0.0)
    try:
        first = batcher.submit(Job("fr", "en", ["un"]))
        assert fake.inside.wait(10) and batcher.busy
        later = [batcher.submit(Job("fr", "en", [t])) for t in ("deux", "trois", "quatre")]
        other = batcher.submit(Job("de", "en", ["fünf"]))
        assert wait_for(lambda: batcher.forming == 3)  # formed while "un" is still in the engine
        assert fake.calls == [["un"]] and batcher.formed_while_busy == 3
        gate.set()
        assert [p.target for f in [first, *later, other] for p in f.result(10)] == ["UN", "DEUX", "TROIS", "QUATRE", "FÜNF"]
        assert fake.calls == [["un"], ["deux", "trois", "quatre"], ["fünf"]]  # handed over whole, pairs apart
    finally:
        gate.set()
        batcher.close()


def test_concurrent_clients_end_up_in_one_group_not_two_cohorts():
    """Eight clients, each sending its next request 3 ms after its answer (an HTTP round trip);
    half of them start while the first group is in the engine (two cohorts). After a few rounds every group holds all
    eight: the worker waits for the clients just answered instead of leaving with the cohort that
    queued meanwhile."""
    fake = FakeService(seconds=0.1)
    batcher = Batcher(lambda: fake, wait=0.0)
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            batcher.submit(Job("fr", "en", [f"c{n}-{i}"])).result(30)
            time.sleep(0.003)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    try:
        for t in threads[:4]:
            t.start()
        assert fake.inside.wait(10)
        for t in threads[4:]:
            t.start()
        assert wait_for(lambda: len(fake.calls) >= 12, 30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        batcher.close()
    sizes = [len(c) for c in fake.calls]
    assert sizes[6:11] == [8] * 5, sizes


def test_clients_back_before_the_worker_are_not_counted_twice():
    """The worker can reach its next group after the clients it just answered are back (a busy
    machine, the GIL): those requests are the returning clients, not new ones to wait for on top,
    so the group goes at once, not after the whole pause (a fifth of the last group's time: 4 s)."""
    fake = FakeService(seconds=0.05)
    batcher = Batcher(lambda: fake, wait=0.0, max_wait=5.0)
    translate = batcher._translate
    late = threading.Event()

    def slow_to_come_back(service, group):
        translate(service, group)
        batcher._last_seconds = 20.0  # as if that group took 20 s
        if late.is_set():
            time.sleep(0.3)  # every client of this group is back before the worker looks

    batcher._translate = slow_to_come_back
    try:
        jobs = [Job("fr", "en", [f"a{i}"]) for i in range(4)]
        late.set()
        futures = [batcher.submit(job) for job in jobs]
        [f.result(10) for f in futures]
        late.clear()
        started = time.monotonic()
        again = [batcher.submit(Job("fr", "en", [f"b{i}"])) for i in range(4)]
        [f.result(10) for f in again]
        assert time.monotonic() - started < 2.0
        assert [len(c) for c in fake.calls][-1] == 4
    finally:
        batcher.close()


def test_a_burst_after_a_small_group_is_one_group():
    """The last group's size says how many clients will come back only just after it was
    answered: a burst of sixteen new clients right after a group of four forms one group of
    sixteen, not one of four and the rest after it."""
    fake = FakeService(seconds=1.5)  # the returning clients' pause: a fifth of it, 0.3 s
    batcher = Batcher(lambda: fake, wait=0.15, max_wait=2.0)  # a burst 2 ms apart has room to be late
    try:
        [f.result(10) for f in [batcher.submit(Job("fr", "en", [f"a{i}"])) for i in range(4)]]
        burst = []
        for i in range(16):
            burst.append(batcher.submit(Job("fr", "en", [f"b{i}"])))
            time.sleep(0.002)
        [f.result(30) for f in burst]
        assert [len(c) for c in fake.calls] == [4, 16]
    finally:
        batcher.close()
