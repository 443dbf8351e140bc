"""A cache written before the model-side refactor (issue 23) still answers every segment.

tests/data/cache-v2/ was written by the code of commit c80b2a4 (`tk translate seeds
--backend ct2|torch` with the test hub's copy model); outputs.sha256.json holds the
sha256 of every md/jsonl/txt file that run wrote.  Opening that cache with today's code
must give the same signatures (zero model calls) and the same outputs: txt byte for byte,
jsonl byte for byte once the keys issue 24 added to every record (`score`, `checks`, `verdict`) are
taken out again. md is left out: issue 24 gave it a verdict column and a "To check" header on purpose
(with the copy model every sentence reads as French, so every row has one).
The cache file itself is format 1 (no score column): opening it upgrades it in place
(cache._upgrade), and its entries answer with no score.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cli import app

REPO = Path(__file__).parents[1]
DATA = REPO / "tests" / "data" / "cache-v2"


@pytest.mark.parametrize("backend", ["ct2", "torch"])
def test_old_cache_gives_hits_and_same_outputs(offline_hub, tmp_path, spy, monkeypatch, backend):
    cache_dir = tmp_path / "tk-cache"
    cache_dir.mkdir(exist_ok=True)
    shutil.copy(DATA / "translations.sqlite3", cache_dir / "translations.sqlite3")
    monkeypatch.chdir(REPO)  # the md header names the source as given: seeds/...
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["translate", "seeds", "--out", str(out), "--backend", backend,
                                      "--format", "md,jsonl,txt", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    assert spy == []  # every segment came from the old cache
    report = json.loads(result.stdout)
    assert sum(d["translated"] for d in report["documents"]) == 0
    expected = {k.split("/", 1)[1]: v for k, v in json.loads((DATA / "outputs.sha256.json").read_text()).items()
                if k.startswith(backend + "/")}
    got = {p.name: hashlib.sha256(_as_before(p)).hexdigest() for p in sorted(out.iterdir())}
    assert {k: v for k, v in got.items() if not k.endswith(".md")} == {k: v for k, v in expected.items() if not k.endswith(".md")}
    assert sorted(got) == sorted(expected)
    records = [json.loads(line) for p in out.glob("*.jsonl") for line in p.read_text(encoding="utf-8").splitlines()]
    text = [r for r in records if r["kind"] == "text"]
    assert text and all(r["score"] is None and r["verdict"] in ("ok", "check", "doubt") for r in text)


NEW_KEYS = ("score", "checks", "verdict")  # issue 24, at the end of every record


def _as_before(path: Path) -> bytes:
    if path.suffix != ".jsonl":
        return path.read_bytes()
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return "".join(json.dumps({k: v for k, v in r.items() if k not in NEW_KEYS}, ensure_ascii=False) + "\n"
                   for r in records).encode("utf-8")
