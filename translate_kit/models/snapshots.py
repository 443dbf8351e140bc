"""Where a model's files are on this machine: the local Hugging Face cache, read without the network.

A name is looked up in the local cache first (no network at all when its files are there);
fetching what is missing lives in hub.py, the one module that opens a connection.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .files import check_files, folder_size, weights_file
from .lock import load_lock, pair_ref
from .ref import LockEntry, ModelRef, entry_ref

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
    """The model's folder in the local cache (config and weights there), or None. Never touches the network.

    The cache's own layout (models--ORG--NAME/refs/REVISION -> snapshots/COMMIT/) is read here, as
    huggingface_hub's try_to_load_from_cache reads it, rather than through it: importing
    huggingface_hub costs a fully cached run about 0.3 s, and snapshot_download(local_files_only)
    would call a pull of only the needed files incomplete (the repo also holds TF/Flax/Rust weights).
    """
    if ref.local:
        return Path(ref.repo)
    config = cached_file(ref.repo, "config.json", ref.revision)
    if config is None:
        return None
    folder = config.parent
    return folder if weights_file(folder) else None


REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(?:/[\w.-]{1,96})?")
COMMIT = re.compile(r"[0-9a-f]{40}")


def cached_file(repo: str, filename: str, revision: str = "main") -> Path | None:
    """`filename` of `repo` at `revision` in the local hub cache, or None (never the network)."""
    if not REPO_ID.fullmatch(repo) or ".." in repo or "/" in revision or ".." in revision:
        return None  # no such repo id or revision (and never a path out of the cache)
    folder = hub_cache_dir() / f"models--{repo.replace('/', '--')}"
    commit = revision
    if not COMMIT.fullmatch(revision):
        try:
            commit = (folder / "refs" / revision).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
    file = folder / "snapshots" / commit / filename
    return file if file.is_file() else None



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



def direct_available(src: str, tgt: str, lock: dict | None = None) -> bool:
    """Is there a direct model for the pair that this run can use without guessing?

    Yes when the lock names the pair, in any tier (unless we are offline and none is downloaded),
    or when the conventional repo is already in the local cache. Never asks the network: routing a
    document must not depend on a hub round-trip.
    """
    lock = load_lock() if lock is None else lock
    pair = f"{src}-{tgt}"
    tiers = {entry.tier for entry in lock.values() if entry.pair == pair and entry.tier} | {"base"}
    if any(local_snapshot(pair_ref(src, tgt, lock, tier)) is not None for tier in tiers):
        return True  # any tier of the pair (models.pick_model uses one that is here)
    return any(entry.pair == pair for entry in lock.values()) and not offline()



@dataclass
class ModelStatus:
    """One lock entry as found on this machine (for `tk models list|verify` and `tk doctor`)."""

    name: str
    repo: str
    revision: str
    task: str
    commit: str | None
    local: bool  # a folder given by the user, not a hub repo
    path: str | None = None  # where the files are, when present
    present: bool = False
    size: int = 0  # bytes on disk, symlinks followed
    locked: bool = False  # the lock records its commit and file hashes (LockEntry.locked)
    lock: str = "unlocked"  # the files against the lock: ok | mismatch | unlocked | absent | unchecked
    problems: list[str] = field(default_factory=list)


def model_status(entry: LockEntry, check: bool = True) -> ModelStatus:
    """Where an entry's files are, how big, and (check=True: sha256 of every file) whether they match the lock."""
    ref = entry_ref(entry)
    folder = local_snapshot(ref)
    status = ModelStatus(entry.name, entry.repo, entry.revision, entry.task, entry.commit, ref.local, locked=entry.locked)
    if folder is None or not folder.is_dir() or not weights_file(folder):
        status.lock = "absent"
        return status
    status.path, status.present, status.size = str(folder), True, folder_size(folder)
    if not entry.locked:
        status.lock = "unlocked"
    elif not check:
        status.lock = "unchecked"
    else:
        status.problems = check_files(folder, entry.files)
        status.lock = "mismatch" if status.problems else "ok"
    return status


