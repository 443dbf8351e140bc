"""`tk import-review`: a reviewed XLIFF file's segments become the translations of later runs.

The end-to-end test runs the real pipeline on the tiny fr-en copy model of the offline test hub:
translate -> export XLIFF -> a reviewer marks two segments final with new targets -> import ->
translate again. The rest are pure-logic tests of reading review files and of the overrides table.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cache import Cache
from translate_kit.cli import app
from translate_kit.errors import DocumentError
from translate_kit.review import import_review, read_review
from translate_kit.writers.xliff import NS

runner = CliRunner()
X = f"{{{NS}}}"

ARTICLE = (
    "Le gouvernement a présenté son budget mardi. Les syndicats appellent à la grève.\n\n"
    "La ministre défend la réforme devant l'Assemblée. Elle promet des mesures rapides. "
    "Le vote aura lieu jeudi.\n"
)


def tk(*args) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def translate_to(out: Path, doc: Path, cache: Path, *extra) -> dict:
    code, stdout, stderr = tk("translate", doc, "--from", "fr", "--to", "en", "--out", out, "--format", "jsonl,xliff",
                              "--cache-dir", cache, "--json", "--quiet", *extra)
    assert code == 0, stderr
    return json.loads(stdout)["documents"][0]


def review(xlf: Path, edits: dict[int, tuple[str, str]]) -> None:
    """What a reviewer does in a CAT tool: set state and target of the segments numbered in `edits`."""
    ET.register_namespace("", NS)
    tree = ET.parse(xlf)
    segments = list(tree.iter(f"{X}segment"))
    for index, (state, target) in edits.items():
        segments[index].set("state", state)
        segments[index].find(f"{X}target").text = target
    tree.write(xlf, encoding="utf-8", xml_declaration=True)


def test_import_review_round_trip(offline_hub, tmp_path):
    doc, cache = tmp_path / "article.txt", tmp_path / "cache"
    doc.write_text(ARTICLE, encoding="utf-8")
    first = translate_to(tmp_path / "run1", doc, cache)
    assert first["reviewed"] == 0 and first["translated"] == 5
    before = records(tmp_path / "run1" / "article.fr-en.jsonl")
    xlf = tmp_path / "run1" / "article.fr-en.xlf"
    review(xlf, {1: ("final", "Unions call a strike."), 3: ("reviewed", "She promises quick measures."),
                 4: ("final", "")})  # an emptied target is not a translation: left out

    code, stdout, stderr = tk("import-review", xlf, "--cache-dir", cache, "--json")
    assert code == 0, stderr
    report = json.loads(stdout)["files"][0]
    assert (report["reviewed"], report["empty"], report["not_reviewed"]) == (2, 1, 2)
    assert report["documents"] == ["article"] and (report["src_lang"], report["tgt_lang"]) == ("fr", "en")

    second = translate_to(tmp_path / "run2", doc, cache)
    assert (second["reviewed"], second["cached"], second["translated"]) == (2, 3, 0)
    after = records(tmp_path / "run2" / "article.fr-en.jsonl")
    assert [r["target"] for r in after] == [before[0]["target"], "Unions call a strike.", before[2]["target"],
                                            "She promises quick measures.", before[4]["target"]]
    assert [r["origin"] for r in after] == ["cache", "review", "cache", "review", "cache"]
    states = [s.get("state") for s in ET.parse(tmp_path / "run2" / "article.fr-en.xlf").iter(f"{X}segment")]
    assert states == ["initial", "reviewed", "initial", "reviewed", "initial"]

    # A review is not tied to the model's settings: another beam size (a new cache signature) keeps it.
    third = translate_to(tmp_path / "run3", doc, cache, "--beams", "1")
    assert third["reviewed"] == 2 and third["translated"] == 3
    assert [r["target"] for r in records(tmp_path / "run3" / "article.fr-en.jsonl")][1::2] == [
        "Unions call a strike.", "She promises quick measures."]


# --- reading review files ------------------------------------------------------------------------

XLIFF_DOC = f"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="{NS}" version="2.1" srcLang="fr" trgLang="en">
  <file id="a_b" xml:space="preserve">
    <notes><note category="document">a@b</note></notes>
    <unit id="p0">
      <segment id="s0" state="final"><source>Bonjour &amp; « adieu ».</source><target>Hello &amp; <mrk id="m1">goodbye</mrk>.</target></segment>
      <ignorable><source> </source></ignorable>
      <segment id="s1" state="translated"><source>Non revu.</source><target>Not reviewed.</target></segment>
      <segment id="s2"><source>Sans état.</source><target>No state.</target></segment>
      <segment id="s3" state="reviewed"><source>Sans cible.</source></segment>
    </unit>
  </file>
</xliff>
"""


