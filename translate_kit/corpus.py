"""`tk ls`: a description of every document given (or of the corpus folder)."""

from __future__ import annotations

from pathlib import Path

from .documents import load_documents
from .errors import DocumentError, UnknownDocument
from .incidents import internal
from .language import detect_language
from .segment import iter_segments


def describe(corpus: Path, inputs: list[str] | None = None) -> list[dict]:
    """One row per document: `inputs` as `tk translate` takes them (files, folders, ids, URLs, -),
    else every document of the corpus folder. A document that cannot be read is a row with its error."""
    if not inputs and not corpus.is_dir():
        raise UnknownDocument(f"corpus folder {corpus} does not exist (give paths, or set --corpus DIR or TK_CORPUS)")
    rows = []
    for doc in load_documents(inputs or [str(corpus)], corpus):
        if isinstance(doc, DocumentError):
            rows.append(_error_row(doc))
            continue
        try:
            rows.append(_row(doc))
        except DocumentError as err:
            rows.append(_error_row(err))
        except Exception as err:  # unforeseen: this document's row says so, the others are listed
            rows.append(_error_row(internal(err, "segmenting", doc.source_name)))
    return rows


def _row(doc) -> dict:
    lang = detect_language(doc.head)  # before segmenting: sentence rules are per language
    paragraphs, sentences = set(), 0  # counted as they come: a huge file is never held whole
    for s in iter_segments(doc, lang):
        if s.kind != "meta":
            paragraphs.add(s.para)
            sentences += 1
    return {
        "id": doc.id,
        "format": doc.format,
        "lang": lang,
        "paragraphs": len(paragraphs),
        "sentences": sentences,
        "characters": sum(len(piece) for piece in doc.pieces()),
        "date": doc.meta.get("date"),
        "title": doc.title,
    }


def _error_row(err: DocumentError) -> dict:
    from .readers import by_suffix

    reader = by_suffix(err.path)
    return {"id": Path(err.path).stem, "source": err.path, "format": reader.name if reader else None,
            "error": err.problem}
