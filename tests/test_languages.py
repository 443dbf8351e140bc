"""Routing documents to models by language: detection, direct pairs, pass-through, pivot through English.

All offline (HF_HUB_OFFLINE=1) against the test hub: fr-en, en-fr and de-en are the tiny COPY
model, so a translation resembles its source and alignment stays checkable through a pivot.
"""

import difflib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cache import Cache, NoCache
from translate_kit.cli import app
from translate_kit.runtime.torch import TorchEngine as Engine
from translate_kit.translate import PivotTranslator, Progress, Translators

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).parents[1] / "seeds"
DE_SAMPLE, EN_SAMPLE = FIXTURES / "de_sample.txt", FIXTURES / "en_sample.txt"
FR_TEXT = ("Le gouvernement a présenté mardi son projet de loi sur l'énergie. Les députés l'examineront "
           "dès la semaine prochaine.\n\nSelon le ministre, la réforme doit réduire les factures des ménages.\n")
FR_EN, EN_FR, DE_EN = (f"Helsinki-NLP/opus-mt-{p}" for p in ("fr-en", "en-fr", "de-en"))
runner = CliRunner()
# Greedy, no anti-repetition retry: routing is under test here, and 4 beams are slow on 2 shared cores.
QUICK = DecodeOptions(beams=1, repetition_retry=False, backend="torch")  # torch: where the spy listens


@pytest.fixture
def spy(monkeypatch):
    """Every generate() call at the torch engine boundary: (model repo, input token counts)."""
    monkeypatch.setenv("TK_BACKEND", "torch")  # the spy sits on the torch Engine
    calls = []
    original = Engine.generate

    def recording(self, texts, **kw):
        calls.append((self.loaded.ref.repo, self.count_tokens(texts)))
        return original(self, texts, **kw)

    monkeypatch.setattr(Engine, "generate", recording)
    return calls


@pytest.fixture
def fr_sample(tmp_path) -> Path:
    path = tmp_path / "fr_sample.txt"
    path.write_text(FR_TEXT, encoding="utf-8")
    return path


def run_one(path: Path, tgt: str, tmp_path: Path, **kw):
    """One document through translate(), decoded QUICK."""
    run = RunOptions(cache_dir=tmp_path / "cache")
    (result,) = translate(load_documents([str(path)], tmp_path), tgt, run=run, decode=QUICK, **kw)
    return result


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


@pytest.mark.parametrize("sample, lang, repo", [("de", "de", DE_EN), ("fr", "fr", FR_EN)])
def test_detected_language_routes_to_its_pair(offline_hub, tmp_path, spy, fr_sample, sample, lang, repo):
    result = run_one(DE_SAMPLE if sample == "de" else fr_sample, "en", tmp_path)
    assert result.error is None
    assert result.src_lang == lang
    assert result.model == f"{repo}@main (not locked)" and not result.locked and result.pivot is None  # the repo's lock
    assert result.revision == offline_hub.shas[repo]
    assert spy and {r for r, _ in spy} == {repo}


def test_from_forces_the_source_language(offline_hub, tmp_path, spy, fr_sample):
    result = run_one(fr_sample, "en", tmp_path, src="de")
    assert result.src_lang == "de" and result.model.startswith(DE_EN)
    assert {r for r, _ in spy} == {DE_EN}


def test_document_in_target_language_passes_through(offline_hub, tmp_path, spy):
    result = run_one(EN_SAMPLE, "en", tmp_path)
    assert result.error is None and result.src_lang == "en"
    assert "passed through" in result.note
    text = [s for s in result.segments if s.kind == "text"]
    assert text and all(s.origin == "passthrough" and s.target == s.text for s in text)
    assert result.model == "" and spy == []  # no model loaded, nothing generated


def test_pair_without_model_pivots_through_english(offline_hub, tmp_path, spy):
    result = run_one(DE_SAMPLE, "fr", tmp_path)
    assert result.error is None and (result.src_lang, result.tgt_lang) == ("de", "fr")
    assert result.pivot == "en"
    assert result.model == f"{DE_EN}@main + {EN_FR}@main (pivot via en, not locked)"  # the repo's lock records no commits
    assert result.revision == f"{offline_hub.shas[DE_EN]} + {offline_hub.shas[EN_FR]}"
    assert [r for r, _ in spy][0] == DE_EN and [r for r, _ in spy][-1] == EN_FR
    text = [s for s in result.segments if s.kind == "text"]
    assert all(s.target and s.origin == "model" for s in text)
    # copy models on both legs: each target still resembles its own source
    sources = [s.text for s in text]
    best = [max(range(len(sources)), key=lambda j: similarity(s.target, sources[j])) for s in text]
    assert sum(i == j for i, j in enumerate(best)) >= 0.8 * len(text)


