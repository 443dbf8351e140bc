"""The cache in real runs: instant re-runs, edits re-translate only themselves, resume after a kill."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from translate_kit.cache import DB_NAME
from translate_kit.cli import app

SEEDS = Path(__file__).parents[1] / "seeds"
runner = CliRunner()


def run_json(*args) -> dict:
    result = runner.invoke(app, ["translate", *args, "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def totals(report: dict, key: str) -> int:
    return sum(d[key] for d in report["documents"])


def test_rerun_edit_and_option_change(offline_hub, tmp_path, spy):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    out = str(tmp_path / "out")

    first = run_json(str(corpus), "--out", out)
    calls_first = len(spy)
    assert calls_first > 0 and totals(first, "cached") == 0

    second = run_json(str(corpus), "--out", out)
    assert len(spy) == calls_first  # zero generate() calls
    assert totals(second, "translated") == 0
    assert totals(second, "cached") == totals(first, "translated")

    # edit one sentence of one paragraph of one article
    path = corpus / "000_ae0e0f836b3a6ef8.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Il a fait valoir que", "Il a soutenu avec force que"), encoding="utf-8")
    spy.clear()
    third = run_json(str(corpus), "--out", out)
    sent = [n for _, lengths in spy for n in lengths]
    assert len(sent) == 1  # only the changed sentence went to the model
    doc = third["documents"][0]
    assert doc["translated"] == 1 and doc["cached"] == doc["segments"] - doc["copied"] - doc["duplicates"] - 1

    spy.clear()
    fourth = run_json(str(corpus), "--out", out, "--beams", "1")  # a decoding option: all misses
    assert totals(fourth, "cached") == 0 and totals(fourth, "translated") == totals(first, "translated")


def test_no_cache_flag_and_cache_dir(offline_hub, tmp_path, spy):
    out = str(tmp_path / "out")
    run_json("003", "--out", out, "--no-cache")
    run_json("003", "--out", out, "--no-cache")
    assert not (Path(os.environ["TK_CACHE_DIR"]) / DB_NAME).exists()
    other = tmp_path / "elsewhere"
    run_json("003", "--out", out, "--cache-dir", str(other))
    assert (other / DB_NAME).exists()
    report = run_json("003", "--out", out, "--cache-dir", str(other))
    assert totals(report, "translated") == 0


def tk_process(args, env):
    return subprocess.Popen([sys.executable, "-m", "translate_kit", "translate", *args, "--quiet", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def cached_rows(cache_dir: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{cache_dir / DB_NAME}?mode=ro", uri=True, timeout=5)
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_from_cache(offline_hub, tmp_path):
    env = os.environ.copy()
    cache_dir = Path(env["TK_CACHE_DIR"])
    args = [str(SEEDS), "--out", str(tmp_path / "out"), "--batch-tokens", "200", "--beams", "1"]
    proc = tk_process(args, env)
    deadline = time.time() + 240
    while cached_rows(cache_dir) < 10 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make batches smaller"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = cached_rows(cache_dir)
    assert committed >= 10

    proc = tk_process(args, env)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    report = json.loads(stdout)
    assert totals(report, "cached") == committed
    assert totals(report, "cached") + totals(report, "translated") == cached_rows(cache_dir)


def test_two_processes_on_one_cache(offline_hub, tmp_path):
    env = os.environ.copy()
    procs = [tk_process([str(SEEDS), "--out", str(tmp_path / f"out{i}"), "--batch-tokens", "400"], env) for i in range(2)]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=400)
        assert proc.returncode == 0, stderr
        assert "locked" not in stderr
        assert len(json.loads(stdout)["documents"]) == 5


def test_cached_rerun_loads_no_model(offline_hub, tmp_path, monkeypatch):
    """Everything cached: the model and its tokenizer are never loaded (a re-run is start-up only)."""
    from translate_kit.runtime import ct2
    from translate_kit.runtime import torch as models

    out = str(tmp_path / "out")
    first = run_json(str(SEEDS), "--out", out)
    loads = []
    for module in (ct2, models):
        original = module.load
        monkeypatch.setattr(module, "load", lambda *a, _o=original, **k: loads.append(a[0]) or _o(*a, **k))
    again = run_json(str(SEEDS), "--out", out)
    assert loads == [] and totals(again, "cached") == totals(first, "translated")
    path = tmp_path / "edited.txt"
    path.write_text("Une phrase toute nouvelle ici.", encoding="utf-8")
    run_json(str(path), "--out", out)
    assert len(loads) == 1  # a miss loads the model, once


def test_detected_language_is_remembered(offline_hub, tmp_path, monkeypatch):
    from translate_kit import language

    out = str(tmp_path / "out")
    calls = []
    original = language.detect_language
    monkeypatch.setattr(language, "detect_language", lambda text: calls.append(1) or original(text))
    assert {d["src_lang"] for d in run_json(str(SEEDS), "--out", out)["documents"]} == {"fr"}
    assert len(calls) == 5
    assert {d["src_lang"] for d in run_json(str(SEEDS), "--out", out)["documents"]} == {"fr"}
    assert len(calls) == 5  # the re-run asked the cache, not the detector
