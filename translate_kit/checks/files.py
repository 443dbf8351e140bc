"""Translations tk did not make, read for `tk check`: TMX, XLIFF 2.x and 1.2, and tk's jsonl.

Each file gives one or more documents (an XLIFF <file>, a jsonl `doc`, a whole TMX), each a
language pair and its (id, source, target) pairs in file order. A file tk cannot use raises
DocumentError with one line naming it; the caller goes on with the others.

XML is parsed with the standard library's ElementTree, as review.py reads reviewed XLIFF: the
expat under it (2.4.1 and later) refuses entity-expansion bombs and never fetches external
entities, and lxml stays out of the runtime dependencies.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DocumentError
from ..writers import xliff, xliff12
from ..writers._xml import XML_NS

XLIFF2_NAMESPACES = ("urn:oasis:names:tc:xliff:document:2.0", "urn:oasis:names:tc:xliff:document:2.1")
MAX_BYTES = 512 * 1024 * 1024  # a file larger than this is not a translation to check sentence by sentence


@dataclass
class Pairs:
    """One document's translated sentences."""

    file: str
    doc: str
    src_lang: str
    tgt_lang: str
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # (id, source, target)


def read_pairs(path: Path | str) -> list[Pairs]:
    """The documents of one file, by its content (XML root or jsonl records), whatever its name."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DocumentError(str(path), f"is larger than {MAX_BYTES // 2**20} MB")
        with open(path, "rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except IsADirectoryError:
        raise DocumentError(str(path), "is a folder, not a file") from None
    except OSError as err:
        raise DocumentError(str(path), f"cannot read ({err.strerror or err})") from None
    if head.startswith(b"<"):
        return _read_xml(path)
    if head.startswith(b"{"):
        return _read_jsonl(path)
    raise DocumentError(str(path), "is neither TMX, XLIFF nor tk jsonl")


def _text(element: ET.Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _read_xml(path: Path) -> list[Pairs]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise DocumentError(str(path), f"not well-formed XML ({err})") from None
    except OSError as err:
        raise DocumentError(str(path), f"cannot read ({err.strerror or err})") from None
    ns, _, name = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if name == "tmx":
        return [_read_tmx(path, root)]
    if name == "xliff" and ns in XLIFF2_NAMESPACES:
        return _read_xliff2(path, root, ns)
    if name == "xliff" and ns in xliff12.READ_NAMESPACES:
        return _read_xliff12(path, root, ns)
    raise DocumentError(str(path), f"is a <{name}> document, not TMX, XLIFF 2 ({xliff.NS}) or 1.2 ({xliff12.NS})")


def _lang(element: ET.Element) -> str:
    return element.get(f"{{{XML_NS}}}lang") or element.get("lang") or ""


def _read_tmx(path: Path, root: ET.Element) -> Pairs:
    """A TMX file is one document; the source is the header's srclang, the target the other language."""
    header = root.find("header")
    src = header.get("srclang", "") if header is not None else ""
    units = root.findall("body/tu")
    tgt = next((_lang(tuv) for tu in units for tuv in tu.findall("tuv") if _lang(tuv) and _lang(tuv) != src), "")
    if not src or src == "*all*":
        src = next((_lang(tu.find("tuv")) for tu in units if tu.find("tuv") is not None), "")
    if not src or not tgt:
        raise DocumentError(str(path), "has no source and target language (srclang on <header>, xml:lang on <tuv>)")
    doc = Pairs(str(path), path.stem, src, tgt)
    for i, tu in enumerate(units):
        texts = {_lang(tuv).lower(): _text(tuv.find("seg")) for tuv in tu.findall("tuv")}
        doc.pairs.append((tu.get("tuid") or str(i), texts.get(src.lower(), ""), texts.get(tgt.lower(), "")))
    return doc


def _read_xliff2(path: Path, root: ET.Element, ns: str) -> list[Pairs]:
    src, tgt = root.get("srcLang", ""), root.get("trgLang", "")
    if not src or not tgt:
        raise DocumentError(str(path), "has no srcLang or trgLang on <xliff>")
    docs = []
    for file in root.iter(f"{{{ns}}}file"):
        doc = Pairs(str(path), file.get("id", ""), src, tgt)
        for unit in file.iter(f"{{{ns}}}unit"):
            for segment in unit.iter(f"{{{ns}}}segment"):
                ident = f"{unit.get('id', '')}/{segment.get('id', '')}".strip("/")
                doc.pairs.append((ident, _text(segment.find(f"{{{ns}}}source")), _text(segment.find(f"{{{ns}}}target"))))
        docs.append(doc)
    return docs


def _read_xliff12(path: Path, root: ET.Element, ns: str) -> list[Pairs]:
    docs = []
    for file in root.iter(f"{{{ns}}}file"):
        src, tgt = file.get("source-language", ""), file.get("target-language", "")
        if not src or not tgt:
            raise DocumentError(str(path), "has a <file> without source-language or target-language")
        doc = Pairs(str(path), file.get("original", ""), src, tgt)
        for unit in file.iter(f"{{{ns}}}trans-unit"):
            if unit.get("restype") == "x-gettext-domain-header":
                continue
            doc.pairs.append((unit.get("id", ""), _text(unit.find(f"{{{ns}}}source")), _text(unit.find(f"{{{ns}}}target"))))
        docs.append(doc)
    return docs


def _read_jsonl(path: Path) -> list[Pairs]:
    """tk's jsonl: one record a line; meta and metadata records are left out."""
    docs: dict[str, Pairs] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    _add_record(path, number, line, docs)
    except UnicodeDecodeError:
        raise DocumentError(str(path), "is not UTF-8 text") from None
    except OSError as err:
        raise DocumentError(str(path), f"cannot read ({err.strerror or err})") from None
    return list(docs.values())


def _add_record(path: Path, number: int, line: str, docs: dict[str, Pairs]) -> None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise DocumentError(str(path), f"line {number} is not JSON ({err.msg})") from None
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in ("source", "src_lang", "tgt_lang")):
        raise DocumentError(str(path), f"line {number} is not a tk jsonl record (source, target, src_lang, tgt_lang)")
    if record.get("kind") in ("meta", "metadata"):
        return
    doc_id = str(record.get("doc", ""))
    doc = docs.setdefault(doc_id, Pairs(str(path), doc_id, record["src_lang"], record["tgt_lang"]))
    ident = f"{record.get('para', '')}.{record.get('seg', '')}" if "para" in record else str(number)
    doc.pairs.append((ident, record["source"].strip(), str(record.get("target") or "").strip()))
