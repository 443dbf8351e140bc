"""`tmx`: a TMX 1.4b translation memory, one <tu> per aligned segment, for CAT tools.

The header carries what TMX 1.4b requires (creationtool, creationtoolversion, segtype, o-tmf,
adminlang, srclang, datatype) plus the model as a <prop>. Each <tu> holds one <tuv xml:lang>
per language and <prop>s for the document id, the position (paragraph.segment, both counted
from 0) and where the translation came from (model, cache, review...); where the checks ran, `x-verdict` (ok, check, doubt) and, for a
sentence to check, `x-checks` with the reasons.

A segment whose translation is empty gets no <tu>: a translation memory entry with an empty
target would be offered by CAT tools as a perfect match for "translate this as nothing".
No creationdate is written, so the same result always gives the same file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from . import Writer, document_metadata, reasons, to_check
from ._xml import XML_NS, Frame, tool_version, xml_safe

DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'


def _prop(parent: ET.Element, kind: str, value: str) -> None:
    ET.SubElement(parent, "prop", type=kind).text = xml_safe(value)


def _tuv(parent: ET.Element, lang: str, text: str) -> None:
    tuv = ET.SubElement(parent, "tuv", {f"{{{XML_NS}}}lang": lang})
    ET.SubElement(tuv, "seg").text = xml_safe(text)


def _header(result) -> ET.Element:
    header = ET.Element("header", {
        "creationtool": "translate_kit",
        "creationtoolversion": tool_version(),
        "segtype": "sentence",
        "o-tmf": "translate_kit",
        "adminlang": "en",
        "srclang": result.src_lang,
        "datatype": "plaintext",
    })
    if result.model:
        _prop(header, "x-model", result.model)
        _prop(header, "x-revision", result.revision)
    for key, value in document_metadata(result):  # title, author, date, site, url of a read page or file
        _prop(header, f"x-{key}", value)
    return header


def _tu(result, s) -> ET.Element:
    tu = ET.Element("tu", tuid=xml_safe(f"{result.doc_id}:{s.para}.{s.seg}"))
    _prop(tu, "x-document", result.doc_id)
    _prop(tu, "x-position", f"{s.para}.{s.seg}")
    _prop(tu, "x-origin", s.origin or "model")
    if s.flag:
        _prop(tu, "x-flag", s.flag)
    if getattr(s, "verdict", None):  # the checks' verdict (checks/), and why when it is not ok
        _prop(tu, "x-verdict", s.verdict)
        if to_check(s):
            _prop(tu, "x-checks", reasons(s))
    _tuv(tu, result.src_lang, s.text)
    _tuv(tu, result.tgt_lang, s.target.strip())
    return tu


class TmxWriter(Writer):
    name = "tmx"
    ext = "tmx"

    def head(self, result) -> str:
        root = ET.Element("tmx", version="1.4")
        root.append(_header(result))
        self.frame = Frame(root, ET.SubElement(root, "body"), DOCTYPE)
        return self.frame.head

    def paragraph(self, result, segments, continued) -> str:
        return "".join(self.frame.child(_tu(result, s)) for s in segments if s.target.strip())

    def tail(self, result) -> str:
        return self.frame.tail
