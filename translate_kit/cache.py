"""The on-disk translation cache: SQLite (standard library), WAL mode, keyed by content.

key = sha256(signature, source text) (options.DecodeOptions.signature); batch size, device and
threads are not in it. Reviews (`tk import-review`, "overrides" here) live in a file of their own,
keyed by language pair and exact source text. `_Store.do` is the one place that decides what
happens to a busy, full or damaged file. Why and how: docs/design.md#the-cache
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .errors import CacheBusy, CacheError, CacheFileError
from .options import DEFAULT_CACHE_TIMEOUT, cache_timeout

log = logging.getLogger("translate_kit")

DB_NAME = "translations.sqlite3"
REVIEWS_NAME = "reviews.sqlite3"
ENTRIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'model',
    flag TEXT,
    created REAL NOT NULL,
    score REAL  -- the model's mean token log-probability of `target`; NULL: none (written before format 2, summaries)
);
CREATE INDEX IF NOT EXISTS entries_model ON entries(model);
CREATE TABLE IF NOT EXISTS languages (
    key TEXT PRIMARY KEY,  -- sha256 of the text sample the detector reads
    lang TEXT NOT NULL
);
"""
REVIEWS_SCHEMA = """
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
"""
#: every table a cache file may hold, with its columns in order (salvage and merge copy these)
COLUMNS = {
    "entries": ("key", "signature", "task", "model", "source", "target", "origin", "flag", "created", "score"),
    "languages": ("key", "lang"),
    "overrides": ("src_lang", "tgt_lang", "source", "target", "origin", "document", "created"),
}
TABLES = {table: len(columns) for table, columns in COLUMNS.items()}
#: columns added to a table since format 1, with their SQL type. ALTER TABLE adds them last, so an
#: upgraded file and a new one have their columns in the same order; rows of an older file (merged,
#: salvaged) get NULL there.
ADDED = {"entries": {"score": "REAL"}}
#: the files' layout (PRAGMA user_version; 0 in files from before it was written: format 1).
#: 2: entries.score. A file of format 1 is upgraded when it is opened (_upgrade: its entries stay
#: valid and get a NULL score); `tk cache merge` reads format 1 and 2, and refuses a newer one
#: rather than guess what its columns mean.
CACHE_FORMAT = 2
CHUNK = 500  # rows per lookup query: well under SQLite's bound-parameter limit
MERGE_ROWS = 20_000  # rows per merge transaction
DEFAULT_TIMEOUT = DEFAULT_CACHE_TIMEOUT  # seconds to wait for another tk's write lock (TK_CACHE_TIMEOUT)
MAX_ROWID = 2**63 - 1


def entry_key(signature: str, source: str) -> str:
    return hashlib.sha256(f"{signature}\x00{source}".encode()).hexdigest()


def entry_rows(signature: str, task: str, model: str, items: Iterable[Sequence]) -> list[tuple]:
    """(source, target, origin, flag[, score]) items as whole `entries` rows, stamped now. The score
    is never part of the key: a cached entry answers the same question with or without one."""
    now = time.time()
    return [(entry_key(signature, item[0]), signature, task, model, *item[:4], now, item[4] if len(item) > 4 else None)
            for item in items]


def found(row: Sequence) -> tuple[str, str, str | None, float | None]:
    """What a lookup serves from an `entries` row: (target, origin, flag, score)."""
    return row[5], row[6], row[7], row[9]


def problem(err: sqlite3.Error) -> str:
    """What kind of trouble an sqlite3 error is: busy | full | unwritable | damaged | other."""
    name = getattr(err, "sqlite_errorname", "") or ""
    text = str(err).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text or "is busy" in text:
        return "busy"
    if name == "SQLITE_FULL" or "disk is full" in text:
        return "full"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return "damaged"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH")) \
            or "readonly" in text or "unable to open" in text or "disk i/o" in text:
        return "unwritable"
    return "other"


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _disk_full(folder: Path) -> bool:
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024


