"""Glossaries through the real pipeline (issue 25, phase 2): tk translate --glossary on the tiny
copy models of tests/conftest.py, whose output resembles their input, so a substituted term shows.

What is asserted is structure: which sentences the glossary reaches, their cache keys (model
calls counted with `spy`), term checks in every output, reviewed translations winning."""

import html
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cache import Cache
from translate_kit.cli import app
from translate_kit.glossary import Enforcer, Policy, load_glossary

runner = CliRunner()

ARTICLE = (
    "L'OTAN a tenu un sommet à Bruxelles mardi.\n\n"
    "Les ministres ont parlé du budget pendant trois heures.\n\n"
    "Le président Zelensky a demandé plus d'aide à l'OTAN.\n\n"
    "La réunion s'est terminée tard dans la soirée.\n"
)
GLOSSARY = "fr\ten\nOTAN\tNATO\nZelensky|Zelenski\tZelenskyy\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path, glossary: str | None, mode: str = "both", text: str = ARTICLE):
    doc = write(tmp_path, "article.txt", text)
    enforcer = Enforcer(load_glossary(write(tmp_path, "style.tsv", glossary)), Policy(mode)) if glossary else None
    (result,) = translate(load_documents([str(doc)]), "en", src="fr", decode=DecodeOptions(backend="torch"),
                          run=RunOptions(cache_dir=tmp_path / "cache"), glossary=enforcer)
    assert result.error is None, result.error
    return [s for s in result.segments if s.kind == "text"]


def sent(spy) -> int:
    return sum(len(lengths) for _, lengths in spy)


def test_terms_reach_the_model_and_are_reported(offline_hub, tmp_path):
    segments = run(tmp_path, GLOSSARY)
    by_source = {s.text: s for s in segments}
    nato = by_source["L'OTAN a tenu un sommet à Bruxelles mardi."]
    assert [t["target"] for t in nato.terms] == ["NATO"] and nato.terms[0]["source"] == "OTAN"
    plain = by_source["Les ministres ont parlé du budget pendant trois heures."]
    assert plain.terms == []
    for s in segments:  # a miss is a check on its sentence; a term present is none
        term_checks = [c for c in s.checks if c["code"] == "term"]
        assert len(term_checks) == sum(t["missing"] for t in s.terms)
        assert all(t["missing"] == (t["target"] not in s.target) for t in s.terms)
        if term_checks:
            assert s.verdict in ("check", "doubt")


@pytest.mark.parametrize("mode", ["substitute", "both", "placeholder", "nbest", "verify"])
@pytest.mark.parametrize("backend", ["torch", "ct2"])
def test_every_mode_on_both_backends(offline_hub, tmp_path, backend, mode):
    doc = write(tmp_path, "article.txt", ARTICLE)
    enforcer = Enforcer(load_glossary(write(tmp_path, "style.tsv", GLOSSARY)), Policy(mode, 3))
    (result,) = translate(load_documents([str(doc)]), "en", src="fr", decode=DecodeOptions(backend=backend),
                          run=RunOptions(cache_dir=tmp_path / "cache"), glossary=enforcer)
    assert result.error is None and backend in result.signature
    text = [s for s in result.segments if s.kind == "text"]
    assert [len(s.terms) for s in text] == [1, 0, 2, 0] and all(s.target for s in text)
    if mode == "placeholder":  # the copy model copies the token; it comes back as the term
        assert not any("TKX" in s.target for s in text)


def test_editing_the_glossary_retranslates_exactly_the_sentences_it_changed(offline_hub, tmp_path, spy):
    run(tmp_path, GLOSSARY, "substitute")
    assert sent(spy) == 4
    run(tmp_path, GLOSSARY, "substitute")
    assert sent(spy) == 4  # all cached
    run(tmp_path, GLOSSARY.replace("Zelenskyy", "Selenskyj"), "substitute")
    assert sent(spy) == 5  # only the Zelensky sentence: its match changed
    run(tmp_path, GLOSSARY + "budget\tbudget\n", "substitute")
    assert sent(spy) == 6  # the budget sentence gained a match; the others keep their keys
    segments = run(tmp_path, GLOSSARY + "budget\tbudget\n", "both")
    assert sent(spy) == 9  # another mechanism: the three matched sentences again, the fourth shared
    assert {s.origin for s in segments if not s.terms} == {"cache"}


def test_a_run_without_the_glossary_shares_every_unmatched_sentence(offline_hub, tmp_path, spy):
    run(tmp_path, None)
    assert sent(spy) == 4
    segments = run(tmp_path, GLOSSARY)
    assert sent(spy) == 6  # the two matched sentences only
    assert [s.origin for s in segments] == ["model", "cache", "model", "cache"]
    plain = run(tmp_path, None)
    assert sent(spy) == 6 and {s.origin for s in plain} == {"cache"} and all(not s.terms for s in plain)


