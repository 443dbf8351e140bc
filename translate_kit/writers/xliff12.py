"""`xliff12`: XLIFF 1.2, the version most translation tools read first (translate-toolkit and the
Weblate and Pootle pipelines on it, Okapi, OmegaT, Virtaal, many CAT tools).

One <file> per document, <group> per paragraph, <trans-unit> per sentence (1.2 has no
<ignorable>). Machine output is "needs-review-translation" / "leveraged-mt", with the checks'
reasons in <note>s; an empty target "needs-translation"; a review "signed-off", approved="yes".
Files are `<id>.<src>-<tgt>.xliff12.xlf`; `.xlf` alone stays 2.1. Why: docs/design.md#writers
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from . import Writer, reasons, to_check
from ._xml import XML_NS, Frame, tool_version, xml_safe

NS = "urn:oasis:names:tc:xliff:document:1.2"
READ_NAMESPACES = (NS, "urn:oasis:names:tc:xliff:document:1.1")  # what review.py reads (1.1: same structure)
VERSION = "1.2"
TOOL = "translate_kit"
REVIEWED_STATES = ("translated", "signed-off", "final")  # and approved="yes": what import-review takes
DOCUMENT_NOTE = "document: "


def q(tag: str) -> str:
    """A tag in the XLIFF 1.2 namespace, as a parsed file names it (for readers: review.py)."""
    return f"{{{NS}}}{tag}"


def _note(parent: ET.Element, text: str, annotates: str = "general") -> None:
    attrs = {"from": TOOL} if annotates == "general" else {"from": TOOL, "annotates": annotates}
    ET.SubElement(parent, "note", attrs).text = xml_safe(text)


def _header(result) -> ET.Element:
    doc = result.document
    header = ET.Element("header")
    ET.SubElement(header, "tool", {"tool-id": TOOL, "tool-name": TOOL, "tool-version": tool_version()})
    _note(header, DOCUMENT_NOTE + result.doc_id)
    if result.model:
        _note(header, f"model: {result.model} (revision {result.revision})")
    if doc is not None and doc.meta.get("date"):
        _note(header, f"date: {doc.meta['date']}")
    if result.note:
        _note(header, f"note: {result.note}")
    return header


def _target_state(s) -> dict[str, str]:
    if not s.target.strip():
        return {"state": "needs-translation"}
    if s.origin == "review":
        return {"state": "signed-off"}
    return {"state": "needs-review-translation", "state-qualifier": "leveraged-mt"}


def _trans_unit(s) -> ET.Element:
    attrs = {"id": f"p{s.para}-s{s.seg}", f"{{{XML_NS}}}space": "preserve"}
    if s.origin == "review" and s.target.strip():
        attrs["approved"] = "yes"
    unit = ET.Element("trans-unit", attrs)
    ET.SubElement(unit, "source").text = xml_safe(s.text)
    ET.SubElement(unit, "target", _target_state(s)).text = xml_safe(s.target.strip())
    if s.flag:
        _note(unit, s.flag, annotates="target")
    if to_check(s):
        _note(unit, f"{s.verdict}: {reasons(s)}", annotates="target")
    for t in getattr(s, "terms", None) or ():  # glossary terms matched (--glossary): what 2.1 puts in <gls:glossary>
        note = f" ({t['note']})" if t.get("note") else ""
        _note(unit, f"term: {t['source']} -> {t['target']}{note}", annotates="source")
    return unit


def _group(para: list, continued: bool) -> ET.Element:
    """One paragraph; a later piece of a paragraph too long for one part is a group of its own, whose
    id also names its first unit (group ids are unique in a file)."""
    first = para[0]
    group = ET.Element("group", id=f"p{first.para}-s{first.seg}" if continued else f"p{first.para}", restype="x-paragraph")
    group.extend(_trans_unit(s) for s in para)
    return group


class Xliff12Writer(Writer):
    name = "xliff12"
    ext = "xliff12.xlf"

    def head(self, result) -> str:
        root = ET.Element("xliff", xmlns=NS, version=VERSION)
        file = ET.SubElement(root, "file", {
            "original": xml_safe(result.source_name),
            "source-language": result.src_lang,
            "target-language": result.tgt_lang,
            "datatype": "plaintext",
            "tool-id": TOOL,
        })
        file.append(_header(result))
        self.frame = Frame(root, ET.SubElement(file, "body"))
        return self.frame.head

    def paragraph(self, result, segments, continued) -> str:
        return self.frame.child(_group(segments, continued))

    def tail(self, result) -> str:
        return self.frame.tail
