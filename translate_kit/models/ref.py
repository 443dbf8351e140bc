"""Which model: a ModelRef chosen for a run, a models.lock entry, the conventional OPUS-MT repo id."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PAIR = re.compile(r"([a-z]{2,3})-([a-z]{2,3})")


@dataclass(frozen=True)
class LockEntry:
    name: str
    repo: str
    revision: str = "main"
    task: str = "translation"
    commit: str | None = None
    files: dict = field(default_factory=dict, hash=False, compare=False)
    path: str | None = None  # a local folder instead of a hub repo (resolved against the lock's folder)

    @property
    def locked(self) -> bool:
        """Locked: the exact files are recorded, a commit and file hashes (hub) or file hashes (local
        folder). One word for it everywhere: `tk models list|verify`, run reports, output headers."""
        return bool(self.files) and (bool(self.commit) or self.path is not None)


@dataclass(frozen=True)
class ModelRef:
    """A model chosen for a run: where it comes from and which exact version it is."""

    repo: str  # repo id, or a local directory
    revision: str = "main"
    name: str | None = None  # lock entry name, when it came from the lock
    locked: bool = False  # True: a models.lock entry with its commit and file hashes recorded (LockEntry.locked)
    local: bool = False  # True: `repo` is a directory given by the user

    @property
    def label(self) -> str:
        return self.repo if self.local else f"{self.repo}@{self.revision}"



def entry_ref(entry: LockEntry) -> ModelRef:
    """The ModelRef a lock entry stands for: its commit when locked, a local folder for `path`."""
    if entry.path is not None:
        return ModelRef(entry.path, "local", name=entry.name, local=True, locked=entry.locked)
    return ModelRef(entry.repo, entry.commit or entry.revision, name=entry.name, locked=entry.locked)



def conventional_repo(src: str, tgt: str) -> str:
    return f"Helsinki-NLP/opus-mt-{src}-{tgt}"

