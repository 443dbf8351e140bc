"""How a model runs, decided once: the registry, resolve() -> Plan, open_engine().

    registry.py   the backends (torch, ct2) and the `auto` rule; an unknown name lists the choices
    plan.py       Plan (frozen): backend, device, precision, beams, batch budget, input limit
    devices.py    the only choose_device, core counting, threads
    engine.py     the Engine contract, batch planning, out-of-memory halving
    torch.py  ct2.py   one engine per backend
    ray.py        the same contract with the model work on a Ray cluster (`--engine ray`)

`resolve()` settles backend, device and precision once into a Plan; `Plan.for_model` adds the
model's beams and input limit from its files. The cache Signature, every engine and the reports
read that Plan. This package never imports translators, the pipelines, cache.py or the CLI.
"""

from __future__ import annotations

import importlib.util

from ..errors import UsageError
from . import devices
from .plan import Plan
from .registry import AUTO_ORDER, CHOICES, REGISTRY, choose_backend, get

__all__ = ["AUTO_ORDER", "CHOICES", "ENGINES", "REGISTRY", "Plan", "check_engine", "choose_backend", "get",
           "open_engine", "plan_run", "resolve"]

# Where model work runs: `local` (this process: torch.py / ct2.py) or `ray` (a Ray cluster, ray.py).
# It never changes a result, so it is no part of the cache signature.
ENGINES = ("local", "ray")
RAY_INSTALL = 'pip install -e ".[ray]"'


def resolve(backend: str = "auto", device: str = "auto", precision: str = "auto", batch_tokens: int | None = None) -> Plan:
    """Decide once: the device, then the backend for it, then the precision that backend runs."""
    if backend != "auto":
        get(backend)  # an unknown name fails before any device probing
    device = devices.choose_device(device, backend)  # through the module: the one place, patched as one
    name = choose_backend(backend, device)
    return Plan(name, device, get(name).precision(device, precision), batch_tokens or 0)


def plan_run(decode, run) -> Plan:
    """The Plan of a run (options.DecodeOptions, options.RunOptions): on this machine, or (ray) on
    the cluster's workers, whose device the cluster says."""
    device = run.device
    if run.engine != "local":
        check_engine(run.engine)
        from . import ray  # socket and Ray's glue: only for --engine ray (a local warm run stays light)

        device = ray.cluster_device(run)
    return resolve(decode.backend, device, decode.precision, run.batch_tokens)


def open_engine(ref, plan: Plan, decode, run, note=lambda message: None):
    """The Engine for a model as `plan` (already for_model) says: local, or on Ray's workers."""
    if run.engine == "ray":
        from . import ray  # as in plan_run

        return ray.RayEngine.start(ref, plan, decode, run)
    return get(plan.backend).engine(ref, plan, decode, run, note)


def check_engine(name: str) -> None:
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