def test_read_review_keeps_reviewed_and_final_segments_only(tmp_path):
    path = tmp_path / "r.xlf"
    path.write_text(XLIFF_DOC, encoding="utf-8")
    review_file = read_review(path)
    assert (review_file.src_lang, review_file.tgt_lang, review_file.documents) == ("fr", "en", ["a@b"])
    assert review_file.reviews == {"Bonjour & « adieu ».": ("Hello & goodbye.", "a@b")}  # inline markup flattened
    assert (review_file.segments, review_file.marked, review_file.empty) == (4, 1, 1)


@pytest.mark.parametrize("content, problem", [
    ('<?xml version="1.0"?><xliff version="1.2"><file/></xliff>', "is XLIFF 1.2 in no namespace tk reads"),
    ('<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"><file original="x"/></xliff>',
     "no source-language or target-language"),
    ("<html><body/></html>", "is a <html> document"),
    ("<xliff", "not well-formed XML"),
    (f'<xliff xmlns="{NS}" version="2.1" srcLang="fr"><file id="f"/></xliff>', "no srcLang or trgLang"),
])
def test_unusable_review_files_are_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "bad.xlf"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match=problem):
        read_review(path)
    code, stdout, stderr = tk("import-review", path, "--cache-dir", tmp_path / "cache")
    assert code == 1 and stderr.count("\n") == 1 and stderr.startswith(f"tk: {path}: ") and problem in stderr


def test_missing_file_does_not_stop_the_others(tmp_path):
    good = tmp_path / "r.xlf"
    good.write_text(XLIFF_DOC, encoding="utf-8")
    code, stdout, stderr = tk("import-review", tmp_path / "nope.xlf", good, "--cache-dir", tmp_path / "cache", "--json")
    assert code == 1 and "nope.xlf: no such file" in stderr
    files = json.loads(stdout)["files"]
    assert files[0]["error"] and files[1]["reviewed"] == 1


# --- the overrides table ---------------------------------------------------------------------------


def test_overrides_are_keyed_by_language_pair_and_source_only(tmp_path):
    cache = Cache(tmp_path)
    assert cache.put_overrides("fr", "en", [("Bonjour.", "Hello.", "doc1"), ("Oui.", "Yes.", None)]) == 2
    assert cache.get_overrides("fr", "en", ["Bonjour.", "Inconnu.", "Bonjour."]) == {"Bonjour.": "Hello."}
    assert cache.get_overrides("fr", "de", ["Bonjour."]) == {} and cache.get_overrides("en", "fr", ["Bonjour."]) == {}
    cache.put_overrides("fr", "en", [("Bonjour.", "Good morning.", "doc2")])  # a later review replaces the earlier one
    assert cache.get_overrides("fr", "en", ["Bonjour."]) == {"Bonjour.": "Good morning."}
    many = [f"Phrase {i}." for i in range(1200)]  # more than one lookup chunk
    cache.put_overrides("fr", "en", [(s, s.upper(), None) for s in many])
    assert len(cache.get_overrides("fr", "en", many)) == 1200
    cache.clear()  # clearing the model cache keeps human work
    assert cache.get_overrides("fr", "en", ["Oui."]) == {"Oui.": "Yes."}
    cache.close()


def test_import_review_writes_into_the_cache_folder(tmp_path):
    path = tmp_path / "r.xlf"
    path.write_text(XLIFF_DOC, encoding="utf-8")
    report = import_review(path, tmp_path / "cache")
    assert report["reviewed"] == 1 and report["cache"].startswith(str(tmp_path / "cache"))
    cache = Cache(tmp_path / "cache")
    assert cache.get_overrides("fr", "en", ["Bonjour & « adieu »."]) == {"Bonjour & « adieu ».": "Hello & goodbye."}
    cache.close()
