"""The SQLite cache on its own: lookups, transactions, damage, several processes at once."""

import logging
import multiprocessing
import sqlite3

from translate_kit.cache import DB_NAME, Cache


def test_put_then_get_many(tmp_path):
    cache = Cache(tmp_path)
    cache.put_many("sig", "translate", "m@1", [("Bonjour.", "Hello.", "model", None), ("Oui.", "Yes.", "model", "length")])
    found = cache.get_many("sig", ["Bonjour.", "Oui.", "Non."])
    assert found == {"Bonjour.": ("Hello.", "model", None, None), "Oui.": ("Yes.", "model", "length", None)}
    assert cache.get_many("other-signature", ["Bonjour."]) == {}


def test_lookup_of_many_sources_in_chunks(tmp_path):
    cache = Cache(tmp_path)
    rows = [(f"s{i}", f"t{i}", "model", None) for i in range(1234)]
    cache.put_many("sig", "translate", "m", rows)
    found = cache.get_many("sig", [f"s{i}" for i in range(1300)])
    assert len(found) == 1234 and found["s1233"][0] == "t1233"


def test_stats_and_clear_by_model(tmp_path):
    cache = Cache(tmp_path)
    cache.put_many("a", "translate", "Helsinki-NLP/opus-mt-fr-en@main", [("x", "y", "model", None)])
    cache.put_many("b", "summarize", "sshleifer/distilbart-cnn-12-6@main", [("x", "z", "model", None), ("u", "v", "model", None)])
    stats = cache.stats()
    assert stats["entries"] == 3 and stats["bytes"] > 0
    assert {(m["model"], m["entries"]) for m in stats["models"]} == {
        ("Helsinki-NLP/opus-mt-fr-en@main", 1), ("sshleifer/distilbart-cnn-12-6@main", 2)}
    assert cache.clear("Helsinki-NLP/opus-mt-fr-en") == 1
    assert cache.stats()["entries"] == 2


def test_damaged_file_is_moved_aside(tmp_path, caplog):
    (tmp_path / DB_NAME).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="translate_kit"):
        cache = Cache(tmp_path)
    cache.put_many("sig", "translate", "m", [("a", "b", "model", None)])
    assert cache.get_many("sig", ["a"])["a"][0] == "b"
    aside = list(tmp_path.glob(f"{DB_NAME}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert "damaged" in caplog.text


def test_truncated_database_is_moved_aside(tmp_path):
    Cache(tmp_path).put_many("sig", "translate", "m", [(f"s{i}", "t", "model", None) for i in range(2000)])
    path = tmp_path / DB_NAME
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    path.write_bytes(path.read_bytes()[:100])
    cache = Cache(tmp_path)
    assert list(tmp_path.glob(f"{DB_NAME}.damaged-*"))
    assert cache.get_many("sig", ["s1"]) == {}
    cache.put_many("sig", "translate", "m", [("s1", "t", "model", None)])
    assert cache.get_many("sig", ["s1"])


def _writer(folder, worker, n):
    cache = Cache(folder)
    for batch in range(n):
        rows = [(f"w{worker}-b{batch}-{i}", "t", "model", None) for i in range(50)]
        cache.put_many("sig", "translate", "m", rows)
        cache.get_many("sig", [r[0] for r in rows])


def test_two_processes_write_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, w, 40)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 2 * 40 * 50


OLD_ENTRIES = """CREATE TABLE entries (key TEXT PRIMARY KEY, signature TEXT NOT NULL, task TEXT NOT NULL,
    model TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'model',
    flag TEXT, created REAL NOT NULL)"""


def old_cache(folder, items) -> None:
    """A translations file as a tk of cache format 1 wrote it (no score column)."""
    from translate_kit.cache import entry_key

    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / DB_NAME)
    db.execute(OLD_ENTRIES)
    db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)",
                   [(entry_key("sig", s), "sig", "translate", "m@1", s, t, "model", None, 1.0) for s, t in items])
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_a_format_1_file_is_upgraded_and_its_entries_answer_with_no_score(tmp_path):
    old_cache(tmp_path, [("Bonjour.", "Hello.")])
    cache = Cache(tmp_path)
    assert cache.get_many("sig", ["Bonjour."]) == {"Bonjour.": ("Hello.", "model", None, None)}
    assert [r[1] for r in cache.db.execute("PRAGMA table_info(entries)")][-1] == "score"
    assert cache.db.execute("PRAGMA user_version").fetchone()[0] == 2
    cache.put_many("sig", "translate", "m@1", [("Oui.", "Yes.", "model", None, -0.25)])
    assert cache.get_many("sig", ["Oui."])["Oui."] == ("Yes.", "model", None, -0.25)
    cache.close()
    assert Cache(tmp_path).get_many("sig", ["Bonjour.", "Oui."])["Bonjour."][3] is None  # opened again: as it was


def test_the_score_is_kept_beside_the_target_and_is_no_part_of_the_key(tmp_path):
    cache = Cache(tmp_path)
    cache.put_many("sig", "translate", "m", [("Un.", "One.", "model", None, -0.5)])
    cache.put_many("sig", "translate", "m", [("Un.", "One.", "model", None)])  # the same key: replaced, not added
    assert cache.get_many("sig", ["Un."]) == {"Un.": ("One.", "model", None, None)}
    assert cache.db.execute("SELECT count(*) FROM entries").fetchone()[0] == 1
