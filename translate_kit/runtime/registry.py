"""The backend registry: one module per backend, each with the same names.

    NAME                          "torch", "ct2"
    DEVICES                       device kinds it runs on ("cpu", "cuda", "mps")
    available() -> bool           its library is installed
    preferred(device) -> bool     `--backend auto` picks it on this device (first in AUTO_ORDER wins)
    precision(device, requested)  --precision as it will really run there (UsageError when it cannot)
    check(plan)                   this machine can run the Plan (a Ray worker's question)
    engine(ref, plan, decode, run, note) -> Engine   load the model (and convert it, once)

Adding a backend is one new module plus one REGISTRY line (and its name in options.BACKENDS).
Backend modules are imported when asked for: `tk --help` imports none of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UsageError

REGISTRY = {"torch": "translate_kit.runtime.torch", "ct2": "translate_kit.runtime.ct2"}
# `--backend auto`: the first available backend that prefers the device; torch runs everywhere.
AUTO_ORDER = ("ct2", "torch")
CHOICES = ("auto", *REGISTRY)


def get(name: str) -> ModuleType:
    """The backend module for a REGISTRY name; UsageError listing the choices otherwise."""
    if name not in REGISTRY:
        raise UsageError(f"unknown backend '{name}'; known: {', '.join(CHOICES)}")
    return importlib.import_module(REGISTRY[name])


def choose_backend(requested: str, device: str) -> str:
    """auto -> the first backend of AUTO_ORDER that is available and prefers the device.

    On a CPU that is CTranslate2 int8 (about 20x the usual transformers loop there,
    docs/benchmarks.md#translation-speed-on-a-cpu); on CUDA torch fp16 stays the default until a GPU benchmark shows otherwise; MPS is
    torch only. A named backend must run on the device.
    """
    if requested != "auto":
        backend = get(requested)
        if device.split(":")[0] not in backend.DEVICES:
            raise UsageError(f"backend {requested} runs on {' or '.join(backend.DEVICES)}, not on '{device}'; "
                             f"use --backend torch")
        return requested
    for name in AUTO_ORDER:
        backend = get(name)
        if backend.available() and backend.preferred(device):
            return name
    return "torch"