def test_verify_changes_nothing_and_shares_the_cache(offline_hub, tmp_path, spy):
    before = run(tmp_path, None)
    checked = run(tmp_path, GLOSSARY, "verify")
    assert sent(spy) == 4 and [s.target for s in checked] == [s.target for s in before]
    assert [len(s.terms) for s in checked] == [1, 0, 2, 0]


def test_reviewed_translations_win_over_the_glossary(offline_hub, tmp_path, spy):
    source = "L'OTAN a tenu un sommet à Bruxelles mardi."
    cache = Cache(tmp_path / "cache")
    cache.put_overrides("fr", "en", [(source, "The Atlantic Alliance met in Brussels on Tuesday.", "article")])
    cache.close()
    segments = run(tmp_path, GLOSSARY)
    first = segments[0]
    assert first.origin == "review" and first.target == "The Atlantic Alliance met in Brussels on Tuesday."
    assert sent(spy) == 3  # the reviewed sentence never reaches the model
    assert first.terms[0]["missing"] and any(c["code"] == "term" for c in first.checks)  # still said


def test_through_a_pivot_the_terms_of_the_whole_pair(offline_hub, tmp_path, spy):
    doc = write(tmp_path, "artikel.txt", "Die NATO hat am Dienstag in Brüssel getagt. Der Haushalt wurde lange besprochen.\n")
    glossary = write(tmp_path, "de-fr.tsv", "de\tfr\nNATO\tOTAN\n")
    for mode in ("both", "placeholder"):
        enforcer = Enforcer(load_glossary(glossary), Policy(mode, 3))
        (result,) = translate(load_documents([str(doc)]), "fr", src="de", decode=DecodeOptions(backend="torch"),
                              run=RunOptions(cache_dir=tmp_path / "cache"), glossary=enforcer)
        assert result.error is None and result.pivot == "en"
        first, second = [s for s in result.segments if s.kind == "text"]
        assert [t["target"] for t in first.terms] == ["OTAN"] and second.terms == []
        assert "TKX" not in first.target
    repos = [repo for repo, _ in spy]
    assert repos[0].endswith("de-en") and repos[-1].endswith("en-fr")


