"""`tk translate` end to end on tiny real models laid out as an offline Hugging Face cache.

The fr-en model in the test hub is a tiny Marian trained to copy its input, so alignment is
checkable: every target must resemble its own source more than any other source.
"""

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cli import app
from translate_kit.segment import reassemble

SEEDS = Path(__file__).parents[1] / "seeds"
runner = CliRunner()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def run_tk(*args, **env):
    result = runner.invoke(app, list(args), env=env or None)
    return result


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_translate_seeds_default_path(offline_hub, tmp_path, spy):
    out = tmp_path / "out"
    result = run_tk("translate", str(SEEDS), "--to", "en", "--out", str(out), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [d["id"][:3] for d in report["documents"]] == ["000", "001", "002", "003", "004"]
    for doc in report["documents"]:
        assert doc["model"].startswith("Helsinki-NLP/opus-mt-fr-en@") and doc["src_lang"] == "fr"
        assert doc["revision"] == offline_hub.shas["Helsinki-NLP/opus-mt-fr-en"]
        assert doc["translated"] + doc["duplicates"] + doc["copied"] == doc["segments"]
        assert len(doc["outputs"]) == 3 and all(Path(p).exists() for p in doc["outputs"])
    assert spy and all(repo == "Helsinki-NLP/opus-mt-fr-en" for repo, _ in spy)


def test_jsonl_reassembles_and_aligns(offline_hub, tmp_path):
    out = tmp_path / "out"
    assert run_tk("translate", str(SEEDS), "--out", str(out), "-q", "--format", "jsonl").exit_code == 0
    for seed in sorted(SEEDS.glob("*.txt")):
        rows = records(out / f"{seed.stem}.fr-en.jsonl")
        assert "".join(r["source"] + r["space_after"] for r in rows) == seed.read_text(encoding="utf-8")
        assert [(r["para"], r["seg"]) for r in rows] == sorted((r["para"], r["seg"]) for r in rows)
        text_rows = [r for r in rows if r["kind"] == "text"]
        assert all(r["target"] for r in text_rows)
        sources = [r["source"].strip() for r in text_rows]
        best = [max(range(len(sources)), key=lambda j: similarity(r["target"], sources[j])) for r in text_rows]
        hits = sum(i == j for i, j in enumerate(best))
        assert hits >= 0.9 * len(text_rows), f"{seed.stem}: only {hits}/{len(text_rows)} targets match their own source"
        meta = [r for r in rows if r["kind"] == "meta"]
        assert all(r["target"] == "" for r in meta)


def test_markdown_and_text_outputs(offline_hub, tmp_path):
    out = tmp_path / "out"
    assert run_tk("translate", "001", "--out", str(out), "-q").exit_code == 0
    md = (out / "001_61284d4cebeaa770.fr-en.md").read_text(encoding="utf-8")
    assert md.startswith("# Le président américain")
    assert "**Date:** 2024-06" in md and "Helsinki-NLP/opus-mt-fr-en" in md and "| fr | en |" in md
    assert "date 2024-06" not in md.split("| fr | en |", 1)[1]  # the marker is metadata, not text
    txt = (out / "001_61284d4cebeaa770.fr-en.txt").read_text(encoding="utf-8")
    assert txt.count("\n\n") == (SEEDS / "001_61284d4cebeaa770.txt").read_text(encoding="utf-8").count("\n\n")


def translate_seeds(**kw):
    docs = load_documents([str(p) for p in kw.pop("paths", sorted(SEEDS.glob("*.txt")))])
    return {r.doc_id: r for r in translate(docs, "en", src="fr", **kw)}


def test_batched_equals_one_at_a_time(offline_hub, tmp_path):
    decode = DecodeOptions(beams=1)
    batched = translate_seeds(decode=decode, run=RunOptions(use_cache=False, batch_tokens=8000))
    single = translate_seeds(decode=decode, run=RunOptions(use_cache=False, batch_tokens=1))
    for doc_id in batched:
        assert [s.target for s in batched[doc_id].segments] == [s.target for s in single[doc_id].segments]


def test_order_does_not_depend_on_input_order(offline_hub):
    paths = sorted(SEEDS.glob("*.txt"))
    run = RunOptions(use_cache=False)
    forward = translate_seeds(paths=paths, run=run, decode=DecodeOptions(beams=1))
    backward = translate_seeds(paths=paths[::-1], run=run, decode=DecodeOptions(beams=1))
    assert list(backward) == [p.stem for p in paths[::-1]]
    for doc_id, result in forward.items():
        assert [(s.para, s.seg, s.source, s.target) for s in result.segments] == [
            (s.para, s.seg, s.source, s.target) for s in backward[doc_id].segments]


def test_every_input_within_a_64_position_budget(offline_hub, tmp_path, spy):
    model = str(offline_hub.tiny_marian_64)
    out = tmp_path / "out"
    result = run_tk("translate", str(SEEDS), "--model", model, "--out", str(out), "-q", "--json", "--beams", "1")
    assert result.exit_code == 0, result.output
    assert spy and max(n for _, lengths in spy for n in lengths) <= 64
    for seed in sorted(SEEDS.glob("*.txt")):
        rows = records(out / f"{seed.stem}.fr-en.jsonl")
        assert "".join(r["source"] + r["space_after"] for r in rows) == seed.read_text(encoding="utf-8")
    pieces = sum(d["segments"] for d in json.loads(result.stdout)["documents"])
    assert pieces > 117  # long sentences were split into pieces to fit


def test_identical_sentences_translated_once(offline_hub, tmp_path, spy):
    text = "Le président est venu. Il a parlé.\n\nLe président est venu. Fin du discours.\n"
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    results = translate_seeds(paths=[tmp_path / "a.txt", tmp_path / "b.txt"], run=RunOptions(use_cache=False))
    sent = [t for _, lengths in spy for t in lengths]
    assert len(sent) == 3  # three distinct sentences
    assert results["b"].counts["duplicates"] == 4 and results["a"].counts["duplicates"] == 1
    assert results["a"].segments[0].target == results["b"].segments[2].target


def test_model_dir_override(offline_hub, tmp_path):
    out = tmp_path / "out"
    result = run_tk("translate", "004", "--model", str(offline_hub.copy_model), "--out", str(out), "--json", "-q")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)["documents"][0]
    assert doc["model"] == f"{offline_hub.copy_model.resolve()} (not locked)" and doc["revision"].startswith("local-")
    assert doc["locked"] is False  # a folder given with --model: models.lock records no hashes for it


