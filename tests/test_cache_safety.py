"""Never lose the cache (issue 13): damage is recovered, a lock, a full disk or a read-only place is
one line with the cache left as it was, and imported reviews live where a damaged translation
file cannot take them along.

Damaged files are built for real (a page of a real cache overwritten, a truncated file, garbage);
the full disk and the read-only file system are real too: a small tmpfs mounted in a user
namespace (`unshare -rm`), skipped with the reason where the machine does not allow one.
"""

import json
import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cache import DB_NAME, REVIEWS_NAME, Cache
from translate_kit.cli import app
from translate_kit.errors import CacheBusy, CacheError

from fs_faults import in_namespace

runner = CliRunner()
N = 3000
SOURCES = [f"La phrase numéro {i} du document, assez longue pour remplir les pages." for i in range(N)]



def fill(folder: Path) -> None:
    cache = Cache(folder)
    cache.put_many("sig", "translate", "m@1", [(s, f"target {i}", "model", None) for i, s in enumerate(SOURCES)])
    cache.put_overrides("fr", "en", [("Bonjour.", "Hello.", "doc")])
    cache.close()  # checkpointed: everything is in the main file


def damage_one_page(path: Path) -> bytes:
    """Overwrite one page of the entries table (the first one whose loss a full scan notices), found
    on a scratch copy so that no connection to `path` itself checkpoints its WAL."""
    original = path.read_bytes()
    size = int.from_bytes(original[16:18], "big")
    scratch = path.with_name("scratch.sqlite3")
    for page in range(len(original) // size // 2, len(original) // size):
        data = bytearray(original)
        data[page * size : (page + 1) * size] = b"\x5a" * size
        scratch.write_bytes(bytes(data))
        db = sqlite3.connect(scratch)
        try:
            db.execute("SELECT * FROM entries").fetchall()
        except sqlite3.DatabaseError as err:
            assert "malformed" in str(err)
            path.write_bytes(bytes(data))
            return bytes(data)
        finally:
            db.close()
            scratch.unlink()
    pytest.fail("no page of the entries table could be damaged")


def quick_check(path: Path) -> list:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as err:  # so damaged that the check itself stops
        return [str(err)]
    finally:
        db.close()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


def aside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".damaged-" in p.name)


# --- damage ------------------------------------------------------------------------------------


