"""`epub`: an e-book's chapters in reading order (the package's spine), each XHTML file read element
by element as the HTML reader reads a fragment (no page furniture to remove in a book): headings,
paragraphs, list items, quotes, captions and table cells keep their kinds. The zip and the package
files are read with the standard library and lxml; title, author and date come from the package
metadata. The archive is checked first (_zip: no bomb, no encrypted part); a part the book
refers to and lacks is named in the error. No translated EPUB copy is written (its bilingual outputs are the usual ones)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

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
        from lxml import etree

        from ._zip import open_archive

        book = open_archive(data, name, "EPUB")  # checked: no bomb, no encrypted or unreadable part
        warnings: list[str] = []
        try:
            opf_path = _package_path(book, name)
            opf = _xml(book, opf_path, name)
            chapters = _spine(opf, opf_path, warnings)
            blocks = [b for chapter in chapters for b in _chapter_blocks(book, chapter, name, warnings)]
        except (AttributeError, etree.XMLSyntaxError, etree.ParserError, ValueError) as err:
            raise DocumentError(name, f"damaged EPUB ({type(err).__name__}: {' '.join(str(err).split())[:100]})") from None
        meta = {key: (opf.findtext(f".//{DC}{tag}") or "").strip() for key, tag in
                (("title", "title"), ("author", "creator"), ("date", "date"))}
        return Extracted(blocks, meta, warnings)


def _part(book, path: str, name: str) -> bytes:
    try:
        return book.read(path)
    except KeyError:
        raise DocumentError(name, f"damaged EPUB (no part {path!r} in the archive, which the book refers to)") from None


def _xml(book, path: str, name: str):
    """A package file parsed without entities or network (the book is untrusted)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(_part(book, path, name), parser)


def _package_path(book, name: str) -> str:
    rootfile = _xml(book, "META-INF/container.xml", name).find(".//{*}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise DocumentError(name, "damaged EPUB (META-INF/container.xml names no package file)")
    return rootfile.get("full-path")


def _spine(opf, opf_path: str, warnings: list[str]) -> list[str]:
    """The chapters' paths in reading order; a manifest item without href is skipped and said."""
    items, broken = {}, []
    for item in opf.iter("{*}item"):
        if item.get("href"):
            items[item.get("id")] = item.get("href")
        else:
            broken.append(item.get("id") or "?")
    if broken:
        warnings.append(f"manifest item(s) without href skipped: {', '.join(map(repr, broken[:10]))}")
    base = posixpath.dirname(opf_path)
    return [posixpath.normpath(posixpath.join(base, unquote(items[r.get("idref")].split("#")[0])))
            for r in opf.iter("{*}itemref") if r.get("idref") in items]


def _chapter_blocks(book, chapter: str, name: str, warnings: list[str]) -> list[Block]:
    from .html import _norm, _tag_kind, candidates, element_text, parse_page

    xhtml = _part(book, chapter, name).decode("utf-8", "replace")  # XHTML: UTF-8 unless it says otherwise
    root, too_deep = parse_page(re.sub(r"^\s*<\?xml[^>]*\?>", "", xhtml))
    if too_deep:
        warnings.append(f"{chapter}: nested deeper than 2048 levels, the text below that depth left out")
    blocks = []
    for el in candidates(root):
        if any(a.tag in ("li", "blockquote", "td", "th") and a is not el for a in el.iterancestors()) \
                and el.tag not in ("p",):
            continue
        if el.find(".//p") is not None:  # a container of paragraphs: its paragraphs come one by one
            continue
        text, _ = element_text(el)
        if _norm(text):
            blocks.append(Block(_tag_kind(el, "paragraph"), text))
    return blocks
