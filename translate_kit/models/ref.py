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
    tier: str | None = None  # a pair's quality tier: "base", "big" (from `tier = ...` or the name "fr-en.big")
    scores: dict = field(default_factory=dict, hash=False, compare=False)  # published figures, with their source
    license: str | None = None

    @property
    def pair(self) -> str | None:
        """The language pair this entry translates ("fr-en" for fr-en and fr-en.big), else None."""
        head = self.name.split(".", 1)[0]
        return head if PAIR.fullmatch(head) and self.task == "translation" else None

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
    tier: str | None = field(default=None, compare=False)  # a pair's quality tier (LockEntry.tier); None: --model, or no pair
    # The lock entry of the tier that was wanted but is not on this machine, when this (the base)
    # was picked instead (models.pick_model): the run says so in one line.
    instead_of: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.repo if self.local else f"{self.repo}@{self.revision}"



def entry_ref(entry: LockEntry) -> ModelRef:
    """The ModelRef a lock entry stands for: its commit when locked, a local folder for `path`."""
    if entry.path is not None:
        return ModelRef(entry.path, "local", name=entry.name, local=True, locked=entry.locked, tier=entry.tier)
    return ModelRef(entry.repo, entry.commit or entry.revision, name=entry.name, locked=entry.locked, tier=entry.tier)



def conventional_repo(src: str, tgt: str) -> str:
    return f"Helsinki-NLP/opus-mt-{src}-{tgt}"

