"""Small CLI commands: tk ls, tk cache stats / clear, and their exit codes."""

import json
from pathlib import Path

from typer.testing import CliRunner

from translate_kit.cli import app

SEEDS = Path(__file__).parents[1] / "seeds"
runner = CliRunner()


def test_ls_lists_the_corpus():
    result = runner.invoke(app, ["ls", "--corpus", str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"][:3] for r in rows] == ["000", "001", "002", "003", "004"]
    assert {r["lang"] for r in rows} == {"fr"}
    assert [r["date"] for r in rows] == [None, "2024-06", None, None, "2024-02"]
    assert [r["sentences"] for r in rows] == [20, 14, 26, 48, 17]  # as tests/test_segment.py::test_seed_sentence_counts
    assert rows[3]["characters"] == len((SEEDS / "003_9c30f3eff2624f5c.txt").read_text(encoding="utf-8"))
    table = runner.invoke(app, ["ls", "--corpus", str(SEEDS)]).stdout
    assert "001_61284d4cebeaa770" in table and "2024-06" in table


def test_ls_missing_corpus_is_one_line(tmp_path):
    result = runner.invoke(app, ["ls", "--corpus", str(tmp_path / "none")])
    assert result.exit_code == 1 and "does not exist" in result.stderr and "Traceback" not in result.output


def test_cache_stats_and_clear(offline_hub, tmp_path):
    cache_dir = tmp_path / "c"
    out = tmp_path / "out"
    assert runner.invoke(app, ["translate", "004", "--out", str(out), "-q", "--cache-dir", str(cache_dir)]).exit_code == 0
    stats = json.loads(runner.invoke(app, ["cache", "stats", "--cache-dir", str(cache_dir), "--json"]).stdout)
    assert stats["entries"] == 17 and stats["bytes"] > 0  # seed 004's sentences (test_segment.py)
    assert [m["model"].split("@")[0] for m in stats["models"]] == ["Helsinki-NLP/opus-mt-fr-en"]
    result = runner.invoke(app, ["cache", "clear", "--model", "Helsinki-NLP/opus-mt-en-fr", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0 and "removed 0" in result.stderr
    result = runner.invoke(app, ["cache", "clear", "--model", "Helsinki-NLP/opus-mt-fr-en", "--cache-dir", str(cache_dir)])
    assert "removed 17" in result.stderr
    assert json.loads(runner.invoke(app, ["cache", "stats", "--cache-dir", str(cache_dir), "--json"]).stdout)["entries"] == 0
