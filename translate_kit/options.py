"""Every knob in one place.

`DecodeOptions` holds what can change a translation; its `signature()` is part of the cache key.
`RunOptions` holds what must not change results (device, batch size, threads), so it never
reaches the cache key. Settings are resolved at call time: defaults < TK_* environment < flags.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: bumped whenever cached results would be produced differently for the same options
SCHEMA_VERSION = 1
#: --backend choices: auto picks per device (ct2.choose_backend)
BACKENDS = ("auto", "torch", "ct2")


def env(name: str, default: str | None = None) -> str | None:
    """Read a TK_* setting when it is used (never at import time)."""
    value = os.environ.get(f"TK_{name}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings that change what the model writes."""

    beams: int | None = None  # None: the model's own generation config (4 for OPUS-MT)
    # Output length bound, relative to the source: max_new_tokens = ratio * source tokens + extra.
    # OPUS-MT fr->en outputs are ~0.9-1.3x the source in tokens; 2x + 16 leaves room for
    # short, expanding inputs while stopping a looping model long before the 512-token cap.
    max_length_ratio: float = 2.0
    max_length_extra: int = 16
    # auto | fp32 | fp16 | bf16 | int8 - the numbers differ, so it is part of the key. auto and the
    # backend are resolved when the model loads (translate.Translators), and the cache key gets
    # what really ran: e.g. backend "ct2" with precision "int8" on a CPU, "torch" + "fp16" on CUDA.
    precision: str = "auto"
    # auto | torch | ct2 [env TK_BACKEND, read when the options are made]; see ct2.choose_backend.
    backend: str = field(default_factory=lambda: env("BACKEND", "auto"))
    repetition_retry: bool = True

    def __post_init__(self):
        if self.backend not in BACKENDS:
            from .errors import UsageError

            raise UsageError(f"unknown backend '{self.backend}'; known: {', '.join(BACKENDS)}")

    def signature(self, task: str, model_id: str, revision: str) -> str:
        """A stable hash of everything that can change a result for this task and model."""
        payload = {"schema": SCHEMA_VERSION, "task": task, "model": model_id, "revision": revision}
        payload.update(asdict(self))
        blob = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RunOptions:
    """Settings that must not change results: where and how fast the work runs."""

    device: str = "auto"
    batch_tokens: int | None = None  # None: a per-device default (engine.py)
    threads: int | None = None
    use_cache: bool = True
    cache_dir: Path = field(default_factory=lambda: Path(env("CACHE_DIR", "cache")))
    # Where model work runs (engines/): "local" (this process) or "ray" (a Ray cluster, the [ray] extra).
    engine: str = "local"
    workers: int | None = None  # ray: model replicas (None: one per GPU, else per CPU the cluster has)
    ray_address: str | None = None  # ray: an existing cluster ("auto", "ray://host:10001"); None: a local Ray

    @classmethod
    def from_env(cls, **overrides) -> "RunOptions":
        values = {
            "device": env("DEVICE", "auto"),
            "batch_tokens": _int(env("BATCH_TOKENS")),
            "threads": _int(env("THREADS")),
            "cache_dir": Path(env("CACHE_DIR", "cache")),
            "engine": env("ENGINE", "local"),
            "workers": _int(env("WORKERS")),
            "ray_address": env("RAY_ADDRESS"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _int(value: str | None) -> int | None:
    return int(value) if value else None
