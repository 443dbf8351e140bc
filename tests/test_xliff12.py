"""XLIFF 1.2 (`--format xliff12`): schema validity, structure and states, `tk import-review` of 1.2
(and of the 1.1 files translate-toolkit's po2xliff writes), and a real client: translate-toolkit
opens tk's XLIFF 1.2 and TMX through its own format detection and round-trips them through PO.

Pure-logic tests use the hand-built results of test_writers.py; the client tests run the real
pipeline on the fr-en copy model and compare with the jsonl written in the same run.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree
from test_writers import ALL_RESULTS, SCHEMAS, LocalSchemas, parse_xml, render, sample, text_segments
from typer.testing import CliRunner

from translate_kit.cli import app
from translate_kit.review import read_review
from translate_kit.writers import get_writers
from translate_kit.writers.xliff12 import NS

X = f"{{{NS}}}"
runner = CliRunner()

ARTICLE = (
    "Le gouvernement a présenté son budget mardi. Les syndicats appellent à la grève.\n\n"
    "La ministre défend la réforme devant l'Assemblée. Elle promet des mesures rapides. "
    "Le vote aura lieu jeudi.\n\n"
    "M. Dupont & Mme Durand ont dit <non> au « texte ».\n"
)


@pytest.fixture(scope="module")
def schema():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff-core-1.2-transitional.xsd"), parser))


@pytest.mark.parametrize("make", ALL_RESULTS, ids=lambda f: f.__name__)
def test_valid_against_the_xliff_12_transitional_schema(make, schema):
    root = parse_xml(render("xliff12", make()))
    assert schema.validate(root), schema.error_log
    assert root.get("version") == "1.2" and len(root.findall(f"{X}file")) == 1


def test_the_schema_rejects_a_broken_file(schema):
    root = parse_xml(render("xliff12", sample()))
    assert schema.validate(root)
    root.find(f".//{X}target").set("state", "reviewed")  # a 2.x state, not a 1.2 one
    assert not schema.validate(root)


def test_one_group_per_paragraph_one_unit_per_sentence_states_and_flag_notes():
    result = sample()
    root = ET.fromstring(render("xliff12", result))
    file = root.find(f"{X}file")
    assert (file.get("source-language"), file.get("target-language"), file.get("original")) == ("fr", "en", result.source_name)
    notes = [n.text for n in file.find(f"{X}header").iter(f"{X}note")]
    assert "document: sample" in notes and "date: 2024-06" in notes
    segments = text_segments(result)
    groups = file.find(f"{X}body").findall(f"{X}group")
    assert [g.get("id") for g in groups] == [f"p{p}" for p in dict.fromkeys(s.para for s in segments)]
    units = [u for g in groups for u in g.findall(f"{X}trans-unit")]
    assert [(u.findtext(f"{X}source"), u.findtext(f"{X}target")) for u in units] == [(s.text, s.target) for s in segments]
    assert len({u.get("id") for u in units}) == len(units)
    states = [(u.get("approved"), u.find(f"{X}target").get("state")) for u in units]
    assert states == [(None, "needs-review-translation"), (None, "needs-review-translation"), ("yes", "signed-off"),
                      (None, "needs-review-translation"), (None, "needs-review-translation")]
    assert [n.text for u in units for n in u.iter(f"{X}note")] == ["output repeats itself"]


def test_empty_target_needs_translation():
    from test_writers import with_empty_target

    root = ET.fromstring(render("xliff12", with_empty_target()))
    states = [t.get("state") for t in root.iter(f"{X}target")]
    assert states == ["needs-review-translation", "needs-translation", "needs-review-translation"]


def test_file_name_does_not_collide_with_xliff_21(tmp_path):
    result = sample()
    names = [w.path_for(result, tmp_path).name for w in get_writers("all") if w.applies(result)]
    assert len(set(names)) == len(names)
    assert get_writers("xliff12")[0].path_for(result, tmp_path).name == "sample.fr-en.xliff12.xlf"
    assert get_writers("xliff")[0].path_for(result, tmp_path).name == "sample.fr-en.xlf"


def test_import_review_reads_12_states_and_approved(tmp_path):
    """translated, signed-off, final and approved="yes" count; needs-review-* and empty targets do not."""
    ET.register_namespace("", NS)
    root = ET.fromstring(render("xliff12", sample()))
    units = list(root.iter(f"{X}trans-unit"))
    marks = [("translated", None), (None, None), ("needs-review-translation", "yes"), ("final", None), ("signed-off", None)]
    for unit, (state, approved) in zip(units, marks):
        unit.attrib.pop("approved", None)
        target = unit.find(f"{X}target")
        target.set("state", state or "needs-review-translation")
        if approved:
            unit.set("approved", approved)
    units[3].find(f"{X}target").text = ""  # final but emptied: not a translation
    path = tmp_path / "r.xliff12.xlf"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    review = read_review(path)
    assert (review.src_lang, review.tgt_lang, review.documents) == ("fr", "en", ["sample"])
    assert (review.segments, review.marked, review.empty) == (5, 3, 1)
    segments = text_segments(sample())
    assert review.reviews == {segments[i].text: (segments[i].target, "sample") for i in (0, 2, 4)}


# --- a real client: translate-toolkit --------------------------------------------------------------


def tk(*args) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def translated(offline_hub, tmp_path) -> tuple[Path, list[tuple[str, str]]]:
    """One article through the copy model in jsonl, xliff12, tmx and xliff; (folder, jsonl pairs)."""
    doc = tmp_path / "article.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    code, _, stderr = tk("translate", doc, "--from", "fr", "--to", "en", "--out", out, "--cache-dir", tmp_path / "cache",
                         "--format", "jsonl,xliff12,tmx,xliff", "--quiet")
    assert code == 0, stderr
    rows = [json.loads(line) for line in (out / "article.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    pairs = [(r["source"].strip(), r["target"].strip()) for r in rows if r["kind"] != "meta"]
    assert len(pairs) == 6 and all(t for _, t in pairs)
    return out, pairs


def units_of(store) -> list[tuple[str, str]]:
    return [(u.source, u.target) for u in store.units if not u.isheader()]


def test_translate_toolkit_detects_and_reads_xliff12_and_tmx(translated):
    from translate.storage import factory, tmx, xliff

    out, pairs = translated
    store = factory.getobject(str(out / "article.fr-en.xliff12.xlf"))
    assert isinstance(store, xliff.xlifffile)
    assert (store.getsourcelanguage(), store.gettargetlanguage()) == ("fr", "en")
    assert units_of(store) == pairs
    assert all(u.isfuzzy() and not u.isapproved() for u in store.units)  # machine output, to be checked
    memory = factory.getobject(str(out / "article.fr-en.tmx"))
    assert isinstance(memory, tmx.tmxfile) and units_of(memory) == pairs


def test_xliff2po_and_po2xliff_round_trip_back_into_import_review(translated, tmp_path):
    """tk -> xliff2po -> a translator approves and corrects one entry in the PO -> po2xliff (with tk's
    file as the template, as its docs say for a round trip) -> tk import-review -> the next tk
    translate uses that translation."""
    from translate.convert import po2xliff, xliff2po
    from translate.storage import po as pofile

    out, pairs = translated
    po_path = tmp_path / "machine.po"
    with open(out / "article.fr-en.xliff12.xlf", "rb") as source, open(po_path, "wb") as dest:
        assert xliff2po.convertxliff(source, dest, None) == 1
    po = pofile.pofile(po_path.read_bytes())
    entries = [u for u in po.units if not u.isheader()]
    assert [(u.source, u.target) for u in entries] == pairs and all(u.isfuzzy() for u in entries)

    entries[1].target = "Unions call a strike."
    entries[1].markfuzzy(False)
    edited = tmp_path / "article.po"
    edited.write_bytes(bytes(po))
    path = tmp_path / "back.xlf"
    with open(edited, "rb") as po_file, open(out / "article.fr-en.xliff12.xlf", "rb") as template, open(path, "wb") as dest:
        assert po2xliff.convertpo(po_file, dest, template) == 1
    # po2xliff keeps the template's <file> (languages included) and adds one <file> for the PO entries
    review = read_review(path)
    assert (review.src_lang, review.tgt_lang) == ("fr", "en") and review.documents[0] == "article"
    assert review.segments == 2 * len(pairs)  # the PO header unit is not a sentence
    assert review.reviews == {pairs[1][0]: ("Unions call a strike.", review.documents[1])}

    code, _, stderr = tk("import-review", path, "--cache-dir", tmp_path / "cache")
    assert code == 0, stderr
    code, stdout, stderr = tk("translate", tmp_path / "article.txt", "--from", "fr", "--to", "en", "--out", tmp_path / "run2",
                              "--cache-dir", tmp_path / "cache", "--format", "xliff12", "--json", "--quiet")
    assert code == 0, stderr
    assert json.loads(stdout)["documents"][0]["reviewed"] == 1
    units = list(ET.parse(tmp_path / "run2" / "article.fr-en.xliff12.xlf").iter(f"{X}trans-unit"))
    assert units[1].findtext(f"{X}target") == "Unions call a strike." and units[1].get("approved") == "yes"


def test_tk_import_review_cli_reads_xliff12(translated, tmp_path):
    out, pairs = translated
    path = out / "article.fr-en.xliff12.xlf"
    ET.register_namespace("", NS)
    tree = ET.parse(path)
    tree.getroot().find(f".//{X}trans-unit").set("approved", "yes")
    tree.write(path, encoding="utf-8", xml_declaration=True)
    code, stdout, stderr = tk("import-review", path, "--cache-dir", tmp_path / "cache", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)["files"][0]
    assert (report["reviewed"], report["not_reviewed"], report["documents"]) == (1, len(pairs) - 1, ["article"])


def test_a_paragraph_continued_in_a_later_part_is_a_group_of_its_own(schema):
    """A paragraph longer than a part arrives in pieces: the later piece is another <group>, ids unique."""
    result = sample()
    writer = get_writers("xliff12")[0]
    para = [s for s in text_segments(result) if s.para == 1]
    text = writer.head(result) + writer.paragraph(result, para[:2], False) + writer.paragraph(result, para[2:], True)
    root = parse_xml(text + writer.tail(result))
    assert schema.validate(root), schema.error_log
    assert [g.get("id") for g in root.iter(f"{X}group")] == ["p1", "p1-s2"]
    assert [u.findtext(f"{X}source") for u in root.iter(f"{X}trans-unit")] == [s.text for s in para]
