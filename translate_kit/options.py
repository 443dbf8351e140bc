"""Every knob in one place.

`DecodeOptions` holds what can change a translation; its `signature()` is part of the cache key.
`RunOptions` holds what must not change results (device, batch size, threads), so it never
reaches the cache key. Settings are resolved at call time: defaults < TK_* environment < flags.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .backends import CHOICES as BACKENDS  # noqa: F401  --backend choices: auto, then the registry's

#: bumped whenever cached results would be produced differently for the same options
#: (2: the readable signature, with backend, precision and beams as they really run)
SCHEMA_VERSION = 2


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

    def signature(self, task: str, model_id: str, revision: str, resolved, beams: int, **more) -> Signature:
        """Everything that can change a result for this task and model, readable and hashed.

        `resolved` is the backends.Resolved the engine runs with (never "auto"), `beams` the beam
        size that really runs (the model's own when --beams is not given); `more` are a task's
        own fields, e.g. a summary's length bounds (min, max)."""
        fields = [("task", task), ("backend", resolved.backend), ("precision", resolved.precision), ("beams", beams)]
        if task == "translate":
            fields += [("length", f"{self.max_length_ratio:g}x+{self.max_length_extra}"),
                       ("retry", "yes" if self.repetition_retry else "no")]
        fields += list(more.items())
        return Signature(model_id, revision, tuple((k, str(v)) for k, v in fields) + (("version", str(SCHEMA_VERSION)),))


@dataclass(frozen=True)
class Signature:
    """A cache signature as sacrebleu prints its own: `task:translate|backend:ct2|precision:int8|beams:4|...`.

    `text` is what output headers and --json show, beside the model and its revision; `key`
    hashes all of it (model and revision included) for the cache. Two runs that did not share
    cached work differ somewhere in `text` or in the model and revision."""

    model: str
    revision: str
    fields: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return "|".join(f"{k}:{v}" for k, v in self.fields)

    @property
    def key(self) -> str:
        blob = f"model:{self.model}|revision:{self.revision}|{self.text}"
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def extend(self, **more) -> Signature:
        """The same signature with fields added (before the version) or replaced."""
        fields = dict(self.fields)
        version = fields.pop("version")
        fields.update({k: str(v) for k, v in more.items()})
        return Signature(self.model, self.revision, tuple(fields.items()) + (("version", version),))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RunOptions:
    """Settings that must not change results: where and how fast the work runs."""

    device: str = "auto"
    batch_tokens: int | None = None  # None: a per-device default (engine.py)
    threads: int | None = None
    use_cache: bool = True
    cache_dir: Path = field(default_factory=lambda: Path(env("CACHE_DIR", "cache")))

    @classmethod
    def from_env(cls, **overrides) -> "RunOptions":
        values = {
            "device": env("DEVICE", "auto"),
            "batch_tokens": _int(env("BATCH_TOKENS")),
            "threads": _int(env("THREADS")),
            "cache_dir": Path(env("CACHE_DIR", "cache")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _int(value: str | None) -> int | None:
    return int(value) if value else None