def test_cli_glossary_flag_env_and_outputs(offline_hub, tmp_path):
    doc = write(tmp_path, "article.txt", ARTICLE)
    style = write(tmp_path, "style.tsv", GLOSSARY)
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(doc), "--from", "fr", "--out", str(out), "--format", "jsonl,md,html",
                                 "--glossary", str(style), "--json", "-q", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)["documents"]
    rows = [json.loads(line) for line in (out / f"{report['id']}.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("source")]
    assert [len(r.get("terms", [])) for r in rows if r.get("kind", "text") == "text"][:4] == [1, 0, 2, 0]
    misses = [c for r in rows for c in r.get("checks", []) if c["code"] == "term"]
    md = (out / f"{report['id']}.fr-en.md").read_text(encoding="utf-8")
    page = html.unescape((out / f"{report['id']}.fr-en.html").read_text(encoding="utf-8"))
    assert misses  # the copy model mangles NATO (ATOO): misses to show
    assert report["terms"] == 3 and report["terms_missing"] == len(misses) and report["to_check"] >= 1  # the run report
    for check in misses:  # every miss is shown wherever the checks are
        assert check["detail"] in md and check["detail"] in page
    again = runner.invoke(app, ["translate", str(doc), "--from", "fr", "--out", str(out), "--format", "jsonl",
                                "--json", "-q", "--cache-dir", str(tmp_path / "cache")], env={"TK_GLOSSARY": str(style)})
    assert again.exit_code == 0 and json.loads(again.stdout)["documents"][0]["cached"] == 4  # the same keys


@pytest.mark.parametrize("args, env, expected", [
    (["--glossary", "{bad}"], {}, "{bad}:2: "),
    (["--glossary", "{missing}"], {}, "--glossary {missing}: no such file"),
    ([], {"TK_GLOSSARY": "{missing}"}, "TK_GLOSSARY {missing}: no such file"),
    (["--glossary", "{conflict}"], {}, "conflicts with"),
    (["--glossary", "{style}", "--glossary-mode", "sometimes"], {}, "unknown glossary mode 'sometimes'"),
    (["--glossary", "{style}"], {"TK_GLOSSARY_MODE": "often"}, "TK_GLOSSARY_MODE='often' is not a glossary mode"),
])
def test_a_bad_glossary_is_one_line_and_exit_2_before_any_model(offline_hub, tmp_path, spy, args, env, expected):
    files = {"bad": write(tmp_path, "bad.tsv", "fr\ten\nOTAN\n"), "missing": tmp_path / "nope.tsv",
             "conflict": write(tmp_path, "conflict.tsv", "fr\ten\nOTAN\tNATO\nOTAN\tAtlantic Alliance\n"),
             "style": write(tmp_path, "style.tsv", GLOSSARY)}
    doc = write(tmp_path, "article.txt", ARTICLE)
    fill = {k: str(v) for k, v in files.items()}
    result = runner.invoke(app, ["translate", str(doc), "--from", "fr", "--out", str(tmp_path / "out"), "-q",
                                 *[a.format(**fill) for a in args]], env={k: v.format(**fill) for k, v in env.items()})
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tk: ") and expected.format(**fill) in lines[0], result.output
    assert spy == []


@pytest.mark.parametrize("backend", ["torch", "ct2"])
def test_nbest_is_asked_only_for_the_sentences_that_miss_a_term(offline_hub, tmp_path, monkeypatch, backend):
    from translate_kit.runtime.ct2 import Ct2Engine
    from translate_kit.runtime.torch import TorchEngine

    asked = []
    for cls in (TorchEngine, Ct2Engine):
        hypotheses = cls.hypotheses

        def recording(self, texts, k, _original=hypotheses):
            asked.extend((t, k) for t in texts)
            found = _original(self, texts, k)
            assert all(len(h) == k for h in found)
            return found

        monkeypatch.setattr(cls, "hypotheses", recording)
    doc = write(tmp_path, "article.txt", ARTICLE)
    enforcer = Enforcer(load_glossary(write(tmp_path, "style.tsv", GLOSSARY)), Policy("both", 3))
    (tmp_path / "plain").mkdir()
    run(tmp_path / "plain", None)
    assert asked == []  # a run without a glossary asks no hypotheses
    (result,) = translate(load_documents([str(doc)]), "en", src="fr", decode=DecodeOptions(backend=backend),
                          run=RunOptions(cache_dir=tmp_path / "cache"), glossary=enforcer)
    text = [s for s in result.segments if s.kind == "text"]
    substituted = {enforcer.prepare(s.text, "fr", "en").source for s in text if s.terms}
    assert asked and {t for t, _ in asked} <= substituted and {k for _, k in asked} == {3}


def test_summarize_translations_follow_the_glossary(offline_hub, tmp_path, monkeypatch):
    from translate_kit.runtime.engine import Engine

    sent_texts = []
    original = Engine.__dict__["run"]

    def recording(self, texts, *args, **kwargs):
        sent_texts.extend(texts)
        yield from original(self, texts, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", recording)
    doc = write(tmp_path, "article.txt", ARTICLE)
    style = write(tmp_path, "style.tsv", GLOSSARY)
    result = runner.invoke(app, ["summarize", str(doc), "--from", "fr", "--method", "extractive", "--backend", "torch",
                                 "--glossary", str(style), "--json", "-q", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert any("NATO" in t for t in sent_texts)  # the OTAN sentences went to the model substituted
    assert not any("OTAN" in t or "Zelensky " in t for t in sent_texts)
    bad = runner.invoke(app, ["summarize", str(doc), "--glossary", str(tmp_path / "none.tsv"), "-q"])
    assert bad.exit_code == 2 and "--glossary" in bad.output and "no such file" in bad.output


def test_a_substituted_text_past_the_input_limit_goes_as_written(offline_hub, tmp_path, spy):
    """Texts are fitted to the model's limit as written; a term whose target takes many more tokens
    must not push one past it (the model would refuse it): such a text goes unsubstituted."""
    long_target = " ".join(["the", "war-torn", "Eastern", "European", "republic", "of", "Ukraine"] * 6)
    style = write(tmp_path, "style.tsv", f"fr\ten\nUkraine\t{long_target}\n")
    seeds = sorted((Path(__file__).parents[1] / "seeds").glob("*.txt"))
    seed = next(p for p in seeds if p.read_text(encoding="utf-8").count("Ukraine") >= 3)
    result = runner.invoke(app, ["translate", str(seed), "--model", str(offline_hub.tiny_marian_64), "--out",
                                 str(tmp_path / "out"), "-q", "--json", "--beams", "1", "--format", "jsonl",
                                 "--glossary", str(style), "--glossary-mode", "substitute",
                                 "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["error"] is None and doc["terms"] >= 3
    assert spy and max(n for _, lengths in spy for n in lengths) <= 64


def test_a_run_all_in_the_cache_loads_no_model_with_a_glossary_too(offline_hub, tmp_path, monkeypatch):
    from translate_kit import runtime

    first = run(tmp_path, GLOSSARY)

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded for a run that is all in the cache")

    monkeypatch.setattr(runtime, "open_engine", no_model)
    again = run(tmp_path, GLOSSARY)
    assert [s.target for s in again] == [s.target for s in first] and {s.origin for s in again} == {"cache"}
    assert [s.terms for s in again] == [s.terms for s in first]
