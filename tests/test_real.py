"""`pytest -m real`: the real models from models.lock, on a machine that can reach the Hugging Face hub.

Deselected by default (pyproject addopts `-m "not real"`); `python -m pytest -m real` runs them,
and they skip, saying why, when the hub cannot be reached (no network, HF_HUB_OFFLINE set). They
use the user's own Hugging Face cache and a temporary tk cache, and check what only real weights
can show:
  - the French sentences of tests/data/seeds-en.jsonl (each copied exactly from a seed) translated
    by tk score corpus chrF >= 45 (sacrebleu) against their hand-made English references;
  - `tk summarize 003` is English (py3langid), within its length bounds, and shares content words
    with the article's English translation;
  - `tk models lock` records 40-hex-digit commit hashes;
  - glossaries (issue 25): through the real pipeline (benchmarks/eval_terms.py --pipeline real), the
    default mode keeps >= 95% of the required terms of tests/data/terms/ (fr, de, es -> en), and the
    chrF of the rest of each sentence loses at most 1 point against the run without a glossary.
  - both quality tiers (issue 26) on the same references, the big one at least 1 chrF point above the base;
  - the model's score against sentence chrF on the same references: the correlation, reported
    (printed with -s), with the score percentiles the verdict thresholds are calibrated from.
The skipping path itself is tested offline (test_real_tests_skip_with_the_reason_when_offline).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = Path(__file__).parent / "data" / "seeds-en.jsonl"
CHRF_FLOOR = 45.0


def hub_unreachable() -> str | None:
    """Why the hub cannot be used from here, or None when it answers."""
    from translate_kit import models
    from translate_kit.models import hub

    if models.offline():
        return "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set"
    url = hub.endpoint()
    match = re.match(r"https?://([^/:]+)(?::(\d+))?", url)
    if not match:
        return f"HF_ENDPOINT {url!r} is no http(s) URL"
    port = int(match.group(2) or (443 if url.startswith("https") else 80))
    try:
        socket.create_connection((match.group(1), port), timeout=5).close()
    except OSError as err:
        return f"the Hugging Face hub ({url}) cannot be reached: {err}"
    return None


@pytest.fixture(scope="module")
def online():
    reason = hub_unreachable()
    if reason:
        pytest.skip(f"needs the Hugging Face hub: {reason}")


@pytest.fixture(scope="module")
def tk_env(online, tmp_path_factory):
    """The user's Hugging Face cache, a fresh tk cache and lock copy; the models pulled once."""
    folder = tmp_path_factory.mktemp("real")
    lock = folder / "models.lock"
    shutil.copyfile(ROOT / "models.lock", lock)
    env = {**os.environ, "TK_CACHE_DIR": str(folder / "cache"), "TK_MODELS_LOCK": str(lock)}
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(key, None)
    done = tk(env, "models", "pull", "fr-en", "en-fr", "de-en", "es-en", "summarizer", "fr-en.big")
    assert done.returncode == 0, done.stderr
    return env, folder


