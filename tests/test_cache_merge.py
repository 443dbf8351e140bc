"""`tk cache merge OTHER...`: other caches' entries, languages and reviews into this one (no models,
no Ray). Content keys make it a union; the same key with another value is counted, never
overwritten; a file that cannot be merged is one line naming it, and the others are still merged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cache import DB_NAME, Cache, entry_rows, merge_file
from translate_kit.cli import app
from translate_kit.errors import CacheFileError

runner = CliRunner()
SIG = "sig-a"


def make_cache(folder: Path, pairs: dict[str, str], languages: dict[str, str] | None = None,
               reviews: list[tuple[str, str]] | None = None) -> Path:
    cache = Cache(folder)
    cache.put_many(SIG, "translate", "org/model", [(s, t, "model", None) for s, t in pairs.items()])
    for key, lang in (languages or {}).items():
        cache.put_language(key, lang)
    if reviews:
        cache.put_overrides("fr", "en", [(s, t, "doc") for s, t in reviews])
    cache.close()
    return folder


def entries(folder: Path) -> int:
    cache = Cache(folder)
    try:
        return cache.stats()["entries"]
    finally:
        cache.close()


def merge(*args: str | Path, cache: Path):
    return runner.invoke(app, ["cache", "merge", *map(str, args), "--cache-dir", str(cache)])


def lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("tk:")]


def test_merge_is_a_union_and_counts_what_was_already_there(tmp_path):
    mine = make_cache(tmp_path / "mine", {"Un.": "One.", "Deux.": "Two."}, {"k1": "fr"})
    node = make_cache(tmp_path / "node", {"Deux.": "Two.", "Trois.": "Three."}, {"k1": "fr", "k2": "de"},
                      reviews=[("Trois.", "THREE (reviewed).")])
    result = merge(node, cache=mine)
    assert result.exit_code == 0, result.output
    cache = Cache(mine)
    found = cache.get_many(SIG, ["Un.", "Deux.", "Trois."])
    assert {s: t for s, (t, *_) in found.items()} == {"Un.": "One.", "Deux.": "Two.", "Trois.": "Three."}
    assert cache.get_language("k2") == "de"
    assert cache.get_overrides("fr", "en", ["Trois."]) == {"Trois.": "THREE (reviewed)."}
    cache.close()
    said = " ".join(lines(result))
    assert "1 entry added, 1 already here" in said and "1 language added, 1 already here" in said
    assert "1 review added" in said

    again = merge(node, cache=mine)  # nothing new the second time
    assert again.exit_code == 0 and "0 entries added, 2 already here" in " ".join(lines(again))


def test_the_same_key_with_another_translation_keeps_this_caches_and_says_so(tmp_path):
    mine = make_cache(tmp_path / "mine", {"Un.": "One."})
    other = make_cache(tmp_path / "other", {"Un.": "A different one."})
    result = runner.invoke(app, ["cache", "merge", str(other), "--cache-dir", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    entries = report["files"][0]["entries"]
    assert entries == {"added": 0, "present": 0, "conflicts": 1, "skipped": 0}
    cache = Cache(mine)
    assert cache.get_many(SIG, ["Un."]) == {"Un.": ("One.", "model", None, None)}
    cache.close()


def test_rows_whose_key_is_not_their_content_are_skipped(tmp_path):
    mine = make_cache(tmp_path / "mine", {})
    cache = Cache(mine)
    good = entry_rows(SIG, "translate", "m", [("Bon.", "Good.", "model", None)])
    forged = [("0" * 64, *entry_rows(SIG, "translate", "m", [("Faux.", "Fake.", "model", None)])[0][1:])]
    merged = cache.merge("entries", good + forged + [("too", "short")])
    assert (merged.added, merged.skipped) == (1, 2)
    assert cache.get_many(SIG, ["Bon.", "Faux."]) == {"Bon.": ("Good.", "model", None, None)}
    cache.close()


def test_a_bad_file_is_one_line_naming_it_and_the_others_are_still_merged(tmp_path):
    mine = make_cache(tmp_path / "mine", {})
    good = make_cache(tmp_path / "good", {"Un.": "One."})
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_bytes(b"these are my notes, not a database" * 100)
    foreign = tmp_path / "foreign.sqlite3"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE people (name TEXT)")
    db.commit()
    db.close()
    missing = tmp_path / "nowhere"
    result = merge(not_sqlite, missing, foreign, good, cache=mine)
    assert result.exit_code == 1
    said = lines(result)
    assert len(said) == 4, said
    assert str(not_sqlite) in said[0] and "not an SQLite database" in said[0]
    assert str(missing) in said[1] and "no such file" in said[1]
    assert str(foreign) in said[2] and "not a tk cache" in said[2]
    assert "1 entry added" in said[3]
    assert "Traceback" not in result.output
    cache = Cache(mine)
    assert cache.get_many(SIG, ["Un."])  # the good one was merged all the same
    cache.close()


def test_a_damaged_cache_file_is_refused_before_anything_is_merged(tmp_path):
    mine = make_cache(tmp_path / "mine", {})
    node = make_cache(tmp_path / "node", {f"Phrase {i}.": f"Sentence {i}." * 20 for i in range(400)})
    path = node / DB_NAME
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page: 5 * page] = b"\x7f" * (2 * page)  # two pages of the table overwritten
    path.write_bytes(bytes(data))
    cache = Cache(mine)
    with pytest.raises(CacheFileError, match="damaged"):
        merge_file(cache, path)
    cache.close()
    result = merge(path, cache=mine)
    assert result.exit_code == 1 and len(lines(result)) == 1
    assert str(path) in lines(result)[0] and "tk cache check --repair" in lines(result)[0]
    assert entries(mine) == 0


def test_another_schema_or_a_newer_format_is_one_clear_line(tmp_path):
    mine = make_cache(tmp_path / "mine", {})
    other_schema = tmp_path / "old.sqlite3"
    db = sqlite3.connect(other_schema)
    db.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, source TEXT, target TEXT)")
    db.commit()
    db.close()
    newer = make_cache(tmp_path / "newer", {"Un.": "One."}) / DB_NAME
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    result = merge(other_schema, newer, cache=mine)
    assert result.exit_code == 1
    said = lines(result)
    assert len(said) == 2, said
    assert str(other_schema) in said[0] and "another cache schema" in said[0] and "key, source, target" in said[0]
    assert str(newer) in said[1] and "newer tk (cache format 99" in said[1]


def test_merging_the_cache_into_itself_changes_nothing(tmp_path):
    mine = make_cache(tmp_path / "mine", {"Un.": "One."})
    result = merge(mine, cache=mine)
    assert result.exit_code == 1 and "this cache's own file" in lines(result)[0]
    assert entries(mine) == 1


def test_merge_reads_a_format_1_file_and_carries_scores_across(tmp_path):
    """A file written before scores (no score column) merges with NULL scores; a file with scores
    gives them to the same entries here that have none (never a conflict), and new entries keep theirs."""
    from test_cache import old_cache

    old_cache(tmp_path / "old", [("Un.", "One.")])
    cache = Cache(tmp_path / "mine")
    merged = merge_file(cache, tmp_path / "old" / DB_NAME)["entries"]
    assert merged.as_dict() == {"added": 1, "present": 0, "conflicts": 0, "skipped": 0}
    assert cache.get_many("sig", ["Un."]) == {"Un.": ("One.", "model", None, None)}
    scored = Cache(tmp_path / "scored")
    scored.put_many("sig", "translate", "m@1", [("Un.", "One.", "model", None, -0.4), ("Deux.", "Two.", "model", None, -0.7)])
    scored.close()
    merged = merge_file(cache, tmp_path / "scored" / DB_NAME)["entries"]
    assert merged.as_dict() == {"added": 1, "present": 1, "conflicts": 0, "skipped": 0}
    assert cache.get_many("sig", ["Un.", "Deux."]) == {"Un.": ("One.", "model", None, -0.4), "Deux.": ("Two.", "model", None, -0.7)}
