"""Where model work runs: `local` (in this process, engine.py / ct2.py) or `ray` (a Ray cluster,
engines/ray.py). Every engine keeps Engine's contract (run / count_tokens / count /
max_input_tokens / budget / beams / decode), so the pipeline in translate.py does not know which
one it has: it reads, segments, deduplicates and looks up the cache the same way for both.

The choice is a RunOptions field (`--engine`, TK_ENGINE): it never changes a result, so it is
not part of the cache signature.

`--engine ray --shard` (engines/sharded.py) works a level up: whole documents go to the Ray
workers, each of which runs the local pipeline and engine itself against its node's cache, so the
driver does nothing per segment; it merges the workers' cache rows and writes their files.
"""

from __future__ import annotations

import importlib.util

from ..errors import UsageError

ENGINES = ("local", "ray")
RAY_INSTALL = 'pip install -e ".[ray]"'


def check(name: str) -> None:
    """UsageError (one line) for an unknown engine, or for `ray` without the [ray] extra."""
    if name not in ENGINES:
        raise UsageError(f"unknown engine '{name}'; known: {', '.join(ENGINES)}")
    if name == "ray" and not ray_installed():
        raise UsageError(f"--engine ray needs Ray, which is not installed: {RAY_INSTALL}")


def ray_installed() -> bool:
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


def choose_device(run, backend: str) -> str:
    """The device the model will run on: this machine's, or (ray) the cluster workers'."""
    if run.engine != "local":
        check(run.engine)
        from .ray import cluster_device

        return cluster_device(run)
    from .. import ct2

    return ct2.choose_device(run.device, backend)


def make_engine(ref, decode, requested, device: str, run):
    """A remote engine for `decode` (already resolved, as in the cache key); `requested` is the
    decoding the user asked for, which the workers resolve again and must agree with."""
    check(run.engine)
    from .ray import RayEngine

    return RayEngine.start(ref, decode, requested, device, run)
