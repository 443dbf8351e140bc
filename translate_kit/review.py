"""Reviewed XLIFF in, human translations out: what `tk import-review` does.

Each segment a reviewer approved (XLIFF 2.1: reviewed or final; 1.2 and 1.1: translated,
signed-off, final or approved="yes") is stored as an override (cache.Cache.put_overrides), keyed by
language pair and exact source text, so every later `tk translate` uses it, whatever the model.
The file alone is enough; ElementTree parses it (expat refuses entity bombs and never fetches).
What is read from where: docs/design.md#the-cache
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocumentError
from .writers import xliff12
from .writers.xliff import NS, q

REVIEWED_STATES = ("reviewed", "final")
PO_HEADER = "x-gettext-domain-header"  # translate-toolkit's restype for the PO header unit


@dataclass
class ReviewFile:
    """The reviewed segments of one XLIFF file, ready to import."""

    path: str
    src_lang: str
    tgt_lang: str
    reviews: dict[str, tuple[str, str]] = field(default_factory=dict)  # source -> (target, document id)
    documents: list[str] = field(default_factory=list)
    segments: int = 0  # all segments in the file
    marked: int = 0  # marked reviewed or final, with text
    empty: int = 0  # marked reviewed or final, but with an empty source or target


def _text(element: ET.Element | None) -> str:
    """The text of a <source> or <target>, inline markup such as <mrk> or <pc> flattened."""
    return "" if element is None else "".join(element.itertext()).strip()


def _parse(path: Path) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except OSError as err:
        raise DocumentError(str(path), f"cannot read ({err.strerror or err})") from None
    except ET.ParseError as err:
        raise DocumentError(str(path), f"not well-formed XML ({err})") from None
    if root.tag != q("xliff") and _xliff1_ns(root) is None:
        name = root.tag.rsplit("}", 1)[-1]
        what = f"XLIFF {root.get('version', '(no version)')} in no namespace tk reads" if name == "xliff" else f"a <{name}> document"
        raise DocumentError(str(path), f"is {what}, not XLIFF 2 ({NS}) or 1.2 ({xliff12.NS}); "
                                       "write one with tk translate --format xliff or xliff12")
    return root


def _document_id(file: ET.Element) -> str:
    for note in file.iter(q("note")):
        if note.get("category") == "document" and _text(note):
            return _text(note)
    return file.get("id", "")


def read_review(path: Path | str) -> ReviewFile:
    """The reviewed segments of an XLIFF 2 or 1.2 file. Raises DocumentError for unusable files."""
    path = Path(path)
    root = _parse(path)
    if _xliff1_ns(root) is not None:
        return _read_review_12(path, root, _xliff1_ns(root))
    src, tgt = root.get("srcLang", ""), root.get("trgLang", "")
    if not src or not tgt:
        raise DocumentError(str(path), "has no srcLang or trgLang on <xliff>; cannot tell which language pair it reviews")
    review = ReviewFile(str(path), src, tgt)
    for file in root.iter(q("file")):
        doc_id = _document_id(file)
        review.documents.append(doc_id)
        for segment in file.iter(q("segment")):
            review.segments += 1
            if segment.get("state", "initial") not in REVIEWED_STATES:
                continue
            source, target = _text(segment.find(q("source"))), _text(segment.find(q("target")))
            if not source or not target:
                review.empty += 1
                continue
            review.marked += 1
            review.reviews[source] = (target, doc_id)  # the same sentence reviewed twice: the last wins
    return review


def _xliff1_ns(root: ET.Element) -> str | None:
    """The namespace of an XLIFF 1.2 file, or of a 1.1 one (same structure; translate-toolkit's
    po2xliff writes 1.1), else None."""
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    return ns if ns in xliff12.READ_NAMESPACES and root.tag == f"{{{ns}}}xliff" else None


def _languages_12(path: Path, files: list[ET.Element]) -> tuple[str, str]:
    """The one language pair of an XLIFF 1.2 file's <file>s (1.2 puts it on each <file>)."""
    pairs = {(f.get("source-language", ""), f.get("target-language", "")) for f in files}
    if len(pairs) > 1:
        raise DocumentError(str(path), "has <file>s with different languages; import one language pair per file")
    src, tgt = next(iter(pairs), ("", ""))
    if not src or not tgt:
        raise DocumentError(str(path), "has no source-language or target-language on <file>; "
                                       "cannot tell which language pair it reviews")
    return src, tgt


def _document_id_12(file: ET.Element, ns: str) -> str:
    """The "document: ID" note writers/xliff12.py puts in the <header>, else the <file>'s original."""
    header = file.find(f"{{{ns}}}header")
    for note in [] if header is None else header.iter(f"{{{ns}}}note"):
        if _text(note).startswith(xliff12.DOCUMENT_NOTE.strip()):
            return _text(note)[len(xliff12.DOCUMENT_NOTE):].strip()
    return file.get("original", "")


def _is_reviewed_12(unit: ET.Element, target: ET.Element | None) -> bool:
    state = "" if target is None else target.get("state", "")
    return unit.get("approved") == "yes" or state in xliff12.REVIEWED_STATES


def _read_review_12(path: Path, root: ET.Element, ns: str) -> ReviewFile:
    """XLIFF 1.2 (or 1.1): a <trans-unit> counts as reviewed when approved="yes" or its <target>
    state is translated, signed-off or final."""
    files = list(root.iter(f"{{{ns}}}file"))
    review = ReviewFile(str(path), *_languages_12(path, files))
    for file in files:
        doc_id = _document_id_12(file, ns)
        review.documents.append(doc_id)
        for unit in file.iter(f"{{{ns}}}trans-unit"):
            if unit.get("restype") == PO_HEADER:
                continue  # a PO file's header carried through po2xliff: metadata, not a sentence
            review.segments += 1
            target = unit.find(f"{{{ns}}}target")
            if not _is_reviewed_12(unit, target):
                continue
            source, text = _text(unit.find(f"{{{ns}}}source")), _text(target)
            if not source or not text:
                review.empty += 1
                continue
            review.marked += 1
            review.reviews[source] = (text, doc_id)
    return review


def import_review(path: Path | str, cache_dir: Path | str) -> dict:
    """Store a reviewed file's segments as overrides in the cache at `cache_dir`; returns a report."""
    from .cache import Cache

    review = read_review(path)
    cache = Cache(cache_dir)
    try:
        rows = [(source, target, doc) for source, (target, doc) in review.reviews.items()]
        imported = cache.put_overrides(review.src_lang, review.tgt_lang, rows)
    finally:
        cache.close()
    return {
        "file": review.path,
        "src_lang": review.src_lang,
        "tgt_lang": review.tgt_lang,
        "documents": review.documents,
        "segments": review.segments,
        "reviewed": imported,
        "empty": review.empty,
        "not_reviewed": review.segments - review.marked - review.empty,
        "cache": str(cache.path),
    }