def _read_error(err: sqlite3.Error) -> bool:
    """An I/O error while reading (a short read: a truncated file) may be damage; a write error is not."""
    name = getattr(err, "sqlite_errorname", "") or ""
    return name in ("SQLITE_IOERR", "SQLITE_IOERR_READ", "SQLITE_IOERR_SHORT_READ")


def _upgrade(db: sqlite3.Connection) -> None:
    """A file of an older format brought to CACHE_FORMAT in one write transaction: the columns added
    since (ADDED) appended, NULL in every existing row. Another tk upgrading the same file at the
    same time waits for the lock, then finds it done."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        if db.execute("PRAGMA user_version").fetchone()[0] >= CACHE_FORMAT:
            return
        for table, added in ADDED.items():
            have = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for column, kind in added.items():
                if have and column not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        db.execute(f"PRAGMA user_version = {CACHE_FORMAT}")


class _Store:
    """One SQLite file of the cache folder: opening it, and what to do when SQLite complains."""

    def __init__(self, path: Path, schema: str, timeout: float, on_salvage: Callable[[dict], None] | None = None,
                 connect: bool = True):
        self.path, self.schema, self.timeout = path, schema, timeout
        self.on_salvage = on_salvage  # rows of tables this file should not hold (a legacy overrides table)
        self.db: sqlite3.Connection | None = None
        if connect:
            self.do(lambda db: None)  # opens it (and repairs it if SQLite says it is damaged)

    # -- opening and errors -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")  # another tk writing: wait
            self._wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(self.schema)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a non-database fails here
            if db.execute("PRAGMA user_version").fetchone()[0] < CACHE_FORMAT:
                _upgrade(db)
        except BaseException:
            db.close()
            raise
        return db

    def _wal(self, db: sqlite3.Connection) -> None:
        """WAL mode. SQLite answers SQLITE_BUSY at once, without waiting, while another process is
        switching the same new file to WAL (two tk creating one cache, e.g. a sharded run's workers
        on one node): that wait is done here, up to the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as err:
                if problem(err) != "busy" or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def do(self, work: Callable[[sqlite3.Connection], object]):
        """work(connection), with every SQLite failure turned into a CacheError (file untouched),
        except real damage: then what can be read is recovered and `work` runs once more."""
        for attempt in (1, 2):
            try:
                if self.db is None:
                    self.db = self._connect()
                return work(self.db)
            except sqlite3.Error as err:
                kind = problem(err)
                if kind == "other" and not isinstance(err, sqlite3.OperationalError) or _read_error(err):
                    kind = "damaged" if self.damage() else kind  # SQLite's own check decides
                if kind == "damaged" and attempt == 1:
                    self.recover(str(err))
                    continue
                raise self._error(kind, err) from None

    def _error(self, kind: str, err: sqlite3.Error) -> CacheError:
        if kind == "unwritable" and _disk_full(self.path.parent):  # SQLite says "disk I/O error" for its -shm
            kind = "full"
        if kind == "busy":
            return CacheBusy(f"the cache is busy: another tk is using it ({self.path}; waited {self.timeout:g} s, "
                             "TK_CACHE_TIMEOUT); try again when it is done, or use --cache-dir elsewhere or --no-cache")
        if kind == "full":
            return CacheError(f"{self.path}: the disk is full; the cache was left as it was "
                              "(free some space, or run with --cache-dir elsewhere or --no-cache)")
        if kind == "unwritable":
            return CacheError(f"{self.path}: cannot write the cache here ({err}); the cache was left as it was "
                              "(use --cache-dir elsewhere or --no-cache)")
        return CacheError(f"{self.path}: the cache cannot be used ({err}); it was left as it was")

    def damage(self) -> str | None:
        """What `PRAGMA quick_check` finds wrong with the file (None when it is sound)."""
        try:  # read-only: closing it cannot checkpoint the WAL into a damaged file
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout)
            try:
                rows = [r[0] for r in db.execute("PRAGMA quick_check(20)")]
            finally:
                db.close()
        except sqlite3.Error as err:
            return str(err) if problem(err) in ("damaged", "other") or _read_error(err) else None
        return None if rows == ["ok"] else "; ".join(rows)

    # -- recovery -----------------------------------------------------------------------------------

    def recover(self, reason: str) -> dict:
        """Copy every readable row into a fresh file, keep the damaged one (and its WAL) aside."""
        log.warning("cache %s is damaged (%s); recovering what can be read", self.path, reason)
        db, self.db = self.db, None
        inode = _inode(self.path)
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        fresh = self.path.with_name(f"{self.path.name}.recovering-{os.getpid()}")
        try:
            db = db or _open_damaged(self.path)
            tables, lost = _salvage(db) if db is not None else ({}, True)  # through the WAL: it is part of the data
            mine = self._build(fresh, tables)
            # The WAL and shared memory are copied beside the damaged file before anything closes it
            # (closing the last connection would checkpoint and delete the WAL); the file itself is renamed.
            if _inode(self.path) != inode:  # another tk recovered it meanwhile: use its file
                fresh.unlink(missing_ok=True)
                return {"recovered": {}, "unreadable_pages": False, "kept_as": "(recovered by another tk)"}
            for suffix in ("-wal", "-shm"):
                if Path(f"{self.path}{suffix}").exists():
                    shutil.copy2(f"{self.path}{suffix}", f"{aside}{suffix}")
            os.replace(self.path, aside)
        except (sqlite3.Error, OSError) as err:
            fresh.unlink(missing_ok=True)
            raise CacheError(f"{self.path}: the cache is damaged and could not be recovered here ({err}); "
                             "it was left as it was") from None
        finally:
            if db is not None:
                db.close()
        for suffix in ("-wal", "-shm"):  # copies are kept aside; these would otherwise be read as the new file's
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        os.replace(fresh, self.path)
        others = {t: rows for t, rows in tables.items() if t not in mine and rows}
        if others and self.on_salvage:
            self.on_salvage(others)
        kept = {t: len(rows) for t, rows in tables.items() if t in mine or t == "overrides"}
        log.warning("cache %s: recovered %s; %s; the damaged file is kept as %s", self.path,
                    ", ".join(f"{n} {t}" for t, n in kept.items()) or "nothing",
                    "some pages could not be read" if lost else "every row could be read", aside.name)
        return {"recovered": kept, "unreadable_pages": lost, "kept_as": str(aside)}

    def _build(self, fresh: Path, tables: dict[str, list[tuple]]) -> set[str]:
        """A new file with this store's schema and the salvaged rows of its tables; returns its tables."""
        fresh.unlink(missing_ok=True)
        db = sqlite3.connect(fresh, isolation_level=None)
        try:
            db.executescript(self.schema)
            mine = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            with db:
                db.execute("BEGIN")
                for table, rows in tables.items():
                    if table in mine:  # rows of an older format lack the columns added since: NULL there
                        width = TABLES[table]
                        db.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({','.join('?' * width)})",
                                       (tuple(r) + (None,) * (width - len(r)) for r in rows))
        finally:
            db.close()
        return mine

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def _open_damaged(path: Path) -> sqlite3.Connection | None:
    """A connection to read a damaged file from, or None when SQLite cannot read even that much."""
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error:
        return None
    return db


