"""Every knob in one place: the ground floor, importing nothing of the package but errors.py.

`DecodeOptions` holds what can change a translation; its `signature()` is part of the cache key.
`RunOptions` holds what must not change results (device, batch size, threads), so it never
reaches the cache key. Settings are resolved at call time: defaults < TK_* environment < flags.
Every TK_* setting is read here, by one typed accessor each, and a bad value is a UsageError
(exit 2) naming the variable, never a traceback where it is used.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

#: --backend choices: auto, then runtime.REGISTRY's names (a test keeps the two equal). Named here
#: rather than imported, so that the ground floor never imports the runtime above it.
BACKENDS = ("auto", "torch", "ct2")

#: --quality choices (TK_QUALITY): which tier of a pair's models runs (models/tiers.py). fast: the
#: base tier; best: the big tier where models.lock has one; auto: big on CUDA, base on a CPU.
QUALITIES = ("auto", "fast", "best")

#: bumped whenever cached results would be produced differently for the same options
#: (2: the readable signature, with backend, precision and beams as they really run)
SCHEMA_VERSION = 2


def env(name: str, default: str | None = None) -> str | None:
    """Read a TK_* setting when it is used (never at import time)."""
    value = os.environ.get(f"TK_{name}")
    return value if value not in (None, "") else default


def debug_enabled() -> bool:
    """TK_DEBUG: tracebacks of internal errors on the terminal too (as --debug)."""
    return (env("DEBUG") or "").strip().lower() in ("1", "true", "yes", "on")  # read before options are checked


def log_dir() -> Path:
    """Where tracebacks of internal errors go (incidents.py): TK_LOG_DIR, else the XDG state folder."""
    given = env("LOG_DIR")
    if given:
        return Path(given).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "translate_kit"


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
    # backend are resolved once into the run's Plan (runtime.resolve), and the cache key gets what
    # really runs: e.g. backend "ct2" with precision "int8" on a CPU, "torch" + "fp16" on CUDA.
    precision: str = "auto"
    # auto | torch | ct2 [env TK_BACKEND, read when the options are made]; see runtime/registry.py choose_backend.
    backend: str = field(default_factory=lambda: env("BACKEND", "auto"))
    repetition_retry: bool = True
    # auto | fast | best [env TK_QUALITY]: which tier of a pair's models runs (models.pick_model). Not in
    # the signature: the model and revision it picks are, so tiers are cached apart anyway.
    quality: str = field(default_factory=lambda: quality_setting())

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend '{self.backend}'; known: {', '.join(BACKENDS)}")
        object.__setattr__(self, "quality", check_quality(self.quality))

    def signature(self, task: str, model_id: str, revision: str, plan, **more) -> Signature:
        """Everything that can change a result for this task and model, readable and hashed.

        `plan` is the runtime.Plan the engine runs with (backend, precision and beams as they
        really run, never "auto"; the model's own beams when --beams is not given); `more` are a
        task's own fields, e.g. a summary's length bounds (min, max)."""
        fields = [("task", task), ("backend", plan.backend), ("precision", plan.precision), ("beams", plan.beams)]
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


def check_quality(value: str, name: str = "--quality") -> str:
    """A --quality value in canonical (lower-case) form; UsageError naming the flag or variable."""
    quality = str(value).strip().lower()
    if quality not in QUALITIES:
        raise _usage(f"{name} {value!r} is not a quality; known: {', '.join(QUALITIES)}" if name.startswith("-")
                     else f"{name}={value!r} is not a quality; known: {', '.join(QUALITIES)}")
    return quality


def quality_setting() -> str:
    """TK_QUALITY: the --quality of runs that do not pass the flag (default auto)."""
    return check_quality(env("QUALITY", "auto"), "TK_QUALITY")


#: --device forms (TK_DEVICE too), checked before anything loads
DEVICE_FORMS = "auto, cpu, cuda, cuda:N (N = 0, 1, ...), mps"
_DEVICE = re.compile(r"auto|cpu|cuda(?::\d{1,3})?|mps")


def check_device(value: str, name: str = "--device") -> str:
    """A device string in its canonical (lower-case) form; UsageError listing the accepted forms."""
    device = value.strip().lower()
    if not _DEVICE.fullmatch(device):
        raise _usage(f"{name} {value!r} is not a device; accepted: {DEVICE_FORMS}")
    return device


def _whole(value: str | int | None, name: str) -> int | None:
    """A whole number of 1 or more (TK_BATCH_TOKENS, TK_THREADS and their flags)."""
    if value is None:
        return None
    try:
        number = int(str(value).strip(), 10)
    except ValueError:
        number = 0
    if number < 1:
        raise _usage(f"{name}={value!r} is not a whole number of 1 or more" if name.startswith("TK_")
                     else f"{name} {value!r} is not a whole number of 1 or more")
    return number


def _yes_no(value: str | None, name: str) -> bool:
    """TK_SHARD and the like: 1/true/yes/on or 0/false/no/off (unset: no)."""
    if value is None:
        return False
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise _usage(f"{name}={value!r} is neither yes nor no (1/true/yes/on, 0/false/no/off)")


def _usage(message: str):
    return UsageError(message)


def _seconds(value: str | None, name: str, default: float, positive: bool = False) -> float:
    """TK_CACHE_TIMEOUT, TK_FETCH_TIMEOUT and the like: a number of seconds (0 or more; above 0
    when `positive`); UsageError naming the variable otherwise (NaN included)."""
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (number > 0 if positive else number >= 0):
        raise _usage(f"{name}={value!r} is not a number of seconds ({'above 0' if positive else '0 or more'})")
    return number


# --- TK_* settings read outside the options objects, one typed accessor each -------------------

DEFAULT_CACHE_TIMEOUT = 60.0  # seconds to wait for another tk's write lock
FETCH_TIMEOUT_S = 20.0
FETCH_MAX_BYTES = 50_000_000


def cache_timeout() -> float:
    """TK_CACHE_TIMEOUT: seconds to wait for another tk's lock on the cache (default 60)."""
    return _seconds(env("CACHE_TIMEOUT"), "TK_CACHE_TIMEOUT", DEFAULT_CACHE_TIMEOUT)


def fetch_timeout() -> float:
    """TK_FETCH_TIMEOUT: seconds a URL's fetch may wait on the network (default 20)."""
    return _seconds(env("FETCH_TIMEOUT"), "TK_FETCH_TIMEOUT", FETCH_TIMEOUT_S, positive=True)


def fetch_max_bytes() -> int:
    """TK_FETCH_MAX_MB: the largest body a fetch reads, in MB (default 50)."""
    value = env("FETCH_MAX_MB")
    if value is None:
        return FETCH_MAX_BYTES
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise _usage(f"TK_FETCH_MAX_MB={value!r} is not a size in MB (above 0)")
    return int(megabytes * 1e6)


def models_lock() -> Path | None:
    """TK_MODELS_LOCK: a models.lock to use instead of ./models.lock."""
    value = env("MODELS_LOCK")
    return Path(value).expanduser() if value else None


def corpus_folder() -> Path:
    """TK_CORPUS: the folder where document ids ("003") resolve (default seeds/)."""
    return Path(env("CORPUS", "seeds"))


def node_cache_dir() -> Path | None:
    """TK_NODE_CACHE_DIR: on a Ray node, the cache folder a sharded run's worker uses there."""
    value = env("NODE_CACHE_DIR")
    return Path(value) if value else None


#: --glossary-mode choices (glossary/enforce.py's mechanisms, named here on the ground floor as BACKENDS
#: is), and the default: substitution, with n hypotheses asked only when the translation still lacks
#: a term (docs/glossaries.md says why)
GLOSSARY_MODES = ("substitute", "nbest", "both", "placeholder", "verify")
DEFAULT_GLOSSARY_MODE = "both"
DEFAULT_GLOSSARY_HYPOTHESES = 8


@dataclass(frozen=True)
class GlossaryOptions:
    """The glossary files of a run and how their terms are enforced (--glossary, --glossary-mode;
    TK_GLOSSARY, paths separated by os.pathsep, and TK_GLOSSARY_MODE). Only the form is checked
    here (a mode, files that exist); what the files say is read by glossary/ before any model loads."""

    paths: tuple[Path, ...] = ()
    mode: str = DEFAULT_GLOSSARY_MODE
    hypotheses: int = DEFAULT_GLOSSARY_HYPOTHESES
    source: str = "--glossary"  # where the paths came from, for messages

    def __post_init__(self):
        if self.mode not in GLOSSARY_MODES:
            raise _usage(f"unknown glossary mode '{self.mode}'; known: {', '.join(GLOSSARY_MODES)}")
        object.__setattr__(self, "hypotheses", _whole(self.hypotheses, "--glossary-hypotheses"))
        for path in self.paths:
            if not path.is_file():
                raise _usage(f"{self.source} {path}: {'not a file' if path.exists() else 'no such file'}")

    @classmethod
    def from_env(cls, paths: list[Path] | None = None, mode: str | None = None,
                 hypotheses: int | None = None) -> "GlossaryOptions":
        """defaults < TK_GLOSSARY / TK_GLOSSARY_MODE < flags (--glossary given replaces TK_GLOSSARY)."""
        source = "--glossary"
        if not paths:
            listed = env("GLOSSARY")
            paths = [Path(p).expanduser() for p in (listed or "").split(os.pathsep) if p.strip()]
            source = "TK_GLOSSARY"
        if mode is None:
            mode = env("GLOSSARY_MODE", DEFAULT_GLOSSARY_MODE).strip().lower()
            if mode not in GLOSSARY_MODES:
                raise _usage(f"TK_GLOSSARY_MODE={mode!r} is not a glossary mode; known: {', '.join(GLOSSARY_MODES)}")
        return cls(tuple(Path(p) for p in paths), mode.strip().lower(), hypotheses or DEFAULT_GLOSSARY_HYPOTHESES, source)


@dataclass(frozen=True)
class RunOptions:
    """Settings that must not change results: where and how fast the work runs.

    Every value is checked when the options are made (flags and TK_* alike), so a bad one is a
    usage error (exit 2) before any model loads, never a traceback halfway through a run."""

    device: str = "auto"
    batch_tokens: int | None = None  # None: a per-device default (runtime/plan.py)
    threads: int | None = None
    use_cache: bool = True
    cache_dir: Path = field(default_factory=lambda: Path(env("CACHE_DIR", "cache")))
    cache_timeout: float | None = None  # seconds to wait for another tk's lock (None: TK_CACHE_TIMEOUT or 60)
    # Where model work runs (runtime/): "local" (this process) or "ray" (a Ray cluster, the [ray] extra).
    engine: str = "local"
    workers: int | None = None  # ray: model replicas (None: one per GPU, else per CPU the cluster has)
    ray_address: str | None = None  # ray: an existing cluster ("auto", "ray://host:10001"); None: a local Ray
    shard: bool = False  # ray: documents sharded over the workers, each with its own cache (sharded.py)

    def __post_init__(self):
        object.__setattr__(self, "device", check_device(self.device))
        object.__setattr__(self, "batch_tokens", _whole(self.batch_tokens, "--batch-tokens"))
        object.__setattr__(self, "threads", _whole(self.threads, "--threads"))
        object.__setattr__(self, "workers", _whole(self.workers, "--workers"))
        object.__setattr__(self, "engine", str(self.engine).strip().lower())
        if self.shard and self.engine != "ray":
            raise _usage(f"--shard needs --engine ray (it shards the documents over Ray workers); the engine is {self.engine}")

    @classmethod
    def from_env(cls, **overrides) -> "RunOptions":
        """defaults < TK_* environment < flags; an environment value a flag overrides is not read."""
        given = {k: v for k, v in overrides.items() if v is not None}
        readers = {
            "device": lambda: check_device(env("DEVICE", "auto"), "TK_DEVICE"),
            "batch_tokens": lambda: _whole(env("BATCH_TOKENS"), "TK_BATCH_TOKENS"),
            "threads": lambda: _whole(env("THREADS"), "TK_THREADS"),
            "cache_dir": lambda: Path(env("CACHE_DIR", "cache")),
            "cache_timeout": cache_timeout,
            "engine": lambda: env("ENGINE", "local"),
            "workers": lambda: _whole(env("WORKERS"), "TK_WORKERS"),
            "ray_address": lambda: env("RAY_ADDRESS"),
            "shard": lambda: _yes_no(env("SHARD"), "TK_SHARD"),
        }
        values = {key: read() for key, read in readers.items() if key not in given}
        fetch_timeout(), fetch_max_bytes()  # read where a URL is fetched; checked now, so a bad one is exit 2
        if "shard" not in given and str(given.get("engine", values.get("engine"))).strip().lower() != "ray":
            values["shard"] = False  # TK_SHARD says how ray runs go; a local run is not one (the flag is stricter)
        return cls(**values, **given)
