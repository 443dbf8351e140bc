"""`docx`: a Word document's paragraphs, headings, list items and table cells, in document order.

python-docx: the maintained reader and writer of the format, on lxml, and the one that writes the
translated copy too. Body paragraphs and tables are read in the order they appear (a merged
table cell once); the style says a paragraph's kind (Heading n / Title: heading, List ...: list
item, Quote: quote, Caption: caption; numbering without a list style also makes a list item).
Page headers and footers, and the core properties (title, author, date), are metadata, not body
text. `rebuild()` opens the source again and writes each translated paragraph into the same
paragraph: its style stays, and its text becomes one run with the formatting of the run that
held most of its characters (the dominant run formatting).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..errors import DocumentError
from . import Block, Extracted, Reader, Span
from ._inline import restore, say_moved

ZIP_MAGIC = b"PK\x03\x04"


class DocxReader(Reader):
    name = "docx"
    suffixes = (".docx",)
    libraries = {"docx": "python-docx"}
    native_ext = "docx"

    def sniff(self, head: bytes) -> bool:
        return head.startswith(ZIP_MAGIC) and b"word/" in head

    def read(self, data: bytes | Path, name: str) -> Extracted:
        document = open_docx(data, name)
        blocks = [Block(kind, text, _links(p, text), anchor) for kind, text, anchor, p in body_paragraphs(document)]
        return Extracted(blocks, _meta(document), native={"data": data})

    def rebuild(self, doc, translations, lang: str = "") -> bytes:
        document = open_docx(doc.native["data"], doc.source_name)
        paragraphs, moved = {anchor: p for _, _, anchor, p in body_paragraphs(document)}, 0
        for para, block in enumerate(doc.blocks):
            if para in translations and block.anchor in paragraphs:
                pieces, n = restore(block.text, block.spans, translations[para])
                set_text(paragraphs[block.anchor], pieces)
                moved += n
        say_moved(doc, moved)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()


def open_docx(data: bytes | Path, name: str):
    """The parsed document; the archive is checked first (_zip: no bomb, no encrypted or unreadable
    part), so python-docx, which reads every part whole, reads only what is known to fit."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    from ._zip import open_archive

    raw = data.read_bytes() if isinstance(data, Path) else data
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError(name, "a legacy Word .doc file renamed .docx: save it as .docx and try again")
    with open_archive(raw, name, "DOCX") as archive:
        if "word/document.xml" not in archive.namelist():
            raise DocumentError(name, "not a DOCX file (a zip archive without word/document.xml)")
    try:
        return docx.Document(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise DocumentError(name, "damaged DOCX (not a readable zip archive)") from None
    except KeyError as err:
        raise DocumentError(name, f"damaged DOCX (a part it refers to is missing: {err})") from None
    except (PackageNotFoundError, ValueError, zipfile.LargeZipFile, EOFError) as err:
        raise DocumentError(name, f"damaged DOCX ({type(err).__name__}: {' '.join(str(err).split())[:100]})") from None
    except Exception as err:  # noqa: BLE001 - lxml.etree.XMLSyntaxError and friends, from a damaged part
        if type(err).__module__.startswith("lxml"):
            raise DocumentError(name, "damaged DOCX (a part is not well-formed XML)") from None
        raise


def body_paragraphs(document):
    """(kind, text, anchor, paragraph) for every body paragraph with text, in document order;
    the anchor ("p", n) or ("t", table, row, column, n) finds it again in the same file."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    n_par = n_tab = 0
    styles = _style_names(document)
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            if item.text.strip():
                yield _kind(item, styles), item.text.strip(), ("p", n_par), item
            n_par += 1
        elif isinstance(item, Table):
            seen = set()
            for r, row in enumerate(item.rows):
                for c, cell in enumerate(row.cells):
                    if cell._tc in seen:  # a merged cell comes once per grid position it spans
                        continue
                    seen.add(cell._tc)  # the element itself: held, so lxml keeps one proxy for it
                    for k, p in enumerate(cell.paragraphs):
                        if p.text.strip():
                            yield "table cell", p.text.strip(), ("t", n_tab, r, c, k), p
            n_tab += 1


def _style_names(document) -> dict:
    """Paragraph style id -> name, the default under None: looked up once, not per paragraph
    (python-docx's `paragraph.style` scans every style each time: 1.5 ms a paragraph)."""
    from docx.enum.style import WD_STYLE_TYPE

    names = {s.style_id: s.name for s in document.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    names[None] = default.name if default is not None else ""
    return names


def _kind(paragraph, styles: dict) -> str:
    style_id = paragraph._p.style
    style = (styles.get(style_id, styles[None]) if style_id else styles[None]) or ""
    low = style.lower()
    if low.startswith(("heading", "title", "subtitle")):
        return "heading"
    if low.startswith("list") or paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return "list item"
    if "quote" in low:
        return "quote"
    if low.startswith("caption"):
        return "caption"
    return "paragraph"


def _meta(document) -> dict:
    props = document.core_properties
    meta = {"title": props.title, "author": props.author,
            "date": props.created.date().isoformat() if props.created else None}
    headers, footers = [], []
    for section in document.sections:
        for part, into in ((section.header, headers), (section.footer, footers)):
            if part is not None and not part.is_linked_to_previous:
                text = " / ".join(p.text.strip() for p in part.paragraphs if p.text.strip())
                if text and text not in into:
                    into.append(text)
    meta["page header"] = " | ".join(headers)
    meta["page footer"] = " | ".join(footers)
    return meta


def _links(paragraph, text: str) -> list[Span]:
    """The paragraph's hyperlinks as Spans over its (stripped) text, each with its element's attributes."""
    from docx.text.hyperlink import Hyperlink

    spans, pos = [], 0
    lead = len(paragraph.text) - len(paragraph.text.lstrip())
    for item in paragraph.iter_inner_content():
        words = item.text
        if isinstance(item, Hyperlink) and words.strip():
            spans.append(Span(max(pos - lead, 0), min(pos + len(words) - lead, len(text)), "", "",
                              info=dict(item._hyperlink.attrib)))
        pos += len(words)
    return spans if pos == len(paragraph.text) else []


def set_text(paragraph, pieces) -> None:
    """The paragraph's text replaced by the translation `pieces` (_inline.restore): runs carrying the
    dominant run formatting (that of the run that held most characters), inside the paragraph's
    hyperlinks again where they were."""
    import copy

    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    runs = paragraph.runs
    dominant = max(runs, key=lambda r: len(r.text), default=None)
    rpr = dominant._r.rPr if dominant is not None and dominant._r.rPr is not None else None
    for child in list(paragraph._p):
        if child.tag.endswith(("}r", "}hyperlink", "}ins", "}smartTag", "}fldSimple")):
            paragraph._p.remove(child)
    stack, buffer = [paragraph._p], []

    def flush() -> None:
        if not "".join(buffer):
            return
        run = OxmlElement("w:r")
        if rpr is not None:
            run.append(copy.deepcopy(rpr))
        t = OxmlElement("w:t")
        t.text = "".join(buffer)
        t.set(qn("xml:space"), "preserve")
        run.append(t)
        stack[-1].append(run)
        buffer.clear()

    for kind, value in pieces:
        if kind == "text":
            buffer.append(value)
            continue
        flush()
        if kind == "open":
            link = OxmlElement("w:hyperlink")
            for key, val in (value.info or {}).items():
                link.set(key, val)
            stack[-1].append(link)
            stack.append(link)
        elif kind == "close" and len(stack) > 1:
            stack.pop()
    flush()
