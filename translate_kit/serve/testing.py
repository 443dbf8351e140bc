"""A server in a background thread on 127.0.0.1 and a free port, for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def running(settings=None, make_service=None) -> Iterator[str]:
    """Start the app on uvicorn, yield its base URL (no trailing slash), stop it on exit."""
    import uvicorn

    from .app import create_app

    config = uvicorn.Config(create_app(settings, make_service), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tk-serve-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
