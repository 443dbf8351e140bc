"""`html`: a saved web page (or a fragment): the article's main text, not the page.

trafilatura finds the main text and the metadata (title, author, date, site, canonical URL). It
is the extractor news archives use, maintained, and the best of the open extractors in published
evaluations on news pages (its own benchmark and Bevendorff et al. 2023), ahead of readability
and jusText, which it uses as fallbacks; navigation, cookie banners, share buttons, related
boxes, comments, paywall teasers and footers stay out. Its XML output gives each block's kind.
Each extracted block is then found again in the page itself (lxml), as the element whose text it
is: that element gives the block's inline markup (links, emphasis, code) as Spans and is where
`rebuild()` writes the translation in the translated copy, every other part of the page kept as
it was. Figure captions inside the article, which trafilatura leaves out, are added as
`caption` blocks. A fragment too short for trafilatura is read element by element.
"""

from __future__ import annotations

import codecs
import re

from ..errors import DocumentError
from . import Block, Extracted, Reader, Span
from ._inline import restore, say_moved

CANDIDATES = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "td", "th",
              "dt", "dd", "pre", "caption")
INLINE = {"a", "em", "strong", "b", "i", "u", "span", "code", "mark", "small", "sub", "sup", "abbr",
          "cite", "q", "s", "time", "kbd", "var", "br", "img", "del", "ins", "bdi", "font"}
FIXED = {"code", "kbd", "var", "samp"}
VOID = {"br", "img", "wbr"}
SKIP = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button"}
TAG_KINDS = {"figcaption": "caption", "caption": "caption", "li": "list item", "td": "table cell",
             "th": "table cell", "blockquote": "quote"}
XML_KINDS = {"head": "heading", "p": "paragraph", "item": "list item", "cell": "table cell", "quote": "quote"}
BOILERPLATE = re.compile(r"cookie|consent|share|social|related|comment|paywall|subscribe|newsletter|banner|promo|footer|nav",
                         re.IGNORECASE)
HEADING = re.compile(r"h[1-6]")
DOCTYPE = re.compile(r"<!doctype[^>]*>", re.IGNORECASE)
CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", re.IGNORECASE)
PAGE_START = re.compile(rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
                        re.IGNORECASE | re.DOTALL)


class HtmlReader(Reader):
    name = "html"
    suffixes = (".html", ".htm", ".xhtml")
    # jusText (trafilatura's fallback extractor) imports lxml.html.clean, now lxml_html_clean
    libraries = {"lxml": "lxml", "lxml_html_clean": "lxml_html_clean", "justext": "jusText", "trafilatura": "trafilatura"}
    native_ext = "html"

    def sniff(self, head: bytes) -> bool:
        return bool(PAGE_START.match(head.lstrip(b"\xef\xbb\xbf")))

    def read(self, data: bytes, name: str) -> Extracted:
        text, encoding, warnings = decode_page(data, name)
        return extract_html(text, name, encoding, warnings)

    def rebuild(self, doc, translations, lang: str = "") -> str:
        import lxml.html

        if doc.native.get("flat"):
            return _plain_page(doc, translations, lang)
        root, _ = parse_page(doc.native["html"])
        elements, moved, unplaced = candidates(root), 0, 0
        for para, block in enumerate(doc.blocks):
            if para in translations and block.anchor is not None and block.anchor < len(elements):
                moved += _write_element(elements[block.anchor], block, translations[para])
            elif para in translations:
                unplaced += 1
        say_moved(doc, moved)
        if unplaced:  # text trafilatura found in no single element: in the bilingual outputs, not in the copy
            doc.warnings.append(f"translated copy: {unplaced} paragraph(s) found in no single element of the page "
                                "were left as they were (their translation is in the other formats)")
        if doc.native.get("fragment"):  # a fragment comes back as a fragment, in the language's own element
            body = root.find("body")
            inner = (body.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in body)
            return f'<div lang="{lang}">{inner}</div>\n' if lang else inner
        if lang:
            root.set("lang", lang)
        page = lxml.html.tostring(root, encoding="unicode")
        return (doc.native["doctype"] + "\n" + page) if doc.native.get("doctype") else page


UNICODE_WIDE = ("utf-16", "utf-32")
WHATWG_LATIN = {"latin-1", "iso8859-1", "ascii"}  # labels a browser reads as windows-1252


