"""The document's language reaches the segmenter: translate (whole and streamed documents),
summarize, `tk ls`; `--from` that a sure detection contradicts is a warning; budget pieces are
marked in jsonl. Offline against the test hub (de-en and fr-en are the tiny COPY model)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, documents, load_documents, translate
from translate_kit.cli import app
from translate_kit.documents import Document
from translate_kit.language import source_language
from translate_kit.segment import Segment, fit_segments, split_sentences
from translate_kit.writers import record

SEEDS = Path(__file__).parents[1] / "seeds"
# German news: with French rules the model would get "Am 3." | "Oktober ...", "wie z." | "B. ...", "Mrd." | "Euro."
DE_TEXT = ("Am 3. Oktober 2024 sprach der Bundespräsident in Schwerin über die Einheit. Viele Städte, wie z. B. "
           "Köln oder Leipzig, haben eigene Programme gestartet. Die Regierung plant Investitionen von 12,5 Mrd. "
           "Euro in die Bahn. Die 2. Runde der Verhandlungen endete ohne Ergebnis.\n\n„Wir werden die "
           "Schuldenbremse einhalten. Daran gibt es nichts zu rütteln“, sagte der Finanzminister am Dienstag.\n")
QUICK = DecodeOptions(beams=1, repetition_retry=False, backend="torch")
runner = CliRunner()


def german_sentences() -> list[str]:
    return [s.strip() for para in DE_TEXT.split("\n\n") for s in split_sentences(para, "de") if s.strip()]


@pytest.fixture
def de_file(tmp_path) -> Path:
    path = tmp_path / "bahn.txt"
    path.write_text(DE_TEXT, encoding="utf-8")
    return path


def test_german_rules_are_not_french_rules():
    assert len(german_sentences()) == 6
    assert len([s for p in DE_TEXT.split("\n\n") for s in split_sentences(p, "fr") if s.strip()]) > 6


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_translate_segments_by_the_detected_language(offline_hub, de_file, tmp_path, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(documents, "STREAM_BYTES", 1)  # read block by block, as a large file is
    run = RunOptions(cache_dir=tmp_path / "cache")
    (result,) = translate(load_documents([str(de_file)], tmp_path), "en", run=run, decode=QUICK)
    assert result.error is None and result.src_lang == "de"
    assert type(result.document).__name__ == ("StreamedDocument" if streamed else "Document")
    assert [s.text for s in result.segments if s.kind == "text"] == german_sentences()
    assert not result.document.warnings  # detected, so nothing to contradict


def test_from_flag_is_the_segmentation_language(offline_hub, de_file, tmp_path):
    """`--from de` on a German file whose sample is too short to contradict anything: German rules."""
    run = RunOptions(cache_dir=tmp_path / "cache")
    (result,) = translate(load_documents([str(de_file)], tmp_path), "en", src="de", run=run, decode=QUICK)
    assert [s.text for s in result.segments if s.kind == "text"] == german_sentences()


def test_from_contradicted_by_detection_warns_in_report_and_header(offline_hub, tmp_path):
    seed = sorted(SEEDS.glob("*.txt"))[0]  # French, long enough for a sure detection
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(seed), "--from", "de", "--to", "en", "--backend", "torch",
                                 "--beams", "1", "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["src_lang"] == "de"  # a warning, not an error: the user's word stands
    (warning,) = [w for w in doc["warnings"] if "--from de" in w]
    assert "fr" in warning
    (md,) = out.glob("*.md")
    assert f"**Warning:** {warning}" in md.read_text(encoding="utf-8")


def test_from_agreeing_with_detection_says_nothing(tmp_path):
    doc = Document(id="x", text=sorted(SEEDS.glob("*.txt"))[0].read_text(encoding="utf-8"))
    assert source_language(doc, "fr") == "fr" and doc.warnings == []
    assert source_language(doc, "de") == "de" and len(doc.warnings) == 1
    assert source_language(doc, "de") == "de" and len(doc.warnings) == 1  # said once per document
    short = Document(id="y", text="Bonjour à tous.")
    assert source_language(short, "de") == "de" and short.warnings == []  # too short to contradict


def test_ls_counts_sentences_by_the_documents_language(tmp_path):
    (tmp_path / "bahn.txt").write_text(DE_TEXT, encoding="utf-8")
    result = runner.invoke(app, ["ls", "--corpus", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["lang"], row["sentences"]) == ("de", len(german_sentences()))


def test_extractive_summary_picks_sentences_of_the_documents_language(offline_hub, tmp_path):
    from translate_kit.summarize import SummaryOptions, summarize

    path = tmp_path / "bahn.txt"
    path.write_text(DE_TEXT * 3, encoding="utf-8")
    options = SummaryOptions(method="extractive", length="short", langs=("de",))
    (result,) = summarize(load_documents([str(path)], tmp_path), options)
    assert result.error is None and result.src_lang == "de" and result.sentences
    assert all(s.texts["de"] in german_sentences() for s in result.sentences)


def words(text: str) -> int:
    return len(text.split()) + 1


def test_budget_pieces_are_marked_in_jsonl():
    long = "eins zwei drei, vier fünf sechs, sieben acht neun. "
    segments = [Segment(0, 0, "Kurz.", " "), Segment(0, 1, long.strip(), " "), Segment(1, 0, "Ende.", "")]
    fitted = fit_segments(segments, words, 4)
    pieces = [s.piece for s in fitted]
    assert pieces[0] is None and pieces[-1] is None
    inner = pieces[1:-1]
    assert len(inner) >= 2 and inner == [(i, len(inner)) for i in range(len(inner))]

    class Result:
        doc_id, src_lang, tgt_lang, document = "d", "de", "en", None

    rows = [record(Result, s) for s in fitted]
    assert "piece" not in rows[0] and "piece" not in rows[-1]
    assert [r["piece"] for r in rows[1:-1]] == [list(p) for p in inner]
    assert "".join(r["source"] + r["space_after"] for r in rows[1:-1]) == long


def test_summary_notes_a_contradicted_from(offline_hub, tmp_path):
    from translate_kit.summarize import SummaryOptions, summarize

    seed = sorted(SEEDS.glob("*.txt"))[0]  # French
    options = SummaryOptions(method="extractive", length="short", langs=("de",), src="de")
    (result,) = summarize(load_documents([str(seed)], tmp_path), options)
    assert result.src_lang == "de"
    assert any(note.startswith("--from de") and "fr" in note for note in result.notes)
