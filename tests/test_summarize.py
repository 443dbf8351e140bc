"""`tk summarize`: map-reduce over the summarizer's window, caching, bilingual output, extracts.

The summarizer in the test hub is a tiny random BART with a 128-position window, so a few French
paragraphs already need several Pieces and rounds; its words are gibberish, so these tests check
structure (budgets, rounds, counts, alignment, cache hits), never wording. The fr-en and en-fr
models are the tiny copy model. generate() calls are counted per model at the engine boundary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cli import app
from translate_kit.documents import read_document
from translate_kit.runtime.torch import TorchEngine as Engine
from translate_kit.extractive import central_sentences, sentence_scores
from translate_kit.segment import segment_document
from translate_kit.summarize import (
    LENGTHS,
    MAX_ROUNDS,
    SummaryFailed,
    length_bounds,
    map_reduce,
    pack,
    parse_langs,
)

SEEDS = Path(__file__).parents[1] / "seeds"
FR_EN, EN_FR = "Helsinki-NLP/opus-mt-fr-en", "Helsinki-NLP/opus-mt-en-fr"
BART = "sshleifer/distilbart-cnn-12-6"
runner = CliRunner()


def tk(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def spy(monkeypatch):
    """Every generate() call: (model repo, input token counts, keyword overrides such as min/max
    length). Shadows conftest's run()-level spy on purpose: the summary tests check what reaches
    generate() itself, so the torch backend is forced (CTranslate2 batches bypass Engine.generate)."""
    monkeypatch.setenv("TK_BACKEND", "torch")
    monkeypatch.setenv("TK_THREADS", "1")  # tiny models: threads are pure overhead (conftest.py)
    calls = []
    original = Engine.generate

    def recording(self, texts, **overrides):
        calls.append((self.loaded.ref.repo, self.count_tokens(texts), overrides))
        return original(self, texts, **overrides)

    monkeypatch.setattr(Engine, "generate", recording)
    return calls


def calls_to(spy, repo: str) -> list:
    return [c for c in spy if c[0] == repo]


@pytest.fixture
def corpus(tmp_path) -> Path:
    """003: three French paragraphs (far over 128 BART tokens); 007: English; 008: empty."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    lines = (SEEDS / "003_9c30f3eff2624f5c.txt").read_text(encoding="utf-8").splitlines()
    (folder / "003_otan.txt").write_text(" date 2024-06 \n" + "\n\n".join(lines[:3]) + "\n", encoding="utf-8")
    (folder / "007_english.txt").write_text((Path(__file__).parent / "fixtures" / "en_sample.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "008_vide.txt").write_bytes(b"")
    return folder


def summarize_json(corpus: Path, *args: str) -> tuple[object, dict]:
    result = tk("summarize", *args, "--corpus", str(corpus), "--json", "--quiet")
    return result, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {})


# --- pure logic: lengths, packing, termination --------------------------------------------------


def test_lengths_follow_the_window():
    assert length_bounds("medium", 1024) == LENGTHS["medium"]  # distilbart-cnn's own (56, 142)
    for window in (1024, 512, 128, 16):
        bounds = [length_bounds(name, window) for name in ("short", "medium", "long")]
        assert all(0 < low < high <= max(2, window // 2) for low, high in bounds)
        assert [high for _, high in bounds] == sorted(high for _, high in bounds)


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("window", [5, 8, 30])
def test_pack_fits_the_window_and_drops_nothing(window):
    paragraphs = ["One two three. Four five six seven.", "Eight nine.", "Ten eleven twelve thirteen fourteen fifteen sixteen."]
    pieces = pack(paragraphs, words, window)
    assert all(words(p) <= window for p in pieces)
    assert " ".join(pieces).split() == " ".join(paragraphs).split()


def test_pack_keeps_whole_paragraphs_when_they_fit():
    paragraphs = ["a b c d", "e f g", "h i j k"]
    assert pack(paragraphs, words, 7) == ["a b c d\ne f g", "h i j k"]


class Stubborn:
    """A pure-logic stand-in for a model that writes `max_length` words whatever it reads,
    times `blowup` (a random BART can decode to more tokens than it generated)."""

    label = "stub"

    def __init__(self, window: int, blowup: int = 1):
        self.window, self.blowup, self.asked = window, blowup, []

    def count(self, text: str) -> int:
        return words(text)

    def summarize(self, pieces, bounds, advance=lambda n: None):
        self.asked.append(bounds)
        return [" ".join(["w"] * (bounds[1] * self.blowup)) for _ in pieces]


@pytest.mark.parametrize("blowup", [1, 3])
def test_map_reduce_ends_with_a_model_that_never_shortens(blowup):
    model = Stubborn(window=40, blowup=blowup)
    summary, rounds = map_reduce(["x " * 30] * 40, model, (15, 30))
    assert 1 < len(rounds) <= MAX_ROUNDS and rounds[-1] == 1
    assert words(summary) <= model.window
    assert model.asked[-1][1] < 30  # lengths were forced down


def test_map_reduce_raises_rather_than_loop_or_truncate():
    class Hopeless(Stubborn):
        def summarize(self, pieces, bounds, advance=lambda n: None):
            return [" ".join(["w"] * self.window) for _ in pieces]  # ignores every limit

    with pytest.raises(SummaryFailed, match="rounds"):
        map_reduce(["x " * 30] * 4, Hopeless(window=40), (15, 30))


def test_parse_langs():
    assert parse_langs(" EN, fr ,en") == ("en", "fr")
    assert parse_langs(None) == ()


# --- extractive: TextRank ----------------------------------------------------------------------


def test_central_sentences_pick_the_shared_topic_in_document_order():
    sentences = [
        "Le gouvernement annonce une réforme des retraites.",
        "Les chats dorment beaucoup.",
        "La réforme des retraites divise le gouvernement et les syndicats.",
        "Il pleut à Brest.",
        "Les syndicats refusent la réforme des retraites du gouvernement.",
    ]
    assert central_sentences(sentences, 3) == [0, 2, 4]
    assert central_sentences(sentences, 10) == [0, 1, 2, 3, 4]
    scores = sentence_scores(sentences)
    assert abs(float(scores.sum()) - 1.0) < 1e-6 and scores[2] > scores[1]


def test_central_sentences_without_words_fall_back_to_the_first():
    assert central_sentences(["123", "456", "789"], 2) == [0, 1]


# --- abstractive, end to end on tiny models -------------------------------------------------------


def test_long_document_goes_through_several_rounds_within_the_window(offline_hub, corpus, spy):
    result, report = summarize_json(corpus, "003")
    assert result.exit_code == 0, result.output
    doc = report["documents"][0]
    assert doc["id"] == "003_otan" and doc["date"] == "2024-06" and doc["src_lang"] == "fr"
    assert doc["pieces"] > 1 and doc["rounds"] > 1
    assert doc["pieces_per_round"][-1] == 1 and doc["rounds"] == len(doc["pieces_per_round"])
    window = json.loads((offline_hub.bart_dir / "config.json").read_text())["max_position_embeddings"]
    bart = calls_to(spy, BART)
    assert len(bart) >= doc["rounds"]  # at least one generate() per round
    assert max(n for _, lengths, _ in bart for n in lengths) <= window
    assert all(kw["min_length"] < kw["max_length"] <= window // 2 for _, _, kw in bart)
    assert doc["langs"] == ["en", "fr"] and doc["sentences"]
    assert all(set(s) >= {"en", "fr"} for s in doc["sentences"])
    roles = {m["role"]: m for m in doc["models"]}
    assert set(roles) == {"translate fr-en", "summarizer", "translate en-fr"}
    assert roles["summarizer"]["revision"] == offline_hub.shas[BART]


def test_summaries_are_cached(offline_hub, corpus, spy):
    first, report1 = summarize_json(corpus, "003")
    assert first.exit_code == 0 and calls_to(spy, BART)
    spy.clear()
    second, report2 = summarize_json(corpus, "003")
    assert second.exit_code == 0
    assert spy == []  # translation, summary and back-translation all from the cache
    assert report2["documents"][0]["sentences"] == report1["documents"][0]["sentences"]


def test_summarize_after_translate_translates_nothing_again(offline_hub, corpus, tmp_path, spy):
    tk("translate", str(corpus), "--to", "en", "--out", str(tmp_path / "out"), "--quiet")  # 008 is empty: exit 1
    assert (tmp_path / "out" / "003_otan.fr-en.md").exists() and calls_to(spy, FR_EN)
    spy.clear()
    result, report = summarize_json(corpus, "003")
    assert result.exit_code == 0, result.output
    assert calls_to(spy, FR_EN) == []
    assert calls_to(spy, BART) and report["documents"][0]["rounds"] > 1


def test_english_document_needs_no_translation(offline_hub, corpus, spy):
    result, report = summarize_json(corpus, "007")
    assert result.exit_code == 0, result.output
    doc = report["documents"][0]
    assert doc["src_lang"] == "en" and doc["langs"] == ["en"]
    assert {repo for repo, _, _ in spy} == {BART}


def test_lang_option_chooses_the_languages(offline_hub, corpus, spy):
    result, report = summarize_json(corpus, "003", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert all(list(s) == ["en"] for s in report["documents"][0]["sentences"])
    assert calls_to(spy, EN_FR) == []


def test_readable_output_and_files(offline_hub, corpus, tmp_path):
    out = tmp_path / "summaries"
    result = tk("summarize", "003", "--corpus", str(corpus), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("003_otan · 2024-06 · fr")
    assert lines[1].startswith("L’inévitable") and "round" in lines[2]
    assert any(line.startswith("  [en] ") for line in lines) and any(line.startswith("  [fr] ") for line in lines)
    assert sorted(p.name for p in out.iterdir()) == ["003_otan.summary.json", "003_otan.summary.md"]
    data = json.loads((out / "003_otan.summary.json").read_text(encoding="utf-8"))
    assert data["rounds"] > 1 and data["sentences"] and data["outputs"]
    md = (out / "003_otan.summary.md").read_text(encoding="utf-8")
    assert md.startswith("# Summary: L’inévitable") and BART in md and "**fr**" in md


def test_length_changes_the_bounds_and_the_cache_key(offline_hub, corpus, spy):
    _, short = summarize_json(corpus, "003", "--length", "short", "--lang", "en")
    _, long = summarize_json(corpus, "003", "--length", "long", "--lang", "en")
    short, long = short["documents"][0], long["documents"][0]
    assert short["max_length"] < long["max_length"] and short["min_length"] < long["min_length"]
    assert {kw["max_length"] for _, _, kw in calls_to(spy, BART)} >= {short["max_length"], long["max_length"]}


# --- errors ------------------------------------------------------------------------------------


def test_unknown_and_ambiguous_ids_list_candidates(offline_hub, corpus):
    result = tk("summarize", "999", "--corpus", str(corpus), "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("tk: 999: ") and "003_otan" in result.stderr and "Traceback" not in result.output
    result = tk("summarize", "00", "--corpus", str(corpus), "--quiet")
    assert result.exit_code == 1 and "ambiguous" in result.stderr and "007_english" in result.stderr


def test_empty_document_says_so(offline_hub, corpus):
    result, report = summarize_json(corpus, "008")
    assert result.exit_code == 1 and "empty" in report["documents"][0]["error"]
    assert result.stderr.startswith("tk: ") and "empty" in result.stderr


def test_bad_length_is_a_usage_error(offline_hub, corpus):
    result = tk("summarize", "003", "--corpus", str(corpus), "--length", "huge")
    assert result.exit_code == 2 and "short, medium, long" in result.stderr


# --- extractive, with no summarizer anywhere ---------------------------------------------------


@pytest.fixture
def hub_without_summarizer(offline_hub, tmp_path, monkeypatch):
    """An offline Hugging Face cache holding only the translation models (set up like offline_hub)."""
    from build_models import COPY_MODEL_DIR, layout_hf_cache
    from huggingface_hub import constants

    home = tmp_path / "hf-no-bart"
    for repo in (FR_EN, EN_FR):
        layout_hf_cache(home, repo, COPY_MODEL_DIR)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HUGGINGFACE_HUB_CACHE", str(home / "hub"))
    assert sorted(p.name for p in (home / "hub").iterdir()) == ["models--Helsinki-NLP--opus-mt-en-fr",
                                                               "models--Helsinki-NLP--opus-mt-fr-en"]
    return home


def test_extractive_needs_no_summarizer(hub_without_summarizer, corpus, spy):
    result, report = summarize_json(corpus, "003", "--method", "extractive", "--length", "short")
    assert result.exit_code == 0, result.output
    doc = report["documents"][0]
    assert doc["method"] == "extractive" and doc["langs"] == ["fr", "en"] and doc["rounds"] == 0
    assert {repo for repo, _, _ in spy} == {FR_EN}
    segments = {(s.para, s.seg): s.text for s in segment_document(read_document(corpus / "003_otan.txt"), "fr")}
    positions = [(s["para"], s["seg"]) for s in doc["sentences"]]
    assert len(positions) == 3 and positions == sorted(positions)
    assert [s["fr"] for s in doc["sentences"]] == [segments[p] for p in positions]
    assert all(s["en"] for s in doc["sentences"])


def test_abstractive_without_summarizer_names_the_model_and_the_fix(hub_without_summarizer, corpus, spy):
    result = tk("summarize", "003", "007", "--corpus", str(corpus), "--quiet")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    (line,) = lines  # one problem, one line, naming both documents
    assert line.startswith(f"tk: 2 documents ({corpus / '003_otan.txt'}, ") and "007" in line.split(": ")[1]
    assert BART in line and "tk models pull" in line and "--model" in line
    assert spy == []  # nothing was translated for a summary that cannot be made
