"""`tk check FILE...`: TMX, XLIFF 2.1 and 1.2 and tk jsonl read back, per-file report, --json in
file order, --fail-on, and one line for each file that cannot be read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_checks_writers import checked
from test_writers import render
from typer.testing import CliRunner

from translate_kit.cli import app

runner = CliRunner()
EXPECTED = ["ok", "check", "ok", "doubt", "check"]


@pytest.fixture()
def files(tmp_path):
    """The same five checked sentences written by tk in each format tk check reads."""
    result = checked()
    paths = {}
    for name, ext in (("jsonl", "jsonl"), ("xliff", "xlf"), ("xliff12", "xliff12.xlf"), ("tmx", "tmx")):
        paths[name] = tmp_path / f"checked.{ext}"
        paths[name].write_text(render(name, result), encoding="utf-8")
    return paths


def check(*args):
    return runner.invoke(app, ["check", *map(str, args)])


@pytest.mark.parametrize("fmt", ["jsonl", "xliff", "xliff12", "tmx"])
def test_every_format_gives_the_same_verdicts_in_file_order(files, fmt):
    run = check("--json", files[fmt])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    [doc] = report["documents"]
    assert (doc["src_lang"], doc["tgt_lang"]) == ("fr", "en")
    assert [s["verdict"] for s in doc["segments"]] == EXPECTED
    assert doc["segments"][1]["checks"] == [{"code": "number", "detail": "number 80 not in the translation (it has 8)"}]
    assert doc["counts"] == {"ok": 2, "check": 2, "doubt": 1} and report["errors"] == []


def test_text_report_counts_and_lists_the_sentences_to_check(files):
    run = check(files["xliff"])
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == f"{files['xliff']}: fr->en, 5 sentences: 2 ok, 2 to check, 1 in doubt"
    assert "number 80 not in the translation (it has 8)" in lines[1] and lines[1].lstrip().startswith("check")
    assert "fr: Le plan coûtera 80 millions d'euros." in lines[2] and "en: The plan will cost 8 million euros." in lines[3]
    assert sum(1 for line in lines if line.startswith("  check") or line.startswith("  doubt")) == 3


@pytest.mark.parametrize("fail_on,code", [(None, 0), ("doubt", 1), ("check", 1)])
def test_fail_on_sets_the_exit_code(files, fail_on, code):
    assert check(*(["--fail-on", fail_on] if fail_on else []), files["tmx"]).exit_code == code


def test_fail_on_doubt_passes_a_file_with_checks_only(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"doc": "d", "para": 0, "seg": 0, "src_lang": "fr", "tgt_lang": "en",
                                "source": "Le plan coûtera 80 millions d'euros.", "target": "The plan will cost 8 million euros."}) + "\n")
    assert check("--fail-on", "doubt", path).exit_code == 0
    assert check("--fail-on", "check", path).exit_code == 1
    assert check("--fail-on", "maybe", path).exit_code == 2


def test_bad_files_are_one_line_each_and_the_others_are_checked(files, tmp_path):
    broken = tmp_path / "broken.xlf"
    broken.write_text("<xliff><file>")
    html = tmp_path / "page.xml"
    html.write_text("<html><body/></html>")
    text = tmp_path / "notes.txt"
    text.write_text("just words")
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"source": 1}\n')
    run = check("--json", broken, tmp_path / "missing.tmx", files["jsonl"], html, text, bad_json, tmp_path)
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    assert [s["verdict"] for s in report["documents"][0]["segments"]] == EXPECTED
    errors = [e["error"] for e in report["errors"]]
    assert len(errors) == 6 and all("\n" not in e for e in errors)
    assert "not well-formed XML" in errors[0] and "no such file" in errors[1] and "<html>" in errors[2]
    assert "neither TMX, XLIFF nor tk jsonl" in errors[3] and "not a tk jsonl record" in errors[4] and "folder" in errors[5]
    assert "Traceback" not in run.output


def test_entities_are_not_expanded(tmp_path):
    bomb = tmp_path / "bomb.tmx"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa">' +
                    "".join(f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">' for p, c in zip("abcdefg", "bcdefgh")) +
                    ']><tmx version="1.4"><header srclang="fr"/><body><tu><tuv xml:lang="fr"><seg>&h;</seg></tuv></tu></body></tmx>')
    run = check(bomb)
    assert run.exit_code == 1 and "XML" in run.output


def test_a_multi_document_jsonl_gives_one_report_per_document(tmp_path):
    rows = [{"doc": d, "para": i, "seg": 0, "kind": "text", "src_lang": src, "tgt_lang": "en", "source": s, "target": t}
            for d, src, i, s, t in [("a", "fr", 0, "Il pleut.", "It is raining."),
                                    ("b", "de", 0, "Es regnet.", "It is raining."),
                                    ("a", "fr", 1, "Le chiffre est de 12 %.", "The figure is 21%.")]]
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = json.loads(check("--json", path).stdout)
    assert [(d["id"], d["src_lang"], [s["verdict"] for s in d["segments"]]) for d in report["documents"]] == [
        ("a", "fr", ["ok", "check"]), ("b", "de", ["ok"])]


def test_tk_check_runs_as_a_command_and_help_stays_light():
    """`tk check --help` is registered and imports no reader or checks module."""
    code = "import sys; from translate_kit.cli import app; sys.argv=['tk','--help']\n" \
           "try: app()\nexcept SystemExit: pass\n" \
           "print(sorted(m for m in sys.modules if m.startswith('translate_kit.checks') or m in ('torch', 'lxml')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert " check " in out and out.strip().endswith("[]")


def test_score_uses_the_pairs_model_where_it_is_in_the_local_cache(offline_hub, tmp_path):
    """--score: fr->en has a model in the (test) hub cache, so every pair gets its forced-decoding
    score; a pair with no local model gets none, and one line says so. Nothing is downloaded."""
    rows = [{"doc": d, "para": i, "seg": 0, "kind": "text", "src_lang": src, "tgt_lang": tgt, "source": s, "target": t}
            for d, src, tgt, i, s, t in [("a", "fr", "en", 0, "Il pleut.", "It is raining."),
                                         ("a", "fr", "en", 1, "Le chiffre est de 12 %.", "The figure is 21%."),
                                         ("b", "fi", "en", 0, "Sataa.", "It is raining.")]]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    plain = json.loads(check("--json", path).stdout)
    assert all(s["score"] is None for d in plain["documents"] for s in d["segments"])
    run = check("--json", "--score", path)
    assert run.exit_code == 0, run.output
    a, b = json.loads(run.stdout)["documents"]
    assert all(isinstance(s["score"], float) and s["score"] <= 0 for s in a["segments"])
    assert [s["score"] for s in b["segments"]] == [None]
    assert f"{path}: the model score is absent (no fi-en model in the local cache)" in run.stderr
    for scored, unscored in zip(a["segments"], plain["documents"][0]["segments"]):  # a score only adds a finding
        assert [c for c in scored["checks"] if c["code"] != "score"] == unscored["checks"]
