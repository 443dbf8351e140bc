"""Lanes: a few daemon threads for one kind of blocking work, apart from everything else.

Reading an upload (a PDF, a DOCX, an HTML page) can take seconds; detecting a language takes
milliseconds. In asyncio's one default executor, six slow uploads would hold every thread and
stall each /detect and each `source=auto` request behind them. Each kind of work gets its own
lane instead, with its own bound (`workers`). The threads are daemons, started per call: at
SIGTERM a read still running never holds the process (the default executor's threads are joined
at exit, however long their work takes); what it was reading is abandoned with its request.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


class Lane:
    def __init__(self, name: str, workers: int):
        self.name, self.workers = name, workers
        self._slots: asyncio.Semaphore | None = None  # made on first use, in the server's event loop
        self.busy = 0

    async def run(self, fn: Callable[..., T], *args) -> T:
        """fn(*args) in one of this lane's threads; waits for a free one first. A request that is
        cancelled (its client left) stops waiting at once, but its thread keeps the lane's slot
        until it ends: clients that leave cannot start more threads than `workers`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        await self._slots.acquire()
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        self.busy += 1

        def work() -> None:
            try:
                result, err = fn(*args), None
            except BaseException as caught:  # noqa: BLE001 - handed to the waiting request
                result, err = None, caught
            loop.call_soon_threadsafe(self._finish, done, result, err)

        try:
            threading.Thread(target=work, name=f"tk-serve-{self.name}", daemon=True).start()
        except BaseException:
            self._finish(done, None, None)
            raise
        return await done

    def _finish(self, future: asyncio.Future, result, err) -> None:
        self.busy -= 1
        self._slots.release()
        _settle(future, result, err)


def _settle(future: asyncio.Future, result, err) -> None:
    if future.done():
        return
    if err is not None:
        future.set_exception(err)
    else:
        future.set_result(result)
