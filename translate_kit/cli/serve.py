"""`tk serve`: the LibreTranslate-compatible server (translate_kit/serve/), on uvicorn.

Registered on the main app in cli/__init__.py. The server stack (fastapi, uvicorn) is imported only when
the command runs, so `tk --help` never loads it; without the [serve] extra the command says how
to install it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import (EXIT_USAGE, BackendOpt, BatchTokensOpt, BeamsOpt, CacheDirOpt, DeviceOpt, GlossaryModeOpt,
                     GlossaryOpt, PrecisionOpt, QualityOpt, ThreadsOpt, decode_options, fail, glossary_enforcer,
                     options_or_exit, say)

LOOPBACK = "127.0.0.1"
# Seconds a SIGTERM leaves requests in flight to finish before they are abandoned (then the
# worker gets Batcher.close's few seconds, the upload folder is removed, and the process ends).
SHUTDOWN_GRACE = 20.0


def read_keys(path: Path) -> frozenset[str]:
    """One API key a line; blank lines and # comments ignored. A byte-order mark (Windows Notepad
    writes one), CRLF line ends and spaces around a key are not part of it."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read the API keys ({getattr(err, 'strerror', None) or err})") from None
    keys = frozenset(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not keys:
        raise UsageError(f"{path}: no API keys in it (one a line)")
    return keys


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but 127.0.0.1 is reachable from other machines.")] = LOOPBACK,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one, printed).")] = 5000,
    api_keys: Annotated[Optional[Path], typer.Option("--api-keys", help="File of API keys, one a line: requests without one get 403.")] = None,
    cors_origin: Annotated[Optional[list[str]], typer.Option("--cors-origin", help="Allow browser requests from this origin (repeatable); CORS is off otherwise.")] = None,
    char_limit: Annotated[int, typer.Option("--char-limit", help="Characters per request (-1: none); over it, 413.")] = 20_000,
    file_limit: Annotated[int, typer.Option("--file-limit", min=1, help="Bytes per uploaded file; over it, 413.")] = 2_000_000,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds a request may wait for its translation.")] = 120.0,
    queue: Annotated[int, typer.Option("--queue", min=1, help="Requests waiting for the model; past it, 429 with Retry-After.")] = 64,
    batch_wait: Annotated[float, typer.Option("--batch-wait", min=0.0, help="Seconds to wait for more requests to share a model call.")] = 0.005,
    device: DeviceOpt = None,
    backend: BackendOpt = None,
    quality: QualityOpt = None,
    beams: BeamsOpt = None,
    precision: PrecisionOpt = "auto",
    batch_tokens: BatchTokensOpt = None,
    threads: ThreadsOpt = None,
    cache_dir: CacheDirOpt = None,
    glossary: GlossaryOpt = None,
    glossary_mode: GlossaryModeOpt = None,
) -> None:
    """Serve the LibreTranslate HTTP API (and a page at /) with the local models and cache."""
    try:
        import uvicorn  # the [serve] extra: only when the server runs

        from ..serve.app import Settings, create_app
    except ImportError as err:
        raise fail(f"tk serve needs the server extra ({err.name} is missing): pip install -e \".[serve]\"", EXIT_USAGE)
    from ..options import RunOptions

    with options_or_exit():
        keys = read_keys(api_keys) if api_keys else frozenset()
        decode = decode_options(beams, precision, backend, quality)
        run = RunOptions.from_env(device=device, batch_tokens=batch_tokens, threads=threads, cache_dir=cache_dir)
        enforcer = glossary_enforcer(glossary, glossary_mode, None)  # every request follows it
    if not is_loopback(host) and not keys:
        say(f"warning: listening on {host} with no --api-keys: anyone who can reach this machine can use it")
    settings = Settings(decode=decode, run=run, char_limit=char_limit, file_limit=file_limit, timeout=timeout,
                        queue=queue, batch_wait=batch_wait, api_keys=keys, cors_origins=tuple(cors_origin or ()),
                        glossary=enforcer)
    with options_or_exit():
        api = create_app(settings)  # reads models.lock and the local cache: what it can serve
    config = uvicorn.Config(api, host=host, port=port, log_level="warning",
                            timeout_graceful_shutdown=SHUTDOWN_GRACE, server_header=False)
    server = uvicorn.Server(config)
    _announce(server, host)
    server.run()


def _announce(server, host: str) -> None:
    """Print the address once uvicorn has bound it (port 0 picks a free one)."""
    original = server.startup

    async def startup(sockets=None):
        await original(sockets=sockets)
        for s in server.servers:
            for sock in s.sockets:
                address = sock.getsockname()
                typer.echo(f"tk serve: http://{host if ':' not in host else f'[{host}]'}:{address[1]}/", err=True)
                return

    server.startup = startup
