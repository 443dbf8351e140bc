"""Uploaded and translated files, kept in one private temporary folder.

The folder is made by tempfile.mkdtemp (mode 0700, a random name) when the server starts and
removed when it stops. No file in it is ever named from the request: an upload is stored as
`<random token>.in`, its translation as `<random token>.out`, and the download URL carries only
the token, which is looked up in a table (a token that is not in the table is "not found"; it is
never joined to a path). The client's file name only gives the download its suggested name,
reduced to safe characters. A translation is deleted once downloaded, or after `ttl` seconds.

A server killed (SIGKILL, a power cut) cannot remove its folder: each folder holds a `.lock` file
the server keeps locked (flock) while it runs, and the next server to start removes every
`tk-serve-*` folder of this user whose lock nobody holds.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAFE = re.compile(r"[^A-Za-z0-9._-]+")
PREFIX = "tk-serve-"
LOCK = ".lock"
log = logging.getLogger("translate_kit")


@dataclass
class Stored:
    path: Path
    name: str  # suggested download name, safe characters only
    expires: float
    media_type: str = "text/plain; charset=utf-8"


def safe_name(name: str, default: str = "document.txt") -> str:
    """The last component of a client's file name, reduced to [A-Za-z0-9._-]; never a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = SAFE.sub("_", base).strip("._") or default
    return base[:100]


class FileStore:
    def __init__(self, ttl: float = 600.0, root: Path | None = None):
        self.ttl = ttl
        remove_stale(Path(root or tempfile.gettempdir()))
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        self._lock_fd = os.open(self.folder / LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._items: dict[str, Stored] = {}
        self._lock = threading.Lock()

    def new_upload(self) -> Path:
        """A fresh path for an incoming upload (the caller writes it, then deletes it)."""
        return self.folder / f"{secrets.token_hex(16)}.in"

    def put(self, data: str | bytes, name: str, media_type: str = "text/plain; charset=utf-8") -> str:
        """Store a translation (text is stored as UTF-8); returns its download token."""
        self.sweep()
        token = secrets.token_urlsafe(24)
        path = self.folder / f"{secrets.token_hex(16)}.out"
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        with self._lock:
            self._items[token] = Stored(path, safe_name(name), time.monotonic() + self.ttl, media_type)
        return token

    def take(self, token: str) -> tuple[bytes, str, str] | None:
        """The translation's bytes, download name and media type, removed from the store; None if
        unknown or expired."""
        self.sweep()
        with self._lock:
            item = self._items.pop(token, None)
        if item is None:
            return None
        try:
            return item.path.read_bytes(), item.name, item.media_type
        finally:
            item.path.unlink(missing_ok=True)

    def sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [t for t, item in self._items.items() if item.expires <= now]
            gone = [self._items.pop(t) for t in old]
        for item in gone:
            item.path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def remove_stale(root: Path) -> list[Path]:
    """Remove the upload folders under `root` left by servers that were killed: ours (same
    owner), with a lock file that nobody holds. A running server's folder stays (its lock is held)."""
    removed = []
    for folder in root.glob(f"{PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            fd = os.open(folder / LOCK, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # no lock file: not ours to judge (being created, or an older tk's)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a running server holds it
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by a server that did not stop cleanly", folder)
        removed.append(folder)
    return removed