def test_missing_path_fails_others_go_on(offline_hub, tmp_path):
    out = tmp_path / "out"
    result = run_tk("translate", str(tmp_path / "nope.txt"), "000", "--out", str(out), "-q")
    assert result.exit_code == 1
    assert f"tk: {tmp_path / 'nope.txt'}: no such file or directory" in result.stderr
    assert "Traceback" not in result.output
    assert (out / "000_ae0e0f836b3a6ef8.fr-en.md").exists()


def test_unknown_and_ambiguous_ids_list_candidates(offline_hub, tmp_path):
    result = run_tk("translate", "0", "--out", str(tmp_path), "-q")
    assert result.exit_code == 1 and "ambiguous" in result.stderr and "003_9c30f3eff2624f5c" in result.stderr
    result = run_tk("translate", "999", "--out", str(tmp_path), "-q")
    assert result.exit_code == 1 and "no document '999'" in result.stderr and "000_ae0e0f836b3a6ef8" in result.stderr


def test_model_not_in_cache_offline(offline_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))  # a machine that never pulled it
    result = run_tk("translate", "000", "--from", "fr", "--out", str(tmp_path), "-q")
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert "Helsinki-NLP/opus-mt-fr-en" in line and "tk models pull" in line and "--model DIR" in line


def test_usage_errors_exit_2(offline_hub, tmp_path):
    result = run_tk("translate", "000", "--format", "pdf", "--out", str(tmp_path))
    assert result.exit_code == 2 and "unknown format 'pdf'; known:" in result.stderr
    assert run_tk("translate", "000", "--beams", "0").exit_code == 2


