"""`tk ls`: a description of every document in the corpus folder."""

from __future__ import annotations

from pathlib import Path

from .documents import corpus_files, read_document
from .errors import DocumentError
from .language import detect_language
from .segment import segment_document


def describe(corpus: Path) -> list[dict]:
    rows = []
    for path in corpus_files(corpus):
        try:
            doc = read_document(path)
        except DocumentError as err:
            rows.append({"id": path.stem, "error": err.problem})
            continue
        segments = [s for s in segment_document(doc) if s.kind != "meta"]
        rows.append({
            "id": doc.id,
            "lang": detect_language(doc.text),
            "paragraphs": len({s.para for s in segments}),
            "sentences": len(segments),
            "characters": len(doc.text),
            "date": doc.meta.get("date"),
            "title": doc.title,
        })
    return rows
