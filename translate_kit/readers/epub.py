"""`epub`: an e-book's chapters in reading order (the package's spine), each XHTML file read element
by element as the HTML reader reads a fragment (no page furniture to remove in a book): headings,
paragraphs, list items, quotes, captions and table cells keep their kinds. The zip and the package
files are read with the standard library and lxml; title, author and date come from the package
metadata. No translated EPUB copy is written (its bilingual outputs are the usual ones)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from ..errors import DocumentError
from . import Block, Extracted, Reader

DC = "{http://purl.org/dc/elements/1.1/}"


class EpubReader(Reader):
    name = "epub"
    suffixes = (".epub",)
    libraries = {"lxml": "lxml"}

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04") and b"mimetypeapplication/epub+zip" in head[:100]

    def read(self, data: bytes | Path, name: str) -> Extracted:
        import lxml.html
        from lxml import etree

        from .html import _norm, _tag_kind, candidates, element_text

        raw = data.read_bytes() if isinstance(data, Path) else data
        try:
            book = zipfile.ZipFile(io.BytesIO(raw))
            container = etree.fromstring(book.read("META-INF/container.xml"))
            opf_path = container.find(".//{*}rootfile").get("full-path")
            opf = etree.fromstring(book.read(opf_path))
            items = {i.get("id"): i.get("href") for i in opf.iter("{*}item")}
            chapters = [posixpath.join(posixpath.dirname(opf_path), items[r.get("idref")])
                        for r in opf.iter("{*}itemref") if r.get("idref") in items]
            blocks = []
            for chapter in chapters:
                xhtml = book.read(chapter).decode("utf-8", "replace")  # XHTML: UTF-8 unless it says otherwise
                root = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", xhtml))
                for el in candidates(root):
                    if any(a.tag in ("li", "blockquote", "td", "th") and a is not el for a in el.iterancestors()) \
                            and el.tag not in ("p",):
                        continue
                    if el.find(".//p") is not None:  # a container of paragraphs: its paragraphs come one by one
                        continue
                    text, _ = element_text(el)
                    if _norm(text):
                        blocks.append(Block(_tag_kind(el, "paragraph"), text))
        except (zipfile.BadZipFile, KeyError, AttributeError, etree.XMLSyntaxError, etree.ParserError) as err:
            raise DocumentError(name, f"damaged EPUB ({type(err).__name__})") from None
        meta = {key: (opf.findtext(f".//{DC}{tag}") or "").strip() for key, tag in
                (("title", "title"), ("author", "creator"), ("date", "date"))}
        return Extracted(blocks, meta)
