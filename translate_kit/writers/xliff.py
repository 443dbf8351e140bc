"""`xliff`: XLIFF 2.1, the format translators review machine output in (and `tk import-review` reads back).

One <file> per document, one <unit> per paragraph, one <segment> per sentence; the whitespace
between sentences goes in <ignorable>, so units join back to the text. States: "initial" (machine
output, or a sentence to check, with a <note category="check">), "translated" (passed the checks),
"reviewed" (from an imported review). `xmlns` is written as an attribute and the <file> id is an
NMTOKEN (the real id in a note); matched glossary terms go in the glossary module
(`<gls:glossary>` first in the unit): docs/design.md#writers
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import Writer, document_metadata, reasons, to_check
from ._xml import XML_NS, Frame, xml_safe

NS = "urn:oasis:names:tc:xliff:document:2.0"
GLS = "urn:oasis:names:tc:xliff:glossary:2.0"  # XLIFF 2.x's glossary module
VERSION = "2.1"
NOT_NMTOKEN = re.compile(r"[^\w.\-:]")


def q(tag: str) -> str:
    """A tag in the XLIFF namespace, as a parsed file names it (for readers: review.py)."""
    return f"{{{NS}}}{tag}"


def nmtoken(text: str) -> str:
    return NOT_NMTOKEN.sub("_", text) or "_"


def _notes(parent: ET.Element, items: list[tuple[str, str]]) -> None:
    if items:
        notes = ET.SubElement(parent, "notes")
        for category, text in items:
            ET.SubElement(notes, "note", category=category).text = xml_safe(text)


def _file_notes(result) -> list[tuple[str, str]]:
    doc = result.document
    items = [("document", result.doc_id)]
    if result.model:
        items += [("model", result.model), ("revision", result.revision)]
    if doc is not None and doc.meta.get("date"):
        items.append(("date", doc.meta["date"]))
    items += [(k, v) for k, v in document_metadata(result) if k != "date"]  # a read page's title, author, url...
    if result.note:
        items.append(("note", result.note))
    return items


def _ignorable(unit: ET.Element, ident: str, space: str) -> None:
    if space:
        ignorable = ET.SubElement(unit, "ignorable", id=ident)
        ET.SubElement(ignorable, "source").text = xml_safe(space)


def _state(s) -> str:
    if s.origin == "review":
        return "reviewed"
    return "translated" if getattr(s, "verdict", None) == "ok" and s.target.strip() else "initial"


def _segment(unit: ET.Element, s) -> None:
    state = _state(s)
    segment = ET.SubElement(unit, "segment", id=f"s{s.seg}", state=state)
    ET.SubElement(segment, "source").text = xml_safe(s.text)
    ET.SubElement(segment, "target").text = xml_safe(s.target.strip())


def _glossary(unit: ET.Element, para: list) -> None:
    """The glossary terms the paragraph's sentences matched, once each (the module's namespace
    declared on its own element: files without terms stay as they were)."""
    seen: dict[tuple[str, str], dict] = {}
    for s in para:
        for t in getattr(s, "terms", None) or ():
            seen.setdefault((t["source"], t["target"]), t)
    if not seen:
        return
    glossary = ET.SubElement(unit, "gls:glossary", {"xmlns:gls": GLS})
    for t in seen.values():
        entry = ET.SubElement(glossary, "gls:glossEntry")
        origin = {"source": xml_safe(t["origin"])} if t.get("origin") else {}
        ET.SubElement(entry, "gls:term", origin).text = xml_safe(t["source"])
        ET.SubElement(entry, "gls:translation", origin).text = xml_safe(t["target"])
        if t.get("note"):
            ET.SubElement(entry, "gls:definition").text = xml_safe(t["note"])


def _unit(para: list, continued: bool) -> ET.Element:
    """One paragraph; a later piece of a paragraph too long for one part is a unit of its own, whose
    id also names its first segment (unit ids are unique in a file)."""
    first = para[0]
    unit = ET.Element("unit", id=f"p{first.para}-s{first.seg}" if continued else f"p{first.para}")
    _glossary(unit, para)
    _notes(unit, [("flag", f"s{s.seg}: {s.flag}") for s in para if s.flag]
           + [("check", f"s{s.seg}: {s.verdict}: {reasons(s)}") for s in para if to_check(s)])
    for s in para:
        _ignorable(unit, f"i{s.seg}a", s.source[: len(s.source) - len(s.source.lstrip())])
        _segment(unit, s)
        _ignorable(unit, f"i{s.seg}", s.space_after)
    return unit


class XliffWriter(Writer):
    name = "xliff"
    ext = "xlf"

    def head(self, result) -> str:
        root = ET.Element("xliff", xmlns=NS, version=VERSION, srcLang=result.src_lang, trgLang=result.tgt_lang)
        file = ET.SubElement(root, "file", {
            "id": nmtoken(result.doc_id),
            "original": xml_safe(result.source_name),
            f"{{{XML_NS}}}space": "preserve",
        })
        _notes(file, _file_notes(result))
        self.frame = Frame(root, file)
        return self.frame.head

    def paragraph(self, result, segments, continued) -> str:
        return self.frame.child(_unit(segments, continued))

    def tail(self, result) -> str:
        return self.frame.tail