def _salvage(db: sqlite3.Connection) -> tuple[dict[str, list[tuple]], bool]:
    """Every row of the known tables that can be read from a damaged file, and whether some could not."""
    tables: dict[str, list[tuple]] = {}
    try:
        names = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if t in TABLES]
    except sqlite3.Error:
        return {}, True  # not even the schema can be read: nothing to copy
    lost = False
    for table in names:
        tables[table], table_lost = _salvage_table(db, table)
        lost = lost or table_lost
    return tables, lost


def _salvage_table(db: sqlite3.Connection, table: str) -> tuple[list[tuple], bool]:
    """Rows in rowid order; where a page cannot be read, the walk resumes at the next readable rowid."""
    rows: list[tuple] = []
    lost, start = False, -MAX_ROWID - 1
    while start is not None:
        try:
            for row in db.execute(f"SELECT rowid, * FROM {table} WHERE rowid >= ? ORDER BY rowid", (start,)):
                rows.append(row[1:])
                start = row[0] + 1
            return rows, lost
        except sqlite3.DatabaseError:
            lost = True
            start = _next_readable(db, table, start)
    return rows, lost


def _next_readable(db: sqlite3.Connection, table: str, bad: int) -> int | None:
    """The first rowid after the unreadable one at `bad` from which rows can be read again (None: none)."""

    def probe(at: int) -> tuple[bool, int | None]:
        try:
            row = db.execute(f"SELECT rowid FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1", (at,)).fetchone()
        except sqlite3.DatabaseError:
            return False, None
        return True, row[0] if row else None

    step = 1
    while bad + step <= MAX_ROWID:  # doubling steps jump over a damaged range...
        ok, first = probe(bad + step)
        if ok:
            break
        step *= 2
    else:
        return None
    low, high = bad + step // 2, bad + step  # ...and bisection finds where reading starts again
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if probe(mid)[0] else (mid, high)
    ok, first = probe(high)
    return first if first is not None and first > bad else None


