"""Backends: where a model's generate() runs (torch, CTranslate2), and the one place that decides.

One module per backend, listed in REGISTRY, each with the same five names:

    NAME                          "torch", "ct2"
    DEVICES                       device kinds it runs on ("cpu", "cuda", "mps")
    available() -> bool           its library is installed
    preferred(device) -> bool     `--backend auto` picks it on this device (first in AUTO_ORDER wins)
    precision(device, requested)  --precision as it will really run there (UsageError when it cannot)
    engine(ref, resolved, decode, run, note) -> Engine   load the model (and convert it, once)

`resolve()` settles backend, device and precision ONCE into a frozen `Resolved`; the cache
signature, the engine and the reports (`tk doctor`, --json, output headers) all read that object,
so they cannot disagree. Adding a backend is one new module plus one REGISTRY line.

Backend modules are imported when asked for: `tk --help` imports none of them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from ..errors import UsageError

REGISTRY = {"torch": "translate_kit.backends.torch", "ct2": "translate_kit.backends.ct2"}
# `--backend auto`: the first available backend that prefers the device; torch runs everywhere.
AUTO_ORDER = ("ct2", "torch")
CHOICES = ("auto", *REGISTRY)


@dataclass(frozen=True)
class Resolved:
    """Backend, device and precision as they will run; never "auto"."""

    backend: str  # a REGISTRY name
    device: str  # cpu, cuda, cuda:N, mps
    precision: str  # as the backend names it: torch fp32/fp16/bf16/int8; ct2 int8/float32/float16/...

    def describe(self) -> dict:
        return {"backend": self.backend, "device": self.device, "precision": self.precision}


def get(name: str) -> ModuleType:
    """The backend module for a REGISTRY name; UsageError listing the choices otherwise."""
    if name not in REGISTRY:
        raise UsageError(f"unknown backend '{name}'; known: {', '.join(CHOICES)}")
    return importlib.import_module(REGISTRY[name])


def choose_backend(requested: str, device: str) -> str:
    """auto -> the first backend of AUTO_ORDER that is available and prefers the device.

    On a CPU that is CTranslate2 int8 (about 20x the usual transformers loop there, README
    "Speed"); on CUDA torch fp16 stays the default until a GPU benchmark shows otherwise; MPS is
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


def choose_device(requested: str, backend: str) -> str:
    """The device `requested` (auto included) stands for, importing torch only when it must."""
    from .. import ct2

    return ct2.choose_device(requested, backend)


def resolve(backend: str = "auto", device: str = "auto", precision: str = "auto") -> Resolved:
    """Decide once: the device, then the backend for it, then the precision that backend runs."""
    if backend != "auto":
        get(backend)  # an unknown name fails before any device probing
    device = choose_device(device, backend)
    name = choose_backend(backend, device)
    return Resolved(name, device, get(name).precision(device, precision))


def engine(ref, resolved: Resolved, decode, run, note=None):
    """The Engine for a model as `resolved` says (decode options already resolved)."""
    return get(resolved.backend).engine(ref, resolved, decode, run, note or (lambda message: None))