def test_pivot_is_reported_in_header_and_json(offline_hub, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(DE_SAMPLE), "--to", "fr", "--out", str(out), "-q", "--json",
                                 "--format", "md", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["pivot"] == "en" and doc["locked"] is False and "(pivot via en, not locked)" in doc["model"]
    header = (out / f"{doc['id']}.de-fr.md").read_text(encoding="utf-8").split("|")[0]
    assert "pivot via en" in header and DE_EN in header and EN_FR in header


def test_pivot_legs_are_cached_separately(offline_hub, tmp_path, spy):
    first = run_one(DE_SAMPLE, "fr", tmp_path)
    calls = len(spy)
    again = run_one(DE_SAMPLE, "fr", tmp_path)
    assert len(spy) == calls  # both legs answered from the cache
    assert [s.target for s in again.segments] == [s.target for s in first.segments]
    assert {s.origin for s in again.segments if s.kind == "text"} == {"cache"}
    direct = run_one(DE_SAMPLE, "en", tmp_path)  # the de->en leg is the direct de-en model's cache too
    assert len(spy) == calls and {s.origin for s in direct.segments if s.kind == "text"} == {"cache"}


def test_reviewed_translations_of_the_pair_win_over_the_pivot(offline_hub, tmp_path, spy):
    source = DE_SAMPLE.read_text(encoding="utf-8").split(". ")[0] + "."
    cache = Cache(tmp_path / "cache")
    cache.put_overrides("de", "fr", [(source, "Traduction relue.", "de_sample")])
    cache.close()
    result = run_one(DE_SAMPLE, "fr", tmp_path)
    (first,) = [s for s in result.segments if s.text == source]
    assert (first.target, first.origin) == ("Traduction relue.", "review") and result.pivot == "en"
    others = len({s.text for s in result.segments if s.kind == "text"}) - 1
    assert sum(len(counts) for repo, counts in spy if repo == DE_EN) == others  # the reviewed one skipped both legs


def test_model_missing_from_lock_is_not_locked(offline_hub, tmp_path, monkeypatch):
    lock = tmp_path / "models.lock"
    lock.write_text('[models.fr-en]\nrepo = "Helsinki-NLP/opus-mt-fr-en"\n', encoding="utf-8")
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(DE_SAMPLE), "--to", "en", "--out", str(out), "-q", "--json",
                                 "--format", "md", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["locked"] is False and doc["model"] == f"{DE_EN}@main (not locked)" and doc["pivot"] is None
    assert "(not locked)" in (out / f"{doc['id']}.de-en.md").read_text(encoding="utf-8")


def test_no_direct_model_and_no_pivot_is_a_clear_error(offline_hub, tmp_path):
    result = runner.invoke(app, ["translate", str(DE_SAMPLE), "--to", "it", "--out", str(tmp_path / "out"), "-q",
                                 "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("tk: ") and "Traceback" not in result.output
    assert "no de-it model" in line and "Helsinki-NLP/opus-mt-en-it" in line and "tk models pull" in line


def test_pivot_splits_english_over_the_second_models_budget(offline_hub, tmp_path, spy):
    """The English in between can exceed the second model's input budget: it is split, never cut."""
    decode = DecodeOptions(beams=1, repetition_retry=False, max_length_ratio=1.1, max_length_extra=2)  # quick
    run = RunOptions(cache_dir=tmp_path)
    first = Translators(decode, run, Cache(tmp_path)).get("fr", "en")  # cached: the premise check costs nothing
    second = Translators(decode, run, NoCache(), str(offline_hub.tiny_marian_64)).get("en", "de")
    pivot = PivotTranslator(first, second)
    budget = second.engine.max_input_tokens
    long_text = " ".join(sorted(SEEDS.glob("*.txt"))[0].read_text(encoding="utf-8").split()[:45])
    english = first.translate_texts([long_text], lambda n: None)[long_text].target
    assert second.engine.count(english) > budget  # the premise: too long for the second model
    advanced = []
    out = pivot.translate_texts([long_text, "Bonjour."], advanced.append)
    assert out[long_text].target and out["Bonjour."].target
    second_calls = [counts for repo, counts in spy if repo == str(offline_hub.tiny_marian_64)]
    assert all(n <= budget for counts in second_calls for n in counts)
    assert sum(len(counts) for counts in second_calls) > 2  # the long English went in several pieces
    assert sum(advanced) == 2  # progress counts each text once, over both legs


def test_progress_counts_each_segment_once_through_a_pivot(offline_hub, tmp_path):
    added, advanced = [], []
    progress = Progress(add_total=added.append, advance=advanced.append)
    (result,) = translate(load_documents([str(DE_SAMPLE)], tmp_path), "fr", decode=QUICK,
                          run=RunOptions(cache_dir=tmp_path / "cache"), progress=progress)
    assert result.pivot == "en" and sum(added) == sum(advanced) == len(result.segments)
