"""`tk ls`: a description of every document in the corpus folder."""

from __future__ import annotations

from pathlib import Path

from .documents import corpus_files, read_document
from .errors import DocumentError
from .language import detect_language
from .segment import iter_segments


def describe(corpus: Path) -> list[dict]:
    rows = []
    for path in corpus_files(corpus):
        try:
            doc = read_document(path)
            lang = detect_language(doc.head)  # before segmenting: sentence rules are per language
            paragraphs, sentences = set(), 0  # counted as they come: a huge file is never held whole
            for s in iter_segments(doc, lang):
                if s.kind != "meta":
                    paragraphs.add(s.para)
                    sentences += 1
        except DocumentError as err:
            rows.append({"id": path.stem, "format": _format_of(path), "error": err.problem})
            continue
        rows.append({
            "id": doc.id,
            "format": doc.format,
            "lang": lang,
            "paragraphs": len(paragraphs),
            "sentences": sentences,
            "characters": sum(len(piece) for piece in doc.pieces()),
            "date": doc.meta.get("date"),
            "title": doc.title,
        })
    return rows


def _format_of(path: Path) -> str | None:
    from .readers import by_suffix

    reader = by_suffix(path)
    return reader.name if reader else None
