"""Everything that talks to the Hugging Face Hub: `tk models lock` and `tk models pull`.

Nothing else in translate_kit opens a connection; `ensure_local` is the one door from a run to a
download. huggingface_hub does the HTTP, the cache layout and the progress bars; this module picks
the files a run needs (needed_files), records their hashes and checks downloads against them.
Never hanging (offline switches first, HUB_TIMEOUT), resuming, HF_ENDPOINT read at call time:
docs/design.md#other-choices
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import ModelUnavailable, TkError, UnknownModel, first_line
from . import snapshots
from .files import WEIGHT_FILES, describe_files, file_problems, file_sha256, needed_files
from . import lock as lockfile
from .ref import LockEntry, ModelRef, entry_ref

log = logging.getLogger("translate_kit")

DEFAULT_ENDPOINT = "https://huggingface.co"
HUB_TIMEOUT = 10.0  # seconds for a metadata request; downloads use huggingface_hub's read timeout


class HubUnreachable(ModelUnavailable):
    """The hub cannot be reached: an offline switch is set, there is no network, or it timed out."""


@dataclass
class Outcome:
    """What happened to one lock entry in a pull or a lock run."""

    entry: LockEntry
    path: Path | None = None  # pull: where the files are
    values: dict | None = None  # lock: what was written for the entry
    note: str | None = None
    error: str | None = None


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def require_online(action: str) -> None:
    """Fail at once, before any request, when an offline switch is set."""
    if snapshots.offline():
        raise HubUnreachable(f"{action} needs the network, and HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set; "
                             f"run it on a connected machine with the switch unset")


# --- lock -----------------------------------------------------------------------------------


def lock(names: list[str] | None = None, lock_file: Path | None = None) -> list[Outcome]:
    """Resolve each entry's revision to a commit and record its needed files' sha256 and size.

    Entries that succeed are written to the lock (header comment kept); one that fails is
    reported in its Outcome and left as it was. HubUnreachable stops the whole run.
    """
    path = Path(lock_file) if lock_file else (lockfile.lock_path() or Path(lockfile.LOCK_NAME))
    current = lockfile.load_lock(path) if path.is_file() else {}
    entries = lockfile.select_entries(names, current)
    if any(e.path is None for e in entries):
        require_online("`tk models lock`")
    outcomes = [_lock_one(e, e.name in current) for e in entries]
    updates = {o.entry.name: o.values for o in outcomes if o.values is not None}
    if updates:
        lockfile.update_lock(path, updates)
    return outcomes


def _lock_one(entry: LockEntry, known: bool) -> Outcome:
    try:
        values = lock_values(entry)
    except HubUnreachable:
        raise
    except TkError as err:
        return Outcome(entry, error=str(err))
    if not known:  # a new entry: say what it is
        where = {"path": entry.path} if entry.path else {"repo": entry.repo, "revision": entry.revision}
        values = {**where, "task": entry.task, **values}
    return Outcome(entry, values=values)


def lock_values(entry: LockEntry) -> dict:
    """{commit, files} for a hub entry; {files} for a local folder (hashed here, no network)."""
    if entry.path is not None:
        folder = Path(entry.path)
        if not folder.is_dir():
            raise ModelUnavailable(f"{entry.name}: {folder} is not a directory")
        return {"files": describe_files(folder, needed_files(sorted(os.listdir(folder))))}
    commit, listing = remote_listing(entry.repo, entry.revision)
    files = {}
    for name, sibling in listing.items():
        if sibling.lfs is not None:  # the hub knows the sha256 of LFS files
            files[name] = {"sha256": sibling.lfs.sha256, "size": sibling.lfs.size}
        else:  # small git files (configs, vocabularies): only their git sha1 is listed, so fetch and hash
            local = _download(entry.repo, name, commit, _silent_tqdm())
            files[name] = {"sha256": file_sha256(local), "size": local.stat().st_size}
    return {"commit": commit, "files": files}


def remote_listing(repo: str, revision: str) -> tuple[str, dict]:
    """(commit, {needed file: sibling with size and LFS info}) of a repo at a revision: one request."""
    from huggingface_hub import HfApi  # 0.3 s: only when the hub is asked

    with hub_errors(repo, revision):
        info = HfApi(endpoint=endpoint()).model_info(repo, revision=revision, files_metadata=True, timeout=HUB_TIMEOUT)
    siblings = {s.rfilename: s for s in info.siblings or []}
    needed = needed_files(list(siblings))
    if not any(name in WEIGHT_FILES for name in needed):
        raise ModelUnavailable(f"{repo}@{revision}: no model.safetensors or pytorch_model.bin weights in the repo")
    return info.sha, {name: siblings[name] for name in needed}


# --- pull -----------------------------------------------------------------------------------


def pull(names: list[str] | None = None, progress: bool = False) -> list[Outcome]:
    """Download the needed files of each entry at its locked revision (or its branch) into the Hugging Face cache,
    and check them against the lock's hashes. `progress`: huggingface_hub's bars on stderr."""
    entries = lockfile.select_entries(names)
    if any(e.path is None for e in entries):
        require_online("`tk models pull`")
    tqdm_class = None if progress else _silent_tqdm()
    return [_pull_one(e, tqdm_class) for e in entries]


def _pull_one(entry: LockEntry, tqdm_class) -> Outcome:
    if entry.path is not None:
        return Outcome(entry, path=Path(entry.path), note="local folder, nothing to download")
    try:
        return Outcome(entry, path=pull_entry(entry, tqdm_class))
    except HubUnreachable:
        raise
    except TkError as err:
        return Outcome(entry, error=str(err))


def pull_entry(entry: LockEntry, tqdm_class=None, starting=lambda: None) -> Path:
    """The entry's snapshot folder, after fetching what is missing and checking it against the lock.
    `starting()` is called once the hub has answered, before the first file is fetched."""
    ref = entry_ref(entry)
    commit, listing = remote_listing(ref.repo, ref.revision)  # also proves the hub answers, within HUB_TIMEOUT
    starting()
    names = sorted(entry.files) if entry.locked else list(listing)
    folder = None
    for name in names:
        # The ref's own revision (a branch when unlocked) so that refs/<branch> is recorded for offline runs.
        folder = _download(ref.repo, name, ref.revision, tqdm_class).parent
    if entry.locked:
        _reject_mismatches(entry, folder)
    return folder


def _reject_mismatches(entry: LockEntry, folder: Path) -> None:
    """Files that differ from the lock are removed from the cache, so no run can load them."""
    problems = file_problems(folder, entry.files)
    for name in problems:
        file = folder / name
        if file.is_symlink():
            file.resolve().unlink(missing_ok=True)  # the blob, named by the hub's ETag
        file.unlink(missing_ok=True)
    if problems:
        details = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise ModelUnavailable(f"{entry.name}: downloaded files do not match models.lock, removed: {details}")


def download(ref: ModelRef) -> Path:
    """A model's needed files, fetched at run time (models.ensure_local, online only), silently."""
    lock = lockfile.load_lock()
    entry = lock.get(ref.name) if ref.name else None
    if entry is None or entry_ref(entry) != ref:
        entry = LockEntry(ref.name or ref.repo, ref.repo, ref.revision)
    def starting() -> None:  # only once the hub has answered: no "downloading" for a download that never starts
        log.warning("%s is not in the local cache: downloading it (`tk models pull` does this ahead of time)", ref.repo)

    try:
        return pull_entry(entry, _silent_tqdm(), starting)
    except TkError as err:
        raise ModelUnavailable(f"{ref.repo} is not in the local cache and cannot be downloaded: {err}; "
                               f"run `tk models pull {entry.name}` on a connected machine, or pass --model DIR") from None


