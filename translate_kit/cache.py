"""The on-disk translation cache: SQLite (standard library), WAL mode, keyed by content.

key = sha256(signature, source text), where the signature covers the task, model, resolved
revision and decoding options (options.DecodeOptions.signature). Batch size, device and threads
are not in it. Content keys make resume free: whatever batches finished before a crash are found
again by the next run, whatever order it takes. The source is stored beside the result so a
collision is detectable and entries can be inspected.

Overrides are human translations imported from a reviewed XLIFF file (`tk import-review`). They
live in their own table keyed by (source language, target language, exact source text), NOT by
signature: a reviewer's sentence stays right when the model, its revision or the beam size
changes. `tk cache clear` leaves them alone: they are work, not a cache.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Sequence

log = logging.getLogger("translate_kit")

DB_NAME = "translations.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'model',
    flag TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_model ON entries(model);
CREATE TABLE IF NOT EXISTS overrides (
    src_lang TEXT NOT NULL,
    tgt_lang TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'review',
    document TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (src_lang, tgt_lang, source)
);
CREATE TABLE IF NOT EXISTS languages (
    key TEXT PRIMARY KEY,  -- sha256 of the text sample the detector reads
    lang TEXT NOT NULL
);
"""
CHUNK = 500  # rows per lookup query: well under SQLite's bound-parameter limit


def entry_key(signature: str, source: str) -> str:
    return hashlib.sha256(f"{signature}\x00{source}".encode()).hexdigest()


class Cache:
    """get_many / put_many over one SQLite file. Safe for several processes at once."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as err:
            aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            log.warning("cache %s is damaged (%s); moved it to %s and started a fresh cache", self.path, err, aside.name)
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 60000")  # another tk process writing: wait, do not fail
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        db.execute("SELECT count(*) FROM entries LIMIT 1").fetchone()  # a non-database fails here
        return db

    def get_many(self, signature: str, sources: Sequence[str]) -> dict[str, tuple[str, str, str | None]]:
        """source -> (target, origin, flag) for every source found."""
        found: dict[str, tuple[str, str, str | None]] = {}
        keys = {entry_key(signature, s): s for s in sources}
        key_list = list(keys)
        for i in range(0, len(key_list), CHUNK):
            chunk = key_list[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, source, target, origin, flag FROM entries WHERE key IN ({marks})", chunk)
            for key, source, target, origin, flag in rows:
                if source == keys[key]:  # a hash collision would show here
                    found[source] = (target, origin, flag)
        return found

    def put_many(self, signature: str, task: str, model: str, items: Iterable[tuple[str, str, str, str | None]]) -> None:
        """Store (source, target, origin, flag) rows in one transaction."""
        now = time.time()
        rows = [(entry_key(signature, s), signature, task, model, s, t, o, f, now) for s, t, o, f in items]
        if not rows:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def put_overrides(self, src_lang: str, tgt_lang: str, items: Iterable[tuple[str, str, str | None]],
                      origin: str = "review") -> int:
        """Store (source, target, document id) human translations in one transaction; a later
        import of the same source replaces the earlier one. Returns the number of rows written."""
        now = time.time()
        rows = [(src_lang, tgt_lang, s, t, origin, d, now) for s, t, d in items]
        if rows:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO overrides VALUES (?,?,?,?,?,?,?)", rows)
        return len(rows)

    def get_overrides(self, src_lang: str, tgt_lang: str, texts: Sequence[str]) -> dict[str, str]:
        """source -> human target, for every text that has an override in this language pair."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(texts))
        for i in range(0, len(unique), CHUNK):
            chunk = unique[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT source, target FROM overrides WHERE src_lang = ? AND tgt_lang = ? AND source IN ({marks})",
                [src_lang, tgt_lang, *chunk],
            )
            found.update(rows)
        return found

    def stats(self) -> dict:
        total = self.db.execute("SELECT count(*) FROM entries").fetchone()[0]
        per_model = self.db.execute(
            "SELECT model, task, count(*), sum(length(source) + length(target)) FROM entries GROUP BY model, task ORDER BY model, task"
        ).fetchall()
        size = sum(p.stat().st_size for p in self.folder.glob(DB_NAME + "*") if ".damaged-" not in p.name)
        return {
            "path": str(self.path),
            "entries": total,
            "bytes": size,
            "models": [{"model": m, "task": t, "entries": n, "text_chars": c or 0} for m, t, n, c in per_model],
        }

    def clear(self, model: str | None = None) -> int:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if model:
                removed = self.db.execute("DELETE FROM entries WHERE model = ? OR model LIKE ?", (model, model + "@%")).rowcount
            else:
                removed = self.db.execute("DELETE FROM entries").rowcount
        self.db.execute("VACUUM")
        return removed

    def close(self) -> None:
        self.db.close()


    def get_language(self, key: str) -> str | None:
        """A language detected before for the same text (loading the detector takes ~0.7 s)."""
        row = self.db.execute("SELECT lang FROM languages WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put_language(self, key: str, lang: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO languages VALUES (?, ?)", (key, lang))


class NoCache:
    """--no-cache: the same interface, remembering nothing."""

    path = None

    def get_many(self, signature, sources):
        return {}

    def put_many(self, signature, task, model, items):
        pass

    def get_overrides(self, src_lang, tgt_lang, texts):
        return {}  # --no-cache opens no database, so imported reviews are not read either

    def get_language(self, key):
        return None

    def put_language(self, key, lang):
        pass

    def close(self):
        pass
