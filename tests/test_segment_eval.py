"""Sentence boundaries measured on the evaluation set in tests/data/segmentation/ (see its README):
boundary precision, recall and F1 per language, on the dev half and on the held-out half."""

from pathlib import Path

import pytest

from translate_kit.segment import split_sentences

DATA = Path(__file__).parent / "data" / "segmentation"
LANGS = ["fr", "de", "en", "es", "it", "pt", "nl"]


def load_set(lang: str, half: str) -> list[list[str]]:
    """Paragraphs, each a list of its gold sentences."""
    text = (DATA / f"{lang}.{half}.txt").read_text(encoding="utf-8")
    return [[line for line in block.splitlines() if line.strip()] for block in text.split("\n\n") if block.strip()]


def boundaries(sentences: list[str]) -> set[int]:
    """Character offsets where a sentence ends inside its paragraph (the paragraph's end left out)."""
    ends, pos = set(), 0
    for sentence in sentences[:-1]:
        pos += len(sentence)
        ends.add(pos)
    return ends


def score(paragraphs: list[list[str]], split) -> dict:
    """Boundary precision, recall and F1 of `split` (paragraph text -> sentences, whitespace kept)."""
    found = gold = right = 0
    for sentences in paragraphs:
        text = " ".join(sentences)
        expected = boundaries([s + " " for s in sentences])
        got = {end - (text[:end].endswith(" ")) for end in boundaries(split(text))}  # a boundary is where the space starts
        expected = {end - 1 for end in expected}
        found, gold, right = found + len(got), gold + len(expected), right + len(got & expected)
    precision = right / found if found else 1.0
    recall = right / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold": gold, "found": found}


def test_the_set_is_big_enough():
    for lang in LANGS:
        assert sum(len(p) for half in ("dev", "test") for p in load_set(lang, half)) >= 150, lang


@pytest.mark.parametrize("half", ["dev", "test"])
@pytest.mark.parametrize("lang", LANGS)
def test_boundary_f1(lang, half):
    result = score(load_set(lang, half), lambda text: split_sentences(text, lang))
    assert result["f1"] >= 0.97, result