def test_one_bad_page_is_recovered_and_the_rest_kept(tmp_path, caplog):
    fill(tmp_path)
    damaged = damage_one_page(tmp_path / DB_NAME)
    assert quick_check(tmp_path / DB_NAME) != ["ok"]
    with caplog.at_level(logging.WARNING, logger="translate_kit"):
        cache = Cache(tmp_path)
        found = cache.get_many("sig", SOURCES)  # the bad page is met here, not when opening
    assert N - 100 <= len(found) < N  # one page of rows lost, every other row recovered
    assert all(found[s][0] == f"target {i}" for i, s in enumerate(SOURCES) if s in found)
    assert cache.get_overrides("fr", "en", ["Bonjour."]) == {"Bonjour.": "Hello."}
    cache.put_many("sig", "translate", "m@1", [("new", "row", "model", None)])  # and it goes on working
    cache.close()
    assert quick_check(tmp_path / DB_NAME) == ["ok"]
    kept = [n for n in aside(tmp_path) if not n.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and (tmp_path / kept[0]).read_bytes()[:4096] == damaged[:4096]
    assert "damaged" in caplog.text and "recovered" in caplog.text


def test_a_damaged_files_wal_goes_aside_with_it(tmp_path):
    """The WAL holds the last committed transactions: they are recovered, and it is kept beside its
    damaged file, never deleted."""
    live = tmp_path / "live"
    fill(live)
    cache = Cache(live)
    recent = [(f"récent {i}", f"recent {i}", "model", None) for i in range(20)]
    cache.put_many("sig", "translate", "m@1", recent)  # in the WAL, not yet in the main file
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (DB_NAME, DB_NAME + "-wal"):  # what a crash while tk runs leaves on disk
        shutil.copy(live / name, copy / name)
    cache.close()
    wal = (copy / (DB_NAME + "-wal")).read_bytes()
    assert wal
    damage_one_page(copy / DB_NAME)
    cache = Cache(copy)
    assert N - 100 <= len(cache.get_many("sig", SOURCES)) < N  # meets the bad page: recovered
    assert len(cache.get_many("sig", [r[0] for r in recent])) == len(recent)
    cache.close()
    kept_wal = [n for n in aside(copy) if n.endswith("-wal")]
    assert len(kept_wal) == 1 and (copy / kept_wal[0]).read_bytes()[: len(wal)] == wal


def test_reviews_survive_a_translations_file_that_is_lost(tmp_path):
    fill(tmp_path)
    (tmp_path / DB_NAME).write_bytes(b"\x00not sqlite\x00" * 1000)
    cache = Cache(tmp_path)
    assert cache.get_overrides("fr", "en", ["Bonjour."]) == {"Bonjour.": "Hello."}
    assert cache.get_many("sig", SOURCES[:10]) == {}
    assert (tmp_path / REVIEWS_NAME).exists()


def test_reviews_of_an_older_cache_move_to_their_own_file(tmp_path):
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript("""
        CREATE TABLE entries (key TEXT PRIMARY KEY, signature TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL,
            source TEXT NOT NULL, target TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'model', flag TEXT, created REAL NOT NULL);
        CREATE TABLE overrides (src_lang TEXT NOT NULL, tgt_lang TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT 'review', document TEXT, created REAL NOT NULL, PRIMARY KEY (src_lang, tgt_lang, source));
        INSERT INTO overrides VALUES ('fr', 'en', 'Oui.', 'Yes.', 'review', 'd', 0);
    """)
    db.close()
    cache = Cache(tmp_path)
    assert cache.get_overrides("fr", "en", ["Oui."]) == {"Oui.": "Yes."}
    cache.close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'overrides'").fetchall()
    assert sqlite3.connect(tmp_path / REVIEWS_NAME).execute("SELECT count(*) FROM overrides").fetchone()[0] == 1


REVIEW = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="fr" trgLang="en">
  <file id="f1"><unit id="u1"><segment id="s1" state="reviewed"><source>Le chat dort.</source>
  <target>The cat sleeps.</target></segment></unit></file>
</xliff>
"""


def test_cache_commands_work_on_a_damaged_file(tmp_path):
    fill(tmp_path)
    damaged = damage_one_page(tmp_path / DB_NAME)
    folder = ["--cache-dir", str(tmp_path)]
    checked = runner.invoke(app, ["cache", "check", *folder])
    assert checked.exit_code == 1 and "damaged" in checked.stdout and "--repair" in checked.stdout
    assert (tmp_path / DB_NAME).read_bytes() == damaged and not aside(tmp_path)  # checking changes nothing

    review = tmp_path / "review.xlf"
    review.write_text(REVIEW, encoding="utf-8")
    imported = runner.invoke(app, ["import-review", str(review), *folder])
    assert imported.exit_code == 0, imported.stderr
    repaired = runner.invoke(app, ["cache", "check", "--repair", *folder])
    assert repaired.exit_code == 0 and "recovered" in repaired.stdout, repaired.output
    assert runner.invoke(app, ["cache", "check", *folder]).exit_code == 0
    stats = json.loads(runner.invoke(app, ["cache", "stats", "--json", *folder]).stdout)
    assert N - 100 <= stats["entries"] < N and stats["reviews"] == 2 and stats["damaged_files"]

    damage_one_page(tmp_path / DB_NAME)
    cleared = runner.invoke(app, ["cache", "clear", *folder])
    assert cleared.exit_code == 0 and "removed" in cleared.stderr, cleared.output
    cache = Cache(tmp_path)
    assert cache.stats()["entries"] == 0 and len(cache.get_overrides("fr", "en", ["Bonjour.", "Le chat dort."])) == 2


def test_a_cache_folder_that_is_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["cache", "stats", "--cache-dir", str(blocker)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"tk: {blocker}: cannot create the cache folder") and blocker.read_text() == "not a folder"


# --- a lock held by another tk -----------------------------------------------------------------


def hold_lock(folder: Path) -> sqlite3.Connection:
    """What another process writing for a long time does to the file: an exclusive lock."""
    db = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    db.execute("BEGIN EXCLUSIVE")
    db.execute("INSERT INTO languages VALUES ('k', 'fr')")
    return db


def test_a_lock_waits_then_fails_and_moves_nothing(tmp_path):
    fill(tmp_path)
    before = (tmp_path / DB_NAME).read_bytes()
    locker = hold_lock(tmp_path)
    with pytest.raises(CacheBusy, match="the cache is busy: another tk is using it"):
        Cache(tmp_path, timeout=0.2)
    assert files(tmp_path) == sorted([DB_NAME, REVIEWS_NAME]) and (tmp_path / DB_NAME).read_bytes() == before
    locker.rollback() if locker.in_transaction else None
    locker.close()
    assert len(Cache(tmp_path).get_many("sig", SOURCES)) == N


def test_a_write_lock_in_the_middle_of_a_run_is_busy_too(tmp_path):
    fill(tmp_path)
    cache = Cache(tmp_path, timeout=0.2)
    writer = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    assert len(cache.get_many("sig", SOURCES[:5])) == 5  # WAL: reading goes on
    with pytest.raises(CacheBusy):
        cache.put_many("sig", "translate", "m", [("x", "y", "model", None)])
    writer.rollback()
    cache.put_many("sig", "translate", "m", [("x", "y", "model", None)])
    assert not aside(tmp_path)


def test_a_busy_cache_is_one_line_and_exit_1(offline_hub, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    fill(cache_dir)
    doc = tmp_path / "doc.txt"
    doc.write_text("Le chat dort.\n", encoding="utf-8")
    monkeypatch.setenv("TK_CACHE_TIMEOUT", "0.3")
    locker = hold_lock(cache_dir)
    result = runner.invoke(app, ["translate", str(doc), "--from", "fr", "--out", str(tmp_path / "out"),
                                 "--cache-dir", str(cache_dir), "--quiet"])
    locker.close()
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tk: the cache is busy: another tk is using it")
    assert not aside(cache_dir)


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_cache_timeout_is_a_usage_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv("TK_CACHE_TIMEOUT", value)
    result = runner.invoke(app, ["cache", "stats", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2 and "TK_CACHE_TIMEOUT" in result.stderr


def test_a_full_database_is_one_line_and_keeps_the_cache(tmp_path, monkeypatch):
    """SQLite's own SQLITE_FULL (max_page_count reached), on any machine; the tmpfs test below is the real disk."""
    fill(tmp_path)
    from translate_kit import cache as cache_module

    connect = cache_module._Store._connect

    def small(self):
        db = connect(self)
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        return db

    monkeypatch.setattr(cache_module._Store, "_connect", small)
    cache = Cache(tmp_path)
    with pytest.raises(CacheError, match="the disk is full"):
        cache.put_many("sig", "translate", "m", [(f"more {i}" * 50, "t" * 500, "model", None) for i in range(2000)])
    cache.close()
    monkeypatch.undo()
    assert len(Cache(tmp_path).get_many("sig", SOURCES)) == N and not aside(tmp_path)


# --- a real full disk and a read-only file system (a tmpfs in a user namespace) ----------------


def test_a_really_full_disk_leaves_the_cache_as_it_was(tmp_path):
    result = in_namespace("""
        import json, os, subprocess, sys
        from translate_kit.cache import Cache
        from translate_kit.errors import CacheError
        folder = os.path.join(MNT, "cache")
        cache = Cache(folder)
        rows = [(f"phrase {i} " * 20, "target " * 30, "model", None) for i in range(200)]
        cache.put_many("sig", "translate", "m", rows)
        cache.close()
        filler = os.path.join(MNT, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # the disk fills up, the cache closed
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            os.close(fd)
        errors = []
        for attempt in range(2):  # opening on a full disk, then writing on it
            try:
                cache = Cache(folder)
                cache.put_many("sig", "translate", "m", [(f"more {i} " * 20, "t " * 200, "model", None) for i in range(500)])
            except CacheError as err:
                errors.append(str(err))
        cli = subprocess.run([sys.executable, "-m", "translate_kit", "cache", "clear", "--cache-dir", folder],
                             capture_output=True, text=True)
        os.unlink(filler)
        found = len(Cache(folder).get_many("sig", [r[0] for r in rows]))
        print(json.dumps({"errors": errors, "found": found, "files": sorted(os.listdir(folder)),
                          "cli": [cli.returncode, cli.stderr]}))
    """)
    assert result["errors"] and all("the disk is full" in e and "cache was left as it was" in e for e in result["errors"])
    assert result["found"] == 200
    assert not [f for f in result["files"] if ".damaged-" in f]
    code, stderr = result["cli"]
    assert code in (0, 1) and "Traceback" not in stderr and len(stderr.strip().splitlines()) <= 1


def test_a_read_only_cache_folder_is_one_line_and_untouched(offline_hub, tmp_path):
    result = in_namespace("""
        import json, os, subprocess, sys
        from translate_kit.cache import Cache
        folder = os.path.join(MNT, "cache")
        cache = Cache(folder)
        cache.put_many("sig", "translate", "m", [("a", "b", "model", None)])
        cache.close()
        before = {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)}
        subprocess.run(["mount", "-o", "remount,ro", MNT], check=True)
        doc = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"tk-ro-{os.getpid()}.txt")
        open(doc, "w").write("Le chat dort.\\n")
        runs = {}
        for name, args in {"translate": ["translate", doc, "--from", "fr", "--out", os.path.dirname(doc) + "/tk-ro-out",
                                         "--cache-dir", folder, "--quiet"],
                           "new_folder": ["translate", doc, "--from", "fr", "--out", os.path.dirname(doc) + "/tk-ro-out",
                                          "--cache-dir", os.path.join(MNT, "new"), "--quiet"],
                           "clear": ["cache", "clear", "--cache-dir", folder]}.items():
            done = subprocess.run([sys.executable, "-m", "translate_kit", *args], capture_output=True, text=True)
            runs[name] = [done.returncode, done.stderr]
        os.unlink(doc)
        after = {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)}
        print(json.dumps({"runs": runs, "same": before == after, "folder": folder}))
    """)
    assert result["same"]
    for name, (code, stderr) in result["runs"].items():
        lines = stderr.strip().splitlines()
        assert code == 1 and len(lines) == 1 and "Traceback" not in stderr, (name, stderr)
        assert os.path.dirname(result["folder"]) in lines[0], (name, lines[0])  # names the place it could not use


@pytest.mark.parametrize("command", ["translate", "summarize"])
def test_a_cache_that_turns_busy_mid_run_is_said_once(offline_hub, tmp_path, monkeypatch, command):
    """Reading goes on under another tk's write lock; the first write waits, then the run stops with
    one line (not one per document, not a note in a summary)."""
    cache_dir = tmp_path / "cache"
    Cache(cache_dir).close()
    docs = []
    for name, text in (("a.txt", "Le chat dort sur le canapé.\n"), ("b.txt", "Le chien joue dans le jardin.\n")):
        docs.append(str(tmp_path / name))
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("TK_CACHE_TIMEOUT", "0.3")
    writer = sqlite3.connect(cache_dir / DB_NAME, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    args = (["translate", *docs, "--out", str(tmp_path / "out")] if command == "translate"
            else ["summarize", *docs, "--method", "extractive"])
    result = runner.invoke(app, [*args, "--from", "fr", "--cache-dir", str(cache_dir), "--quiet"])
    writer.rollback()
    writer.close()
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tk: the cache is busy: another tk is using it"), result.stderr


def test_processes_creating_one_new_cache_at_once_all_open_it(tmp_path):
    """SQLite answers SQLITE_BUSY at once, without its busy handler, to a second process switching a
    new file to WAL while the first does (the workers of a sharded run start together on a node):
    _Store waits for it. Four processes, six fresh caches each, started at the same instant."""
    import subprocess
    import sys
    import time

    code = ("import sys, time\n"
            "from translate_kit.cache import Cache\n"
            "start, folder = float(sys.argv[1]), sys.argv[2]\n"
            "for k in range(6):\n"
            "    while time.time() < start + k * 0.3: pass\n"
            "    Cache(f'{folder}/c{k}').close()\n")
    start = time.time() + 3
    procs = [subprocess.Popen([sys.executable, "-c", code, str(start), str(tmp_path)], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors


def test_wal_switch_waits_while_sqlite_says_busy(tmp_path):
    """The same, as logic: busy twice, then the switch goes through; another error is not waited on."""
    from translate_kit.cache import ENTRIES_SCHEMA, _Store

    class Flaky:
        def __init__(self, busy: int, error: str = "database is locked"):
            self.busy, self.error, self.calls = busy, error, 0

        def execute(self, sql):
            self.calls += 1
            if self.calls <= self.busy:
                raise sqlite3.OperationalError(self.error)

    store = _Store(tmp_path / "x.sqlite3", ENTRIES_SCHEMA, timeout=5, connect=False)
    flaky = Flaky(2)
    store._wal(flaky)
    assert flaky.calls == 3
    with pytest.raises(sqlite3.OperationalError):
        store._wal(Flaky(1, "disk I/O error"))