class Cache:
    """get_many / put_many over the cache folder's SQLite files. Safe for several processes at once."""

    def __init__(self, folder: Path | str, timeout: float | None = None):
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        self.reviews_path = self.folder / REVIEWS_NAME
        timeout = cache_timeout() if timeout is None else timeout
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheError(f"{self.folder}: cannot create the cache folder ({err.strerror or err}); "
                             "use --cache-dir elsewhere or --no-cache") from None
        self.reviews = _Store(self.reviews_path, REVIEWS_SCHEMA, timeout)
        try:
            self.entries = _Store(self.path, ENTRIES_SCHEMA, timeout, on_salvage=self._take_overrides)
            self._move_legacy_overrides()
        except BaseException:
            self.reviews.close()
            raise

    @property
    def db(self) -> sqlite3.Connection:
        return self.entries.db

    # -- reviews, kept apart ------------------------------------------------------------------------

    def _take_overrides(self, tables: dict) -> None:
        _take_overrides(self.reviews, tables)

    def _move_legacy_overrides(self) -> None:
        def move(db):
            if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'overrides'").fetchone():
                return
            rows = db.execute("SELECT * FROM overrides").fetchall()
            self._take_overrides({"overrides": rows})  # committed in reviews.sqlite3 first...
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("DROP TABLE IF EXISTS overrides")  # ...then dropped here

        self.entries.do(move)

    # -- translations -------------------------------------------------------------------------------

    def get_many(self, signature: str, sources: Sequence[str]) -> dict[str, tuple[str, str, str | None, float | None]]:
        """source -> (target, origin, flag, score) for every source found."""
        return {row[4]: found(row) for row in self.entry_rows(signature, sources)}

    def entry_rows(self, signature: str, sources: Sequence[str]) -> list[tuple]:
        """The whole `entries` rows (key, signature, task, model, source, target, origin, flag,
        created, score) of every source found."""
        keys = {entry_key(signature, s): s for s in sources}
        key_list = list(keys)

        def lookup(db):
            found: list[tuple] = []
            for i in range(0, len(key_list), CHUNK):
                chunk = key_list[i : i + CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT * FROM entries WHERE key IN ({marks})", chunk)
                found += [row for row in rows if row[4] == keys[row[0]]]  # a hash collision would show here
            return found

        return self.entries.do(lookup)

    def put_many(self, signature: str, task: str, model: str, items: Iterable[Sequence]) -> None:
        """Store (source, target, origin, flag[, score]) rows in one transaction."""
        self.put_rows(entry_rows(signature, task, model, items))

    def put_rows(self, rows: list[tuple]) -> None:
        """Whole `entries` rows (entry_rows) in one transaction."""
        if rows:
            self.entries.do(lambda db: _insert(db, "entries", rows))

    def get_language(self, key: str) -> str | None:
        """A language detected before for the same text (loading the detector takes ~0.7 s)."""
        row = self.entries.do(lambda db: db.execute("SELECT lang FROM languages WHERE key = ?", (key,)).fetchone())
        return row[0] if row else None

    def put_language(self, key: str, lang: str) -> None:
        self.entries.do(lambda db: _insert(db, "languages", [(key, lang)]))

    def put_languages(self, rows: list[tuple[str, str]]) -> None:
        """Many (key, value) rows of the languages table in one transaction (language.remembering)."""
        if rows:
            self.entries.do(lambda db: _insert(db, "languages", rows))

    # -- overrides (reviews.sqlite3) ----------------------------------------------------------------

    def put_overrides(self, src_lang: str, tgt_lang: str, items: Iterable[tuple[str, str, str | None]],
                      origin: str = "review") -> int:
        """Store (source, target, document id) human translations in one transaction; a later
        import of the same source replaces the earlier one. Returns the number of rows written."""
        now = time.time()
        rows = [(src_lang, tgt_lang, s, t, origin, d, now) for s, t, d in items]
        if rows:
            self.reviews.do(lambda db: _insert(db, "overrides", rows))
        return len(rows)

    def get_overrides(self, src_lang: str, tgt_lang: str, texts: Sequence[str]) -> dict[str, str]:
        """source -> human target, for every text that has an override in this language pair."""
        unique = list(dict.fromkeys(texts))

        def lookup(db):
            found: dict[str, str] = {}
            for i in range(0, len(unique), CHUNK):
                chunk = unique[i : i + CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(
                    f"SELECT source, target FROM overrides WHERE src_lang = ? AND tgt_lang = ? AND source IN ({marks})",
                    [src_lang, tgt_lang, *chunk]))
            return found

        return self.reviews.do(lookup)

    def all_overrides(self) -> list[tuple[str, str, str, str]]:
        """Every imported review, (src_lang, tgt_lang, source, target): what a sharded run's workers
        serve before their own caches, as a local run does (sharded.py)."""
        return self.reviews.do(lambda db: db.execute("SELECT src_lang, tgt_lang, source, target FROM overrides").fetchall())

    # -- merging ------------------------------------------------------------------------------------

    def merge(self, table: str, rows: Iterable[Sequence]) -> Merged:
        """Rows of `table` (whole rows, in COLUMNS order) that this cache lacks, added; a row whose key
        is here already is counted, as present or (another value) as a conflict, and this cache's
        value kept. Malformed rows are skipped and counted. One transaction per MERGE_ROWS rows
        (a commit costs about as much as a few hundred rows), so an interrupted merge keeps what it
        merged. `tk cache merge` and the shards of a sharded run (sharded.py) both come here."""
        store = self.reviews if table == "overrides" else self.entries
        total = Merged()
        for chunk in _chunks(rows, MERGE_ROWS):
            good, skipped = _well_formed(table, chunk)
            counts = store.do(lambda db: _merge_chunk(db, table, good)) if good else Merged()
            counts.skipped += skipped
            total += counts
        return total

    # -- maintenance --------------------------------------------------------------------------------

    def stats(self) -> dict:
        total = self.entries.do(lambda db: db.execute("SELECT count(*) FROM entries").fetchone()[0])
        per_model = self.entries.do(lambda db: db.execute(
            "SELECT model, task, count(*), sum(length(source) + length(target)) FROM entries GROUP BY model, task ORDER BY model, task"
        ).fetchall())
        reviews = self.reviews.do(lambda db: db.execute("SELECT count(*) FROM overrides").fetchone()[0])
        names = (DB_NAME, REVIEWS_NAME)
        size = sum(p.stat().st_size for p in self.folder.iterdir()
                   if p.name.startswith(names) and ".damaged-" not in p.name and ".recovering-" not in p.name)
        return {
            "path": str(self.path),
            "entries": total,
            "reviews": reviews,
            "reviews_path": str(self.reviews_path),
            "bytes": size,
            "models": [{"model": m, "task": t, "entries": n, "text_chars": c or 0} for m, t, n, c in per_model],
            "damaged_files": sorted(p.name for p in self.folder.glob("*.damaged-*") if not p.name.endswith(("-wal", "-shm"))),
        }

    def clear(self, model: str | None = None) -> int:
        def delete(db):
            with db:
                db.execute("BEGIN IMMEDIATE")
                if model:
                    return db.execute("DELETE FROM entries WHERE model = ? OR model LIKE ?", (model, model + "@%")).rowcount
                return db.execute("DELETE FROM entries").rowcount

        removed = self.entries.do(delete)
        self.entries.do(lambda db: db.execute("VACUUM"))
        return removed

    def close(self) -> None:
        self.entries.close()
        self.reviews.close()


def _take_overrides(reviews: _Store, tables: dict) -> None:
    """Reviews found in a translations file (recovered from it, or a cache from before the split)
    into reviews.sqlite3; a review imported there since is newer and stays."""
    rows = tables.get("overrides", [])
    if rows:
        reviews.do(lambda db: _insert(db, "overrides", rows, "INSERT OR IGNORE"))


def _insert(db: sqlite3.Connection, table: str, rows: list[tuple], verb: str = "INSERT OR REPLACE") -> None:
    """Rows into a table in one write transaction."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"{verb} INTO {table} VALUES ({','.join('?' * TABLES[table])})", rows)


# --- merging: `tk cache merge`, and the shards of `tk translate --engine ray --shard` ---------------
#
# Content keys make two caches' union safe: a key is a hash of the signature (model, revision,
# decoding) and the source text, so the same key from another cache is the same question. What
# it answered is kept if this cache has no answer yet; a different answer (e.g. GPU batches that
# rounded differently) is reported, and this cache's kept.

#: per table: its key columns, and the columns a lookup serves (the same key with other values there is a conflict;
#: the same values with a score where this cache has none gives it that score: FILLED)
MERGE_KEYS = {
    "entries": (("key",), ("target", "origin", "flag")),
    "languages": (("key",), ("lang",)),
    "overrides": (("src_lang", "tgt_lang", "source"), ("target",)),
}
FILLED = {"entries": "score"}  # never a conflict: a score only adds to an entry that has none


@dataclass
class Merged:
    """What a merge did with the rows it was given."""

    added: int = 0
    present: int = 0  # the same key with the same value: nothing to do (but a score this cache lacked, taken)
    conflicts: int = 0  # the same key with another value: this cache's kept
    skipped: int = 0  # malformed: wrong shape or types, or a key that is not its content's

    def __iadd__(self, other: Merged) -> Merged:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def _chunks(rows: Iterable[Sequence], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(tuple(row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _well_formed(table: str, rows: list[tuple]) -> tuple[list[tuple], int]:
    """The rows of the right shape and types (entries: whose key is their content's), the first of
    each key; and how many were not."""
    ncols, (keys, _) = TABLES[table], MERGE_KEYS[table]
    key_at = [COLUMNS[table].index(k) for k in keys]
    good, seen = [], set()
    for row in rows:
        if len(row) != ncols or not _typed(table, row):
            continue
        key = tuple(row[i] for i in key_at)
        if key not in seen:
            seen.add(key)
            good.append(row)
    return good, len(rows) - len(good)


def _typed(table: str, row: tuple) -> bool:
    """Text where the schema says text (flag and document may be NULL), a number for `created`;
    an entry's key must be its content's. (Chained `is`: this runs for every merged row.)"""
    if table == "entries":
        key, signature, task, model, source, target, origin, flag, created, score = row
        return (type(key) is type(signature) is type(task) is type(model) is type(source) is type(target)
                is type(origin) is str and (flag is None or type(flag) is str) and type(created) in (float, int)
                and (score is None or type(score) in (float, int)) and key == entry_key(signature, source))
    if table == "languages":
        return type(row[0]) is type(row[1]) is str
    src, tgt, source, target, origin, document, created = row
    return (type(src) is type(tgt) is type(source) is type(target) is type(origin) is str
            and (document is None or type(document) is str) and type(created) in (float, int))


def _merge_chunk(db: sqlite3.Connection, table: str, rows: list[tuple]) -> Merged:
    """Rows in one write transaction: existing keys looked up (CHUNK at a time), the missing rows inserted."""
    columns, (keys, values) = COLUMNS[table], MERGE_KEYS[table]
    filled = (FILLED[table],) if table in FILLED else ()
    key_at, value_at = [columns.index(k) for k in keys], [columns.index(v) for v in values + filled]
    step = max(1, CHUNK // len(keys))  # bound parameters per query
    counts = Merged()
    with db:
        db.execute("BEGIN IMMEDIATE")
        here: dict[tuple, tuple] = {}
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            if len(keys) == 1:  # the primary key's own index
                where = f"{keys[0]} IN ({','.join('?' * len(part))})"
            else:
                where = f"({','.join(keys)}) IN (VALUES {','.join('(' + ','.join('?' * len(keys)) + ')' for _ in part)})"
            found = db.execute(f"SELECT {','.join(keys + values + filled)} FROM {table} WHERE {where}",
                               [row[i] for row in part for i in key_at])
            here.update((tuple(r[: len(keys)]), tuple(r[len(keys):])) for r in found)
        new, scores = [], []
        for row in rows:
            key = tuple(row[i] for i in key_at)
            value, theirs = here.get(key), tuple(row[i] for i in value_at)
            if value is None:
                new.append(row)
            elif value[: len(values)] == theirs[: len(values)]:
                counts.present += 1
                if filled and value[-1] is None and theirs[-1] is not None:
                    scores.append((theirs[-1], *key))
            else:
                counts.conflicts += 1
        if scores:
            db.executemany(f"UPDATE {table} SET {filled[0]} = ? WHERE {' AND '.join(k + ' = ?' for k in keys)}", scores)
        if new:
            inserted = db.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({','.join('?' * len(columns))})", new)
            counts.added = inserted.rowcount
            counts.present += len(new) - inserted.rowcount  # written meanwhile by another tk
    return counts


def cache_files(other: Path | str) -> list[Path]:
    """The files of another cache to merge: a cache folder's (translations, reviews), or one file."""
    other = Path(other)
    if other.is_dir():
        found = [other / name for name in (DB_NAME, REVIEWS_NAME) if (other / name).is_file()]
        if not found:
            raise CacheFileError(f"{other}: not a tk cache folder (no {DB_NAME} or {REVIEWS_NAME} in it)")
        return found
    if not other.exists():
        raise CacheFileError(f"{other}: no such file or folder")
    return [other]


def merge_file(cache: Cache, path: Path | str) -> dict[str, Merged]:
    """`tk cache merge`: every table of another cache file merged into `cache` (Cache.merge);
    table -> what was done. CacheFileError, naming the file, when it cannot be merged: not there,
    not an SQLite file, no tk tables, another cache format or schema, damaged (checked before
    anything is merged; `tk cache check --repair` recovers such a file first)."""
    path = Path(path)
    if any(_same_file(path, mine) for mine in (cache.path, cache.reviews_path)):
        raise CacheFileError(f"{path}: is this cache's own file (--cache-dir / TK_CACHE_DIR); nothing to merge")
    from urllib.parse import quote

    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=cache_timeout())
    except sqlite3.Error as err:
        raise CacheFileError(f"{path}: cannot be read ({err})") from None
    try:
        tables = _mergeable_tables(db, path)
        return {table: cache.merge(table, _rows(db, table, path)) for table in tables}
    finally:
        db.close()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _mergeable_tables(db: sqlite3.Connection, path: Path) -> list[str]:
    """The tk tables of another file, once it is known to be a sound cache of this format."""
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        damage = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.Error as err:
        if problem(err) == "damaged" and "not a database" in str(err):
            raise CacheFileError(f"{path}: not a tk cache (not an SQLite database)") from None
        if problem(err) == "damaged":
            raise _damaged(path, str(err)) from None
        raise CacheFileError(f"{path}: cannot be read ({err})") from None
    tables = [t for t in COLUMNS if t in names]
    if not tables:
        raise CacheFileError(f"{path}: not a tk cache (no {', '.join(COLUMNS)} table in it)")
    if version > CACHE_FORMAT:
        raise CacheFileError(f"{path}: written by a newer tk (cache format {version}; this tk reads format "
                             f"{CACHE_FORMAT}); merge it with that tk")
    if damage != ["ok"]:
        raise _damaged(path, "; ".join(damage))
    for table in tables:
        found = tuple(r[1] for r in db.execute(f"PRAGMA table_info({table})"))
        if found not in (COLUMNS[table], _older(table)):
            raise CacheFileError(f"{path}: another cache schema ({table} has columns {', '.join(found)}; this tk's "
                                 f"has {', '.join(COLUMNS[table])}); merge it with the tk that wrote it")
    return tables


def _older(table: str) -> tuple[str, ...]:
    """A table's columns in a file of format 1 (before ADDED)."""
    return tuple(c for c in COLUMNS[table] if c not in ADDED.get(table, {}))


def _damaged(path: Path, why: str) -> CacheFileError:
    if path.name in (DB_NAME, REVIEWS_NAME):
        how = f"`tk cache check --repair --cache-dir {path.parent}` recovers what can be read"
    else:
        how = f"as {DB_NAME} in a folder DIR, `tk cache check --repair --cache-dir DIR` recovers what can be read"
    return CacheFileError(f"{path}: damaged ({why}); nothing merged from it: {how}, then merge again")


def _rows(db: sqlite3.Connection, table: str, path: Path) -> Iterator[tuple]:
    """A table's rows, CHUNK at a time (a node's cache may be large), in this tk's COLUMNS order: the
    columns a file of format 1 lacks read as NULL."""
    try:
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        wanted = ", ".join(c if c in have else "NULL" for c in COLUMNS[table])
        cursor = db.execute(f"SELECT {wanted} FROM {table}")
        while rows := cursor.fetchmany(CHUNK):
            yield from rows
    except sqlite3.Error as err:
        raise CacheFileError(f"{path}: could not be read to the end ({err}); what was read before is merged") from None


def check(folder: Path | str, repair: bool = False) -> list[dict]:
    """`tk cache check`: each cache file, whether SQLite finds it sound, and (with `repair`) what was
    recovered from a damaged one. Checking never changes a file; only `repair` does."""
    folder = Path(folder)
    timeout = cache_timeout()
    report = []
    for name, schema in ((REVIEWS_NAME, REVIEWS_SCHEMA), (DB_NAME, ENTRIES_SCHEMA)):
        store = _Store(folder / name, schema, timeout, connect=False)
        row: dict = {"path": str(store.path), "exists": store.path.exists(), "damage": None}
        if row["exists"]:
            row["damage"] = store.damage()
            if row["damage"] and repair:
                if name == DB_NAME:  # reviews recovered from an old-style translations file go to reviews.sqlite3
                    reviews = _Store(folder / REVIEWS_NAME, REVIEWS_SCHEMA, timeout)
                    store.on_salvage = lambda tables: _take_overrides(reviews, tables)
                row["repair"] = store.recover(row["damage"])
        report.append(row)
    return report


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