def tk(env, *args):
    return subprocess.run([sys.executable, "-m", "translate_kit", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=3600)


def references_chrf(env, folder: Path, out: str, *flags: str) -> float:
    """Corpus chrF of tk's translation of the French reference sentences (one paragraph each)."""
    import sacrebleu

    rows = [json.loads(line) for line in REFERENCES.read_text(encoding="utf-8").splitlines() if line.strip()]
    source = folder / "references.fr.txt"
    source.write_text("\n\n".join(r["source"] for r in rows) + "\n", encoding="utf-8")
    done = tk(env, "translate", str(source), "--from", "fr", "--to", "en", "--out", str(folder / out), "-q",
              "--format", "jsonl", *flags)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (folder / out / "references.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    by_para: dict[int, list[str]] = {}
    for r in records:
        if r["kind"] != "meta":
            by_para.setdefault(r["para"], []).append(r["target"])
    hypotheses = [" ".join(by_para[p]) for p in sorted(by_para)]
    assert len(hypotheses) == len(rows)
    return sacrebleu.corpus_chrf(hypotheses, [[r["reference"] for r in rows]]).score


@pytest.mark.real
def test_translations_score_chrf(tk_env):
    env, folder = tk_env
    chrf = references_chrf(env, folder, "out")
    assert chrf >= CHRF_FLOOR, chrf


@pytest.mark.real
def test_big_tier_beats_the_base_tier(tk_env):
    """Issue 26: both tiers on the same references, each with its corpus chrF (printed with -s);
    the big tier at least 1 chrF point above the base (the published FLORES figures say ~2.5)."""
    env, folder = tk_env
    base = references_chrf(env, folder, "out-fast", "--quality", "fast")
    big = references_chrf(env, folder, "out-best", "--quality", "best")
    print(f"references chrF: base tier {base:.2f}, big tier {big:.2f}")
    assert base >= CHRF_FLOOR and big >= base + 1.0, (base, big)


def ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share theirs), for Spearman's correlation."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


@pytest.mark.real
def test_model_score_against_sentence_chrf_is_reported(tk_env):
    """Calibration figures for checks/verdict.py: every reference sentence of tests/data/seeds-en.jsonl
    translated by the real fr-en model, its model score (the lowest of its segments') against its
    sentence chrF; prints Pearson's and Spearman's correlation and the score percentiles that
    SCORE_FLOOR and SCORE_GAP are set from (docs/usage.md, "Which sentences to check")."""
    import statistics

    import sacrebleu

    env, folder = tk_env
    rows = [json.loads(line) for line in REFERENCES.read_text(encoding="utf-8").splitlines() if line.strip()]
    source = folder / "calibration.fr.txt"
    source.write_text("\n\n".join(r["source"] for r in rows) + "\n", encoding="utf-8")
    done = tk(env, "translate", str(source), "--from", "fr", "--to", "en", "--out", str(folder / "calibration"), "-q",
              "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (folder / "calibration" / "calibration.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    text = [r for r in records if r["kind"] == "text"]
    assert text and all(isinstance(r["score"], float) and r["score"] <= 0 for r in text)
    by_para: dict[int, list[dict]] = {}
    for r in text:
        by_para.setdefault(r["para"], []).append(r)
    assert len(by_para) == len(rows)
    scores = [min(r["score"] for r in by_para[p]) for p in sorted(by_para)]
    chrf = [sacrebleu.sentence_chrf(" ".join(r["target"] for r in by_para[p]), [row["reference"]]).score
            for p, row in zip(sorted(by_para), rows)]
    pearson = statistics.correlation(scores, chrf)
    spearman = statistics.correlation(ranks(scores), ranks(chrf))
    cuts = statistics.quantiles(scores, n=20)
    print(f"\nmodel score vs sentence chrF over {len(rows)} sentences: Pearson {pearson:.3f}, Spearman {spearman:.3f}; "
          f"scores: median {statistics.median(scores):.3f}, 5th percentile {cuts[0]:.3f}, min {min(scores):.3f}")
    assert -1 <= pearson <= 1 and -1 <= spearman <= 1


@pytest.mark.real
def test_summary_is_english_bounded_and_on_topic(tk_env):
    import py3langid
    from transformers import AutoTokenizer

    env, folder = tk_env
    seed = str(ROOT / "seeds" / "003_9c30f3eff2624f5c.txt")
    done = tk(env, "summarize", seed, "--json", "-q")
    assert done.returncode == 0, done.stderr
    (doc,) = json.loads(done.stdout)["documents"]
    english = " ".join(s["en"] for s in doc["sentences"])
    assert english and py3langid.classify(english)[0] == "en"
    tokenizer = AutoTokenizer.from_pretrained("sshleifer/distilbart-cnn-12-6")
    assert 0 < len(tokenizer(english)["input_ids"]) <= doc["max_length"] + 2
    translated = tk(env, "translate", seed, "--to", "en", "--out", str(folder / "003"), "-q", "--format", "txt")
    assert translated.returncode == 0, translated.stderr
    article = (folder / "003" / "003_9c30f3eff2624f5c.fr-en.txt").read_text(encoding="utf-8")
    words = lambda text: {w.lower() for w in re.findall(r"[A-Za-z]{5,}", text)}  # noqa: E731
    assert len(words(english) & words(article)) >= 3


@pytest.mark.real
def test_models_lock_records_commit_hashes(tk_env):
    env, folder = tk_env
    done = tk(env, "models", "lock", "fr-en", "summarizer")
    assert done.returncode == 0, done.stderr
    import tomllib

    entries = tomllib.loads(Path(env["TK_MODELS_LOCK"]).read_text(encoding="utf-8"))["models"]
    for name in ("fr-en", "summarizer"):
        assert re.fullmatch(r"[0-9a-f]{40}", entries[name]["commit"]), entries[name]
        assert entries[name]["files"]


ADHERENCE_FLOOR, CHRF_LOSS_CEILING = 0.95, 1.0


@pytest.mark.real
def test_glossary_terms_kept_without_damaging_the_rest(tk_env):
    from translate_kit.options import DEFAULT_GLOSSARY_MODE

    env, folder = tk_env
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "eval_terms.py"), "--pipeline", "real",
                           "--mechanisms", DEFAULT_GLOSSARY_MODE, "--no-save", "--json"],
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=7200)
    assert done.returncode == 0, done.stderr
    rows = [r for r in json.loads(done.stdout.splitlines()[-1]) if r["mechanism"] == DEFAULT_GLOSSARY_MODE]
    assert {r["lang"] for r in rows} == {"fr", "de", "es"}, rows
    for r in rows:
        assert r["adherence"] >= ADHERENCE_FLOOR, r
        assert r["chrf_rest_delta"] >= -CHRF_LOSS_CEILING, r


def test_real_tests_skip_with_the_reason_when_offline(tmp_path):
    """The path CI takes here: `pytest -m real` with no hub skips every real test, with its reason."""
    with socket.socket() as s:  # a port nothing listens on: the hub "cannot be reached"
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    env.pop("HF_HUB_OFFLINE", None)
    command = [sys.executable, "-m", "pytest", "-q", "-m", "real", "-rs", "-p", "no:cacheprovider", __file__]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 skipped" in done.stdout and "2 deselected" in done.stdout
    assert f"needs the Hugging Face hub: the Hugging Face hub (http://127.0.0.1:{port}) cannot be reached" in done.stdout
    offline = subprocess.run(command, capture_output=True, text=True, env={**env, "HF_HUB_OFFLINE": "1"},
                             cwd=tmp_path, timeout=600)
    assert "6 skipped" in offline.stdout and "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set" in offline.stdout


def test_real_tests_are_deselected_by_default():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", __file__],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert "6 deselected" in done.stdout, done.stdout
