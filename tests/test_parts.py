"""Long documents come in parts: segmented lazily, translated part by part, written as they arrive.

PART_SEGMENTS and WINDOW_SEGMENTS (2048 each in use) are made tiny here, so that a document of a
few dozen sentences behaves as a 20 MB one does: several parts, a paragraph longer than a part
cut inside, a failure in a later part. The same document translated whole is the reference: the
parts must join to exactly its segments, and the files written part by part must be the files
written at once (md, jsonl, txt, tmx byte for byte; html and xliff start a new row or unit where a
paragraph was cut, and stay valid).
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents
from translate_kit.cli import app
from translate_kit.runtime.torch import TorchEngine as Engine
from translate_kit.segment import reassemble
from translate_kit.translate import translate, translate_parts

translate_module = importlib.import_module("translate_kit.translate")  # the package exports a function of that name
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
PART = 4
DECODE = DecodeOptions(beams=1, backend="torch")


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    found = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if 30 < len(s) < 160]
    return [f"{s[:-1]} numéro {n}{s[-1]}" for n, s in enumerate(dict.fromkeys(found))]  # no two alike


def long_text() -> str:
    """Paragraphs of 1 to 5 sentences, then one paragraph of 11 lines (a part and more), then two more."""
    pool = iter(sentences())
    paragraphs = [" ".join(next(pool) for _ in range(k)) for k in (3, 1, 5, 2, 4, 3)]
    paragraphs.append("\n".join(next(pool) for _ in range(11)))  # one paragraph, line breaks inside
    paragraphs += [" ".join(next(pool) for _ in range(2)), next(pool)]
    return " date 2024-06 " + "\n\n".join(paragraphs) + "\n"


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(translate_module, "PART_SEGMENTS", PART)
    monkeypatch.setattr(translate_module, "WINDOW_SEGMENTS", PART)


@pytest.fixture
def article(tmp_path) -> Path:
    path = tmp_path / "long.txt"
    path.write_text(long_text(), encoding="utf-8")
    return path


def run_parts(path: Path, **run) -> list:
    return list(translate_parts(load_documents([str(path)]), "en", src="fr", decode=DECODE,
                                run=RunOptions.from_env(use_cache=False, **run)))


def key(s) -> tuple:
    return s.para, s.seg, s.kind, s.source, s.space_after, s.target, s.origin, s.flag


def test_parts_join_to_the_whole_document(offline_hub, article, monkeypatch):
    (whole,) = translate(load_documents([str(article)]), "en", src="fr", decode=DECODE,
                         run=RunOptions.from_env(use_cache=False))
    monkeypatch.setattr(translate_module, "PART_SEGMENTS", PART)
    monkeypatch.setattr(translate_module, "WINDOW_SEGMENTS", PART)
    parts = run_parts(article)

    assert len(parts) >= 6
    assert [p.part for p in parts] == list(range(len(parts)))
    assert [p.final for p in parts] == [False] * (len(parts) - 1) + [True]
    assert all(p.doc_id == whole.doc_id and p.model == whole.model and p.error is None for p in parts)
    joined = [s for p in parts for s in p.segments]
    assert [key(s) for s in joined] == [key(s) for s in whole.segments]  # same numbering, targets, origins
    assert reassemble(joined) == article.read_text(encoding="utf-8")
    assert parts[-1].counts == whole.counts and whole.counts["translated"] == whole.counts["segments"] > 25
    assert [p.counts["segments"] for p in parts] == sorted(p.counts["segments"] for p in parts)  # running totals

    # Cuts fall between paragraphs, except inside the paragraph longer than two parts.
    cut_inside = [a.segments[-1].para for a, b in zip(parts, parts[1:]) if a.segments[-1].para == b.segments[0].para]
    long_para = max({s.para for s in joined}, key=lambda k: sum(s.para == k for s in joined))
    assert cut_inside and set(cut_inside) == {long_para}
    assert all(len(p.segments) <= 2 * PART for p in parts)


def test_parts_are_segmented_and_translated_lazily(offline_hub, article, small_parts, monkeypatch, spy):
    """The first part is handed on before the rest of the document is even segmented."""
    produced = []
    original = translate_module.iter_segments

    def counting(doc, *args):
        for s in original(doc, *args):
            produced.append(s)
            yield s

    monkeypatch.setattr(translate_module, "iter_segments", counting)
    parts = translate_parts(load_documents([str(article)]), "en", src="fr", decode=DECODE,
                            run=RunOptions.from_env(use_cache=False))
    first = next(parts)
    assert len(first.segments) == PART and not first.final
    assert len(produced) <= PART + 1  # the part, and the segment that showed where it ends
    assert sum(len(lengths) for _, lengths in spy) == sum(s.kind == "text" for s in first.segments)  # only this part
    rest = list(parts)
    assert rest[-1].final and len(produced) == sum(len(p.segments) for p in [first, *rest]) > 6 * PART


def tk(*args):
    return CliRunner().invoke(app, ["translate", *args, "--from", "fr", "--backend", "torch", "--beams", "1",
                                    "--format", "all", "-q"])


def test_files_written_part_by_part_equal_files_written_whole(offline_hub, article, tmp_path, monkeypatch):
    assert tk(str(article), "--out", str(tmp_path / "whole"), "--no-cache").exit_code == 0
    monkeypatch.setattr(translate_module, "PART_SEGMENTS", PART)
    monkeypatch.setattr(translate_module, "WINDOW_SEGMENTS", PART)
    result = tk(str(article), "--out", str(tmp_path / "parts"), "--no-cache", "--json")
    assert result.exit_code == 0, result.output
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    names = sorted(p.name for p in whole.iterdir())
    assert names == sorted(p.name for p in parts.iterdir()) and len(names) == 7  # no .part file left
    for name in names:
        if name.endswith((".md", ".jsonl", ".txt", ".tmx")):
            assert (parts / name).read_bytes() == (whole / name).read_bytes(), name

    report = json.loads(result.stdout)["documents"][0]
    rows = [json.loads(line) for line in (parts / "long.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    assert report["segments"] == report["translated"] == sum(r["kind"] == "text" for r in rows)
    assert sorted(report["outputs"]) == sorted(str(parts / n) for n in names)

    # xliff: one more unit where the long paragraph was cut, ids unique, still valid, same segments
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff_core_2.0.xsd"), parser))
    ns = "{urn:oasis:names:tc:xliff:document:2.0}"
    trees = {d: etree.parse(str(d / "long.fr-en.xlf")) for d in (whole, parts)}
    assert schema.validate(trees[parts]), schema.error_log
    units = {d: [u.get("id") for u in t.iter(f"{ns}unit")] for d, t in trees.items()}
    assert len(units[parts]) > len(units[whole]) and len(set(units[parts])) == len(units[parts])
    for tag in ("source", "target"):
        texts = {d: [e.text for e in t.iter(f"{ns}{tag}")] for d, t in trees.items()}
        assert texts[parts] == texts[whole]

    # html: the same sentences, in one more section (a long paragraph's sentence rows go on in it)
    html = {d: (d / "long.fr-en.html").read_text(encoding="utf-8") for d in (whole, parts)}
    spans = {d: re.findall(r'<span class="s[^"]*" data-k="([\d-]+)"', h) for d, h in html.items()}
    assert sorted(spans[parts]) == sorted(spans[whole]) and len(spans[whole]) == 2 * len(set(spans[whole]))
    assert html[parts].count('<section class="') == html[whole].count('<section class="') + 1


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, public_id, context):
        if url.endswith("xml.xsd"):
            return self.resolve_filename(str(SCHEMAS / "xml.xsd"), context)
        return None


def test_failure_in_a_later_part_writes_nothing_of_that_document(offline_hub, article, tmp_path, small_parts,
                                                                 monkeypatch, spy):
    """Out of memory on a sentence of the third part: the document gets no output files (and no
    temporary ones are left), the next document is written, and the parts before are cached."""
    import torch

    other = tmp_path / "other.txt"
    other.write_text("Une phrase courte. Une autre phrase.\n", encoding="utf-8")
    culprit = [s for p in run_parts(article)[2:3] for s in p.segments if s.kind == "text"][0].text
    original = Engine.generate

    def generate(self, texts, **overrides):
        if culprit in texts:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return original(self, texts, **overrides)

    monkeypatch.setattr(Engine, "generate", generate)
    out = tmp_path / "out"
    spy.clear()
    result = tk(str(article), str(other), "--out", str(out))
    assert result.exit_code == 1
    assert f"{article}: out of memory on a single segment" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"other.fr-en.{e}" for e in ("md", "jsonl", "txt", "html", "tmx", "xlf", "xliff12.xlf"))
    sent = sum(len(lengths) for _, lengths in spy)

    monkeypatch.setattr(Engine, "generate", original)
    spy.clear()
    assert tk(str(article), "--out", str(out)).exit_code == 0
    total = sum(r["kind"] == "text" for r in map(json.loads, (out / "long.fr-en.jsonl").read_text(encoding="utf-8").splitlines()))
    resent = sum(len(lengths) for _, lengths in spy)
    assert resent < total - 2 * PART + 1  # the first two parts came from the cache
    assert sent < total  # the parts after the failed one were not translated


def test_failed_part_ends_its_document_within_one_window(offline_hub, article, tmp_path, monkeypatch):
    """With parts smaller than a window, the parts after a failed one may share its window: they are
    not handed on, so nothing of the document is written and it is reported once."""
    import torch

    monkeypatch.setattr(translate_module, "PART_SEGMENTS", 2)
    monkeypatch.setattr(translate_module, "WINDOW_SEGMENTS", 1000)
    culprit = [s for p in run_parts(article)[1:2] for s in p.segments if s.kind == "text"][0].text
    original = Engine.generate

    def generate(self, texts, **overrides):
        if culprit in texts:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return original(self, texts, **overrides)

    monkeypatch.setattr(Engine, "generate", generate)
    parts = run_parts(article)
    assert [p.part for p in parts] == [0, 1] and parts[0].error is None  # nothing after the failed part
    assert parts[1].final and "out of memory" in str(parts[1].error)
    result = tk(str(article), "--out", str(tmp_path / "out"), "--no-cache", "--json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["documents"]) == 1 and not list((tmp_path / "out").iterdir())