def _download(repo: str, filename: str, revision: str, tqdm_class) -> Path:
    from huggingface_hub import hf_hub_download  # only when the hub is asked

    with hub_errors(repo, revision):
        return Path(hf_hub_download(repo, filename, revision=revision, cache_dir=snapshots.hub_cache_dir(),
                                    endpoint=endpoint(), etag_timeout=HUB_TIMEOUT, tqdm_class=tqdm_class))


# --- errors and progress -------------------------------------------------------------------------


@contextmanager
def hub_errors(repo: str, revision: str) -> Iterator[None]:
    """huggingface_hub's and the HTTP client's exceptions -> our typed errors, one line each."""
    from huggingface_hub.errors import (  # only when the hub is asked
                                        EntryNotFoundError, HfHubHTTPError, OfflineModeIsEnabled,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    try:
        yield
    except RevisionNotFoundError:
        raise UnknownModel(f"{repo}: no revision '{revision}' on {endpoint()}") from None
    except RepositoryNotFoundError:
        raise UnknownModel(f"{repo}: no such model on {endpoint()} (or it is private)") from None
    except EntryNotFoundError as err:
        raise ModelUnavailable(f"{repo}@{revision}: a file is missing on the hub ({first_line(err, kind=False)})") from None
    except OfflineModeIsEnabled:
        raise HubUnreachable(f"{repo}: the network is switched off (HF_HUB_OFFLINE)") from None
    except HfHubHTTPError as err:
        status = getattr(getattr(err, "response", None), "status_code", "?")
        raise ModelUnavailable(f"{repo}: the hub answered HTTP {status} ({first_line(err, kind=False)})") from None
    except ValueError as err:  # huggingface_hub's validation of a repo id or revision
        raise UnknownModel(f"{repo}@{revision}: {first_line(err, kind=False)}") from None
    except Exception as err:
        if _is_network_error(err):
            raise HubUnreachable(f"cannot reach {endpoint()} ({type(err).__name__}: {first_line(err, kind=False)}); "
                                 f"this needs the network") from None
        raise


def _is_network_error(err: BaseException) -> bool:
    """Connection refused, no DNS, timeouts: from the builtins or from whichever HTTP client huggingface_hub uses."""
    module = type(err).__module__.split(".")[0]
    return isinstance(err, (ConnectionError, TimeoutError)) or module in ("httpx", "httpx2", "httpcore", "requests", "urllib3")


def _silent_tqdm():
    """A tqdm class that never draws: the library stays quiet unless the CLI asks for bars."""
    from tqdm.auto import tqdm  # only when the hub is asked

    class Silent(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.pop("name", None)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Silent


def ensure_local(ref: ModelRef) -> Path:
    """The model's local folder, downloading it when allowed. Raises ModelUnavailable."""
    path = snapshots.local_snapshot(ref)
    if path is not None:
        if not path.is_dir():
            raise ModelUnavailable(f"{ref.repo}: not a directory")
        return path
    if snapshots.offline():
        raise ModelUnavailable(
            f"{ref.repo} (revision {ref.revision}) is not in the local Hugging Face cache ({snapshots.hub_cache_dir()}) "
            f"and HF_HUB_OFFLINE is set; run `tk models pull {ref.name or ref.repo}` on a connected machine, "
            f"or pass --model DIR")
    return download(ref)