def decode_page(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """The page's text. A BOM wins; then the bytes, where the `<meta charset>` and they disagree:
    bytes that decode as UTF-8 (with characters beyond ASCII) are UTF-8 whatever the page
    declares (a CMS that says iso-8859-1 and writes UTF-8 sends mojibake to the model otherwise);
    a declared UTF-16/32 cannot be true of a page whose declaration was read as ASCII (browsers
    ignore it too); a declaration its bytes do not decode in is set aside for the usual detection
    (documents.decode). Each of those is said in a warning."""
    from ..documents import decode

    declared = CHARSET.search(data[:4096])
    if not declared or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode(data, name)
    label = declared.group(1).decode("ascii", "replace").lower()
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        codec = None
    if codec in WHATWG_LATIN:
        codec = "cp1252"
    utf8 = _utf8(data)
    if codec == "utf-8" and utf8 is not None:
        return utf8, label, []
    if utf8 is not None and (codec is None or codec.startswith(UNICODE_WIDE) or not utf8.isascii()):
        return utf8, "utf-8", [f"the page declares charset {label} but its bytes are UTF-8: read as UTF-8"]
    if codec is not None and not codec.startswith(UNICODE_WIDE):
        try:
            return data.decode(codec), label, []
        except UnicodeDecodeError:
            pass
    text, encoding, warnings = decode(data, name)
    return text, encoding, [f"the page declares charset {label}, which does not fit its bytes: read as {encoding}", *warnings]


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_page(text: str):
    """(root, too deep): the page parsed past libxml2's usual 256 levels of nesting (huge_tree
    allows 2048); `too deep` when even that was not enough and the parser stopped there."""
    import lxml.html

    parser = lxml.html.HTMLParser(huge_tree=True)
    root = lxml.html.document_fromstring(text, parser=parser)
    return root, any("Excessive depth" in e.message for e in parser.error_log)


MAX_EXTRACT_CHARS = 2_000_000  # trafilatura's time grows faster than the page (1 MB 2.4 s, 16 MB 78 s)


def extract_html(text: str, name: str, encoding: str = "utf-8", warnings: list | None = None) -> Extracted:
    """The article in a page (trafilatura), or every element of a fragment. A page over
    MAX_EXTRACT_CHARS is read element by element instead, and one nested past what lxml parses
    is read tag by tag (_flat_reading); both are said in a warning."""
    import trafilatura
    from lxml import etree

    warnings = list(warnings or [])
    try:
        root, too_deep = parse_page(text)
    except (etree.ParserError, ValueError) as err:
        raise DocumentError(name, f"not a readable HTML page ({err})") from None
    if too_deep:
        return _flat_reading(text, name, encoding, warnings)
    elements = candidates(root)
    fragment = not PAGE_START.match(text.encode("utf-8")[:4096])
    large = not fragment and len(text) > MAX_EXTRACT_CHARS
    if large:
        warnings.append(f"a page of {len(text) / 1e6:.1f} million characters, over the {MAX_EXTRACT_CHARS / 1e6:g} "
                        "million the article extractor takes in reasonable time: read element by element (page "
                        "furniture left out by its tags and classes only)")
    xml = None if fragment or large else trafilatura.extract(
        parse_page(text)[0], output_format="xml", with_metadata=True, include_comments=False,  # its own copy: it prunes
        include_tables=True, include_images=False, include_formatting=False, include_links=False, deduplicate=False)
    meta = {"encoding": encoding}
    if xml:
        tree = etree.fromstring(xml.encode("utf-8"))
        meta.update({key: tree.get(attr) for key, attr in
                     (("title", "title"), ("author", "author"), ("date", "date"), ("site", "sitename"), ("url", "url"))})
        wanted = list(_xml_blocks(tree))
    else:  # a fragment (all of it is text), a page too short or too large for trafilatura: every element outside page furniture
        leaves = [el for el in elements if not _furniture(el) and next(el.iterdescendants(*CANDIDATES), None) is None]
        wanted = [(_tag_kind(el, "paragraph"), _norm(el.text_content())) for el in leaves]
        wanted = [(k, t) for k, t in wanted if t]
        meta.setdefault("title", _norm(root.findtext(".//title") or "") or None)
    blocks = [b for b in _match(elements, wanted) if not _in_furniture(root, elements, b)]
    blocks = _with_captions(elements, blocks)
    if not blocks:
        raise DocumentError(name, "no article text found in this page (only navigation, banners or other page furniture)")
    doctype = DOCTYPE.search(text[:4096])
    return Extracted(blocks, meta, warnings,
                     native={"html": text, "doctype": doctype.group() if doctype else "", "fragment": fragment})


def _flat_reading(text: str, name: str, encoding: str, warnings: list[str]) -> Extracted:
    """A page nested deeper than lxml parses (2048 levels), read with the standard library's
    tokenizer, which keeps no tree and so no depth: each block element's words are one block
    (page furniture left out by its tags); no translated copy is written from it."""
    from html.parser import HTMLParser

    found: list[Block] = []

    class Flat(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.words, self.skip, self.kind = [], 0, "paragraph"

        def flush(self):
            words = _norm("".join(self.words))
            if words:
                found.append(Block(self.kind, words))
            self.words = []

        def handle_starttag(self, tag, attrs):
            if tag in SKIP or tag in ("head", "title"):
                self.skip += 1
            elif tag in CANDIDATES or tag in ("div", "section", "article", "body"):
                self.flush()
                self.kind = "heading" if re.fullmatch(r"h[1-6]", tag) else TAG_KINDS.get(tag, "paragraph")

        def handle_endtag(self, tag):
            if (tag in SKIP or tag in ("head", "title")) and self.skip:
                self.skip -= 1
            elif tag in CANDIDATES or tag in ("div", "section", "article", "body"):
                self.flush()

        def handle_data(self, data):
            if not self.skip:
                self.words.append(data)

    flat = Flat()
    flat.feed(text)
    flat.close()
    flat.flush()
    if not found:
        raise DocumentError(name, "no text found in this page (it nests elements deeper than 2048 levels)")
    warnings.append("the page nests elements deeper than 2048 levels, past what lxml parses: read tag by tag "
                    "(no article extraction; its translated copy is a plain page of the blocks)")
    return Extracted(found, {"encoding": encoding}, warnings, native={"flat": True})


def _plain_page(doc, translations, lang: str) -> str:
    """The translated copy of a page read flat: one element per block, the layout not kept."""
    from html import escape

    tags = {"heading": "h2", "list item": "li", "quote": "blockquote", "table cell": "p", "caption": "p"}
    body = "\n".join(f"<{tags.get(b.kind, 'p')}>{escape(''.join(t + sp for _, sp, t in translations.get(p, [])).strip() or b.text)}"
                     f"</{tags.get(b.kind, 'p')}>" for p, b in enumerate(doc.blocks))
    return f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'



def candidates(root) -> list:
    """Every element that can hold a block, in document order (the same list at read and rebuild)."""
    return [el for el in root.iter(*CANDIDATES) if isinstance(el.tag, str)]


def _furniture(el) -> bool:
    return any(a.tag in SKIP or _boilerplate_class(a) for a in el.iterancestors()) or el.tag in SKIP


def _in_furniture(root, elements: list, block: Block) -> bool:
    """Whether a block is page furniture after all (a cookie banner trafilatura took for the text):
    its element, or the innermost element holding exactly its text, is or sits in one."""
    if block.anchor is not None:
        el = elements[block.anchor]
    else:
        holders = [e for e in root.iter() if isinstance(e.tag, str) and _norm(e.text_content()) == block.text]
        if not holders:
            return False
        el = holders[-1]
    return _furniture(el) or _boilerplate_class(el)


def _boilerplate_class(el) -> bool:
    marks = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(marks.strip() and BOILERPLATE.search(marks))


def _xml_blocks(tree):
    main = tree.find("main")
    if main is None:
        return
    for el in main.iter("head", "p", "item", "cell", "quote"):
        if el.tag == "quote" and el.find("p") is not None:
            continue
        if el.tag == "p" and el.getparent() is not None and el.getparent().tag in ("item", "cell"):
            continue
        kind = XML_KINDS[el.tag]
        if el.tag == "p" and any(a.tag == "quote" for a in el.iterancestors()):
            kind = "quote"
        text = _norm("".join(el.itertext()))
        if text:
            yield kind, text


def _norm(text: str) -> str:
    return " ".join(text.split())


def _tag_kind(el, default: str) -> str:
    """The kind the element, or the nearest element around it that has one, gives (a <p> in a <li>
    is a list item, in a <blockquote> a quote)."""
    for node in (el, *el.iterancestors()):
        if HEADING.fullmatch(node.tag):
            return "heading"
        if node.tag in TAG_KINDS:
            return TAG_KINDS[node.tag]
    return default


def _match(elements: list, wanted: list[tuple[str, str]]) -> list[Block]:
    """Each wanted (kind, text) as a Block anchored on the element whose text it is (the innermost
    such element after the previous match); a text found in no element still becomes a block."""
    texts = [_norm(el.text_content()) for el in elements]
    blocks, cursor = [], 0
    for kind, text in wanted:
        at = next((i for i in range(cursor, len(elements)) if texts[i] == text), None)
        if at is None:
            blocks.append(Block(kind, text, [], None))
            continue
        while at + 1 < len(elements) and texts[at + 1] == text and elements[at] in elements[at + 1].iterancestors():
            at += 1
        cursor = at + 1
        plain, spans = element_text(elements[at])
        if plain != text:
            plain, spans = text, []
        blocks.append(Block(_tag_kind(elements[at], kind) if kind != "quote" else kind, plain, spans, at))
    return blocks


def _with_captions(elements: list, blocks: list[Block]) -> list[Block]:
    """Figure captions inside the article's container, which trafilatura leaves out, in their place."""
    anchored = [b.anchor for b in blocks if b.anchor is not None]
    if len(anchored) < 2:
        return blocks
    container = _common_ancestor([elements[i] for i in anchored])
    used = set(anchored)
    extra = []
    for i, el in enumerate(elements):
        if el.tag == "figcaption" and i not in used and container in el.iterancestors():
            plain, spans = element_text(el)
            if plain:
                extra.append(Block("caption", plain, spans, i))
    if not extra:
        return blocks
    order, last = [], -1.0
    for b in blocks:
        last = float(b.anchor) if b.anchor is not None else last + 0.001
        order.append((last, b))
    order += [(float(b.anchor), b) for b in extra]
    return [b for _, b in sorted(order, key=lambda x: x[0])]


def _common_ancestor(els: list):
    chains = [[el, *el.iterancestors()][::-1] for el in els]
    common = None
    for level in zip(*chains):
        if all(x is level[0] for x in level):
            common = level[0]
        else:
            break
    return common


def element_text(el) -> tuple[str, list[Span]]:
    """An element's words (whitespace collapsed as in _norm) and its inline markup as Spans."""
    raw: list[str] = []
    spans: list[tuple[int, int, object]] = []
    size = 0

    def add(text: str | None) -> None:
        nonlocal size
        if text:
            raw.append(text)
            size += len(text)

    def walk(node) -> None:
        add(node.text)
        for child in node:
            if not isinstance(child.tag, str):  # a comment or processing instruction
                add(child.tail)
                continue
            start = size
            if child.tag in INLINE:
                walk(child)
                spans.append((start, size, child))
            elif child.tag not in SKIP:
                walk(child)
            add(child.tail)

    walk(el)
    text = "".join(raw)
    plain, where = _collapse(text)
    out = []
    for start, end, child in spans:
        s, e = where(start), where(end)
        info = (child.tag, dict(child.attrib))
        if child.tag in VOID:
            out.append(Span(s, s, "", "", fixed=True, info=info))
        elif e > s:
            out.append(Span(s, e, "", "", fixed=child.tag in FIXED, info=info))
    return plain, out


def _collapse(text: str):
    """`text` with whitespace runs as one space and no space at either end, and a function giving
    where each position of `text` (0..len) lands in it. Words found by a regex and positions
    mapped by bisection: a character loop took most of the reading time of a large page."""
    import bisect

    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    plain = " ".join(text[a:b] for a, b in words)
    starts, landed, at = [a for a, _ in words], [], 0
    for a, b in words:
        landed.append(at)
        at += b - a + 1

    def where(pos: int) -> int:
        k = bisect.bisect_right(starts, pos) - 1
        if k < 0:
            return 0
        a, b = words[k]
        return min(landed[k] + min(pos, b) - a, len(plain))

    return plain, where


def _write_element(el, block: Block, segments) -> int:
    """Replace `el`'s contents with the translation, its inline elements restored (_inline.restore);
    returns how many had to be moved."""
    from lxml import etree

    pieces, moved = restore(block.text, block.spans, segments)
    for child in list(el):
        el.remove(child)
    el.text = None
    stack = [el]

    def put(text: str) -> None:
        node = stack[-1]
        if len(node):
            node[-1].tail = (node[-1].tail or "") + text
        else:
            node.text = (node.text or "") + text

    for kind, value in pieces:
        if kind == "text":
            put(value)
        elif kind == "open":
            tag, attrib = value.info
            stack.append(etree.SubElement(stack[-1], tag, attrib))
        elif kind == "close":
            if len(stack) > 1:
                stack.pop()
        else:  # fixed: inline code keeps its source text; <br>, <img> come back as they were
            tag, attrib = value.info
            node = etree.SubElement(stack[-1], tag, attrib)
            if tag not in VOID:
                node.text = block.text[value.start:value.end]
    return moved




# --- any HTML, all of its text: what `tk serve` answers for format=html --------------------------

KEEP_AS_IS = {"script", "style", "noscript", "template", "pre", "textarea", "svg", "math"}  # inline code: a fixed span
RUN = "tk-run"  # a temporary element around the inline content between two blocks of one parent


def text_blocks(root) -> list[tuple[object, Block]]:
    """Every piece of running text in `root` as (element, Block), in document order: each block
    element whose content is all inline (a <p>, a <td>, a <title>), and each run of inline
    content between two blocks of one element (`Intro <b>text</b><p>...</p> tail`), which gets
    a temporary <tk-run> element around it (`unwrap_runs()` removes them). Unlike the article
    extraction above, nothing is page furniture: navigation and footers are text to translate
    too; code, scripts and preformatted text are kept as they are. Inline markup in a block
    becomes its Spans, put back by `write_block()` as in the translated copy of a page."""
    found: list[tuple[object, Block]] = []

    def visit(el) -> None:
        if not isinstance(el.tag, str) or el.tag in KEEP_AS_IS:
            return
        if all(_inline(child) for child in el):
            _add(el)
            return
        for item in _wrap_runs(el):
            if item.tag == RUN:
                _add(item)
            else:
                visit(item)

    def _add(el) -> None:
        plain, spans = element_text(el)
        if plain:
            found.append((el, Block("paragraph", plain, spans, None)))

    visit(root)
    return found


def write_block(el, block: Block, segments) -> int:
    """`el`'s contents replaced by its translation (the block's (source, space after, target)
    segments), inline markup restored, and the whitespace it began and ended with kept (the
    source's line breaks and indentation); returns how many inline tags had to be moved."""
    raw = "".join(el.itertext())
    lead, trail = raw[: len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()):] if raw.strip() else ""
    moved = _write_element(el, block, segments)
    el.text = lead + (el.text or "")
    if len(el):
        el[-1].tail = (el[-1].tail or "") + trail
    else:
        el.text += trail
    return moved


def unwrap_runs(root) -> None:
    for run in list(root.iter(RUN)):
        run.drop_tag()


def _inline(node) -> bool:
    """Text-level content: a comment, or an inline element with nothing but inline elements inside."""
    if not isinstance(node.tag, str):
        return True
    return node.tag in INLINE and node.tag not in KEEP_AS_IS and all(
        d.tag in INLINE and d.tag not in KEEP_AS_IS for d in node.iterdescendants() if isinstance(d.tag, str))


def _wrap_runs(el) -> list:
    """`el`'s children, each run of inline content (text, inline elements) that has words put
    into one <tk-run> element; blocks (and runs of bare whitespace) stay as they were."""
    items: list = [el.text] if el.text else []
    for child in el:
        items.append(child)
        if child.tail:
            items.append(child.tail)
    el.text = None
    for child in list(el):
        child.tail = None
        el.remove(child)
    grouped: list = []
    run: list = []

    def flush() -> None:
        words = any((item if isinstance(item, str) else (item.text_content() if isinstance(item.tag, str) else "")).strip()
                    for item in run)
        if words:
            wrapper = el.makeelement(RUN, {})
            for item in run:
                _append(wrapper, item)
            grouped.append(wrapper)
        else:
            grouped.extend(run)
        run.clear()

    for item in items:
        if isinstance(item, str) or _inline(item):
            run.append(item)
        else:
            flush()
            grouped.append(item)
    flush()
    for item in grouped:
        _append(el, item)
    return [item for item in el if isinstance(item.tag, str)]


def _append(parent, item) -> None:
    if isinstance(item, str):
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + item
        else:
            parent.text = (parent.text or "") + item
    else:
        parent.append(item)
