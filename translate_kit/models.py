"""Which model, where it lives, and loading it.

models.lock (TOML) names every model by pair ("fr-en") or role ("summarizer"). A name resolves
to a Hugging Face repo id and revision; the files are looked up in the local Hugging Face cache
first (no network at all when they are there), and fetched only when missing and allowed.
`--model` takes a repo id or a local directory for one run.

torch and transformers are imported inside functions: `tk --help` and `tk ls` must stay fast.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelUnavailable, UnknownModel
from .options import env

LOCK_NAME = "models.lock"
# Files a model needs: configs, tokenizer files, one weight format (safetensors preferred).
NEEDED_FILES = ["*.json", "*.spm", "*.txt", "*.model", "*.safetensors"]


@dataclass(frozen=True)
class LockEntry:
    name: str
    repo: str
    revision: str = "main"
    task: str = "translation"
    commit: str | None = None
    files: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ModelRef:
    """A model chosen for a run: where it comes from and which exact version it is."""

    repo: str  # repo id, or a local directory
    revision: str = "main"
    name: str | None = None  # lock entry name, when it came from the lock
    pinned: bool = True  # False: not in models.lock, the conventional repo id was guessed
    local: bool = False  # True: `repo` is a directory given by the user

    @property
    def label(self) -> str:
        return self.repo if self.local else f"{self.repo}@{self.revision}"


# --- the lock file -----------------------------------------------------------------------


def lock_path() -> Path | None:
    """TK_MODELS_LOCK, else ./models.lock, else the one beside the package (source checkout)."""
    for candidate in (env("MODELS_LOCK"), LOCK_NAME, Path(__file__).resolve().parent.parent / LOCK_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def load_lock(path: Path | None = None) -> dict[str, LockEntry]:
    path = path or lock_path()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UnknownModel(f"{path}: not valid TOML ({err})") from None
    entries = {}
    for name, item in data.get("models", {}).items():
        entries[name] = LockEntry(
            name=name,
            repo=item["repo"],
            revision=item.get("revision", "main"),
            task=item.get("task", "translation"),
            commit=item.get("commit"),
            files=item.get("files", {}),
        )
    return entries


def pick_model(src: str, tgt: str, override: str | None = None, lock: dict | None = None) -> ModelRef:
    """The model for a language pair: --model, else the lock's entry, else the conventional repo id."""
    if override:
        return model_from_name(override, lock)
    lock = load_lock() if lock is None else lock
    entry = lock.get(f"{src}-{tgt}")
    if entry:
        return ModelRef(entry.repo, entry.commit or entry.revision, name=entry.name)
    return ModelRef(f"Helsinki-NLP/opus-mt-{src}-{tgt}", "main", pinned=False)


def model_from_name(name: str, lock: dict | None = None) -> ModelRef:
    """A lock entry name, a local directory, or a repo id ('org/name')."""
    lock = load_lock() if lock is None else lock
    if name in lock:
        entry = lock[name]
        return ModelRef(entry.repo, entry.commit or entry.revision, name=name)
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelRef(str(path.resolve()), "local", local=True)
    if name.count("/") == 1 and not name.startswith((".", "/")):
        repo, _, revision = name.partition("@")
        return ModelRef(repo, revision or "main", pinned=False)
    known = ", ".join(sorted(lock)) or "none"
    raise UnknownModel(f"unknown model '{name}'; known: {known} (or give a repo id 'org/name' or a local directory)")


# --- finding files -----------------------------------------------------------------------


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (huggingface_hub reads it at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    return Path(home) / "hub"


def offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def local_snapshot(ref: ModelRef) -> Path | None:
    """The model's folder in the local cache, or None. Never touches the network."""
    if ref.local:
        return Path(ref.repo)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(ref.repo, revision=ref.revision, cache_dir=hub_cache_dir(), local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        return None


def fetch(ref: ModelRef) -> Path:
    """Download the needed files of a model into the Hugging Face cache."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(ref.repo, revision=ref.revision, cache_dir=hub_cache_dir(),
                                      allow_patterns=NEEDED_FILES, etag_timeout=10))
        if not any(path.glob("*.safetensors")):  # older repos ship only pytorch_model.bin
            path = Path(snapshot_download(ref.repo, revision=ref.revision, cache_dir=hub_cache_dir(),
                                          allow_patterns=NEEDED_FILES + ["pytorch_model.bin"], etag_timeout=10))
        return path
    except Exception as err:  # network, auth, missing repo: all mean "not available"
        raise ModelUnavailable(f"{ref.repo}: cannot download ({type(err).__name__}: {_first_line(err)}); "
                               f"pass --model DIR for a local copy") from err


def ensure_local(ref: ModelRef) -> Path:
    """The model's local folder, downloading it when allowed. Raises ModelUnavailable."""
    path = local_snapshot(ref)
    if path is not None:
        if not path.is_dir():
            raise ModelUnavailable(f"{ref.repo}: not a directory")
        return path
    if offline():
        raise ModelUnavailable(
            f"{ref.repo} (revision {ref.revision}) is not in the local Hugging Face cache ({hub_cache_dir()}) "
            f"and HF_HUB_OFFLINE is set; run `tk models pull {ref.name or ref.repo}` on a connected machine, "
            f"or pass --model DIR")
    return fetch(ref)


def resolved_revision(ref: ModelRef, path: Path) -> str:
    """The exact version loaded: the snapshot's commit hash, or a hash of a local folder's files."""
    if not ref.local and len(path.name) == 40:
        return path.name
    digest = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.is_file() and (file.suffix in (".json", ".spm", ".txt", ".model", ".safetensors", ".bin")):
            stat = file.stat()
            digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return "local-" + digest.hexdigest()[:16]


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else ""


# --- devices and loading -------------------------------------------------------------------


def choose_device(requested: str = "auto") -> str:
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(f"device '{requested}' asked for, but torch sees no CUDA device")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelUnavailable("device 'mps' asked for, but torch sees no MPS device")
    return requested


def default_precision(device: str) -> str:
    """Half precision on CUDA (about 2x faster, same quality for MT), fp32 elsewhere."""
    return "fp16" if device.startswith("cuda") else "fp32"


def set_threads(threads: int | None) -> None:
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads or cores)


@dataclass
class LoadedModel:
    ref: ModelRef
    path: Path
    revision: str  # resolved: commit hash or local hash
    tokenizer: object
    model: object
    device: str


def load(ref: ModelRef, device: str, precision: str) -> LoadedModel:
    """repo id -> local cache -> tokenizer and model on the device, in eval mode."""
    path = ensure_local(ref)
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    quiet_transformers()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype)
    except Exception as err:  # truncated weights, missing tokenizer files, bad config
        raise ModelUnavailable(f"{ref.repo}: model files in {path} are missing or damaged "
                               f"({type(err).__name__}: {_first_line(err)}); run `tk models pull "
                               f"{ref.name or ref.repo}` again, or pass --model DIR") from err
    model.to(device).eval()
    if precision == "int8" and device == "cpu":
        model = _quantize_int8(model)
    return LoadedModel(ref, path, resolved_revision(ref, path), tokenizer, model, device)


def quiet_transformers() -> None:
    """The library never prints: no weight-loading bars, no advice to install sacremoses."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")


def _quantize_int8(model):
    """Dynamic int8 quantization of the Linear layers (CPU only), in place so memory does not double."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