def test_help_does_not_import_torch():
    code = "import sys; from translate_kit.cli import app; import typer.testing as t; " \
           "r = t.CliRunner().invoke(app, ['--help']); assert r.exit_code == 0; " \
           "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_installed_tk_in_a_subprocess(offline_hub, tmp_path):
    tk = shutil.which("tk", path=str(Path(sys.executable).parent)) or shutil.which("tk")
    assert tk, "the tk console script is installed with the package"
    proc = subprocess.run([tk, "translate", str(SEEDS / "002_dbf491fe7e5991d8.txt"), "--to", "en",
                           "--out", str(tmp_path / "out"), "--json", "--quiet"],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["documents"][0]["segments"] == 26  # seed 002's sentences (test_segment.py)
    proc = subprocess.run([tk, "translate", str(tmp_path / "missing.md")], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=300)
    assert proc.returncode == 1 and f"tk: {tmp_path / 'missing.md'}: no such file or directory" in proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr


def test_outputs_inside_the_input_folder_are_not_inputs(offline_hub, tmp_path):
    corpus = tmp_path / "articles"
    corpus.mkdir()
    shutil.copy(SEEDS / "004_895ec00cc8f7060a.txt", corpus)
    for _ in range(2):
        result = run_tk("translate", str(corpus), "--out", str(corpus / "out"), "--json", "-q")
        assert result.exit_code == 0, result.output
        assert [d["id"] for d in json.loads(result.stdout)["documents"]] == ["004_895ec00cc8f7060a"]


def test_every_sentence_gets_a_verdict_and_a_cached_rerun_the_same(offline_hub, tmp_path, spy):
    """The checks run on every translated sentence (translate.py, after a group's targets are filled).
    The test hub's fr-en model copies its input, so its output is French: the checks must say so.
    Every model translation carries the model's score (a float; None for copies), kept in the cache
    with it: the cached re-run makes no model call and shows the same scores, verdicts and checks."""
    cache = tmp_path / "cache"
    verdicts, calls = [], []
    for run in ("first", "cached"):
        out = tmp_path / run
        spy.clear()
        result = run_tk("translate", "004", "--out", str(out), "-q", "--format", "jsonl", "--cache-dir", str(cache))
        assert result.exit_code == 0, result.output
        calls.append(len(spy))
        rows = records(next(out.glob("*.jsonl")))
        assert all({"score", "checks", "verdict"} <= set(r) for r in rows)
        text = [r for r in rows if r["kind"] == "text"]
        assert all(r["verdict"] in ("ok", "check", "doubt") for r in text)
        assert all(isinstance(r["score"], float) and r["score"] <= 0 for r in text if r["origin"] != "copy")
        assert all(r["score"] is None for r in rows if r["origin"] in ("copy", "passthrough") or r["kind"] == "meta")
        assert all(r["verdict"] is None and r["checks"] == [] for r in rows if r["kind"] == "meta")
        copied = [r for r in text if r["target"].strip() == r["source"].strip() and len(r["source"].split()) > 3]
        assert copied and all(r["verdict"] == "doubt" and r["checks"][0]["code"] == "untranslated" for r in copied)
        verdicts.append([(r["score"], r["verdict"], r["checks"]) for r in rows])
        report = json.loads(run_tk("translate", "004", "--out", str(out), "-q", "--format", "jsonl", "--cache-dir",
                                   str(cache), "--json").stdout)["documents"][0]
        assert report["to_check"] == sum(r["verdict"] in ("check", "doubt") for r in text) > 0
        assert report["doubt"] == sum(r["verdict"] == "doubt" for r in text)
    assert {r["origin"] for r in text} <= {"cache", "duplicate", "copy"}  # the second run: no model
    assert calls[0] > 0 and calls[1] == 0
    assert verdicts[0] == verdicts[1]


def test_a_document_already_in_the_target_language_is_all_ok(offline_hub, tmp_path):
    source = tmp_path / "english.txt"
    source.write_text("The government announced a plan on Tuesday. It will cost 80 million euros.\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_tk("translate", str(source), "--from", "en", "--to", "en", "--out", str(out), "-q",
                  "--format", "jsonl", "--fail-on", "check").exit_code == 0  # nothing to check: exit 0
    rows = records(next(out.glob("*.jsonl")))
    assert [r["verdict"] for r in rows if r["kind"] == "text"] == ["ok", "ok"]


def test_fail_on_sets_the_exit_code_from_the_verdicts(offline_hub, tmp_path):
    """The copy model leaves French in the translation: every sentence with words is in doubt."""
    args = ["translate", "004", "--out", str(tmp_path / "out"), "-q", "--format", "jsonl", "--cache-dir", str(tmp_path / "c")]
    assert run_tk(*args).exit_code == 0
    assert run_tk(*args, "--fail-on", "doubt").exit_code == 1
    assert run_tk(*args, "--fail-on", "check").exit_code == 1
    assert run_tk(*args, "--fail-on", "maybe").exit_code == 2


def test_a_pivot_translation_has_the_score_of_its_weaker_leg(offline_hub, tmp_path):
    """de -> en -> fr (no direct model in the test hub): each text's score is the lowest of its
    first leg's and of its English pieces' second-leg scores, all from the same cache."""
    from translate_kit.cache import Cache
    from translate_kit.translators import PivotTranslator, Translators

    pivot = Translators(DecodeOptions(beams=1), RunOptions.from_env(), Cache(tmp_path / "c")).get("de", "fr")
    assert isinstance(pivot, PivotTranslator)
    texts = ["Die Regierung hat am Dienstag einen Plan angekündigt.", "Er kostet 80 Millionen Euro."]
    done = pivot.translate_texts(texts, lambda n: None)
    english = pivot.first.translate_texts(texts, lambda n: None)  # cached now: the same scores
    for text in texts:
        pieces = pivot._pieces(english[text].target)
        second = pivot.second.translate_texts(pieces, lambda n: None)
        legs = [english[text].score] + [second[p].score for p in pieces]
        assert all(isinstance(s, float) for s in legs)
        assert done[text].score == min(legs)


def test_pivot_join_keeps_the_lowest_known_score():
    from translate_kit.translators import PivotTranslator, Translation

    first = Translation("Hello all.", "model", score=-0.5)
    seconds = [Translation("Bonjour", "cache", score=-0.2), Translation("à tous.", "model", score=-0.9)]
    assert PivotTranslator._join(first, seconds).score == -0.9
    reviewed = Translation("Hello.", "review")  # a human's first leg has no score: the model's leg counts
    assert PivotTranslator._join(reviewed, [Translation("Bonjour.", "model", score=-0.3)]).score == -0.3
    assert PivotTranslator._join(Translation("a", "cache"), [Translation("b", "cache")]).score is None


def test_a_retried_sentence_keeps_the_score_of_the_output_kept(offline_hub, monkeypatch):
    """A degenerate output is decoded again (quality.RETRY_DECODING); the output kept brings its own score."""
    from translate_kit.cache import NoCache
    from translate_kit.runtime.torch import TorchEngine
    from translate_kit.translators import Translators

    looping = "Le chat dort sur le canapé."
    original = TorchEngine.generate

    def generate(self, texts, **overrides):
        outputs, scores = original(self, texts, **overrides)
        if not overrides:  # the first decoding loops on `looping`, with a score of its own
            pairs = [(("the " * 12).strip(), -7.5) if t == looping else p for t, p in zip(texts, zip(outputs, scores))]
            outputs, scores = [o for o, _ in pairs], [s for _, s in pairs]
        return outputs, scores

    monkeypatch.setattr(TorchEngine, "generate", generate)
    translator = Translators(DecodeOptions(beams=1, backend="torch"), RunOptions.from_env(), NoCache()).get("fr", "en")
    done = translator.translate_texts([looping, "Il fait beau."], lambda n: None)
    retried = original(translator.engine, [looping], no_repeat_ngram_size=3, repetition_penalty=1.3)
    assert done[looping].target == retried[0][0] and done[looping].score == pytest.approx(retried[1][0], abs=1e-4)
    assert done[looping].score != -7.5 and isinstance(done["Il fait beau."].score, float)


def test_the_run_report_says_how_many_sentences_to_check(offline_hub, tmp_path):
    out = tmp_path / "out"
    result = run_tk("translate", "004", "003", "--out", str(out), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [r for p in out.glob("*.jsonl") for r in records(p) if r["kind"] != "meta"]
    check = sum(r["verdict"] in ("check", "doubt") for r in rows)
    doubt = sum(r["verdict"] == "doubt" for r in rows)
    assert check > 0 and f"{check} of {len(rows)} sentences to check ({doubt} doubt)" in result.output


def test_a_cached_rerun_loads_no_language_detector(offline_hub, tmp_path, monkeypatch):
    """The checks' language detector answers are cached with the translations (language.remembering):
    a re-run gives the same verdicts without loading the detector (~0.5 s of a warm run)."""
    from translate_kit import language

    args = ["translate", "003", "004", "--corpus", str(SEEDS), "--format", "jsonl", "-q", "--cache-dir", str(tmp_path / "c")]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output

    def no_detector():
        raise AssertionError("the language detector was loaded on a cached re-run")

    monkeypatch.setattr(language, "_identifier", no_detector)
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    verdicts = {d: [(r.get("verdict"), r.get("checks")) for r in map(json.loads, (tmp_path / d / name).read_text(encoding="utf-8").splitlines())]
                for d in "ab" for name in [next((tmp_path / d).glob("003*.jsonl")).name]}
    assert verdicts["a"] == verdicts["b"] and any(v for v, _ in verdicts["a"])
