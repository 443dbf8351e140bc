"""`pdf`: the text layer, page by page, lines joined back into paragraphs.

pypdf, one page's content at a time. Running headers, footers (kept as metadata) and page numbers
are dropped; lines are joined into paragraphs, across page breaks too; a word hyphenated at a line
end is rejoined unless the hyphen is real. A scan (no text layer) and a file that needs a password
are errors that say so; there is no translated copy. Why pypdf, and the rules: docs/design.md#readers
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..errors import DocumentError
from . import Block, Extracted, Reader

PAGE_NUMBER = re.compile(r"^\W*(?:(?:page|p\.|seite|pagina|página)\s*)?\d{1,4}(?:\s*(?:/|sur|of|de|von)\s*\d{1,4})?\W*$", re.I)
SENTENCE_END = re.compile(r"[.!?…:;»\"”)]\s*$")
HYPHEN_END = re.compile(r"([^\W\d_]+)[-\u00ad]$")
NEXT_WORD = re.compile(r"^([^\W\d_][^\W_]*)")
# French compounds and enclitics whose hyphen is part of the word (left or right of it)
LEFT_PARTS = {"au", "aux", "vis", "peut", "après", "arc", "avant", "belle", "beau", "grand", "grande", "demi",
              "mi", "semi", "ex", "non", "sans", "sous", "porte", "garde", "chef", "c'est", "quelques", "arrière",
              "contre", "extra", "vice", "néo", "pré", "post", "anti", "pro", "ci", "là", "soi", "état", "franco"}
RIGHT_PARTS = {"delà", "dessus", "dessous", "dedans", "dehors", "là", "ci", "même", "mêmes", "être", "il", "ils",
               "elle", "elles", "on", "je", "tu", "nous", "vous", "moi", "toi", "lui", "leur", "y", "en", "t",
               "ce", "clés", "clé", "unis", "unies", "midi", "part", "à-vis", "major"}
MIN_TEXT = 16  # fewer letters than this over the whole file: no text layer


class PdfReader(Reader):
    name = "pdf"
    suffixes = (".pdf",)
    libraries = {"pypdf": "pypdf"}

    def sniff(self, head: bytes) -> bool:
        return b"%PDF-" in head[:1024]

    def read(self, data: bytes | Path, name: str) -> Extracted:
        from . import library_notes

        with library_notes("pypdf") as notes:
            pages, meta, warnings = read_pages(data, name, notes)
        blocks = [Block("paragraph", text) for text in paragraphs(pages, meta)]
        if sum(len(re.findall(r"[^\W\d_]", b.text)) for b in blocks) < MIN_TEXT:
            raise DocumentError(name, "no text layer: run OCR first (a scanned or image-only PDF; e.g. ocrmypdf)")
        meta["pages"] = str(len(pages))
        return Extracted(blocks, meta, warnings + notes)


def read_pages(data: bytes | Path, name: str, notes: list[str] = ()) -> tuple[list[list[str]], dict, list[str]]:
    """Each page's lines (stripped), the file's title/author/date, and what was skipped. `notes`:
    what pypdf logged so far (said in the error when the file cannot be read)."""
    import io

    from pypdf import PdfReader as Pdf
    from pypdf.errors import PdfReadError, PyPdfError

    source = data if isinstance(data, Path) else io.BytesIO(data)
    try:
        pdf = Pdf(source)
        if pdf.is_encrypted:
            _unlock(pdf, name)
        meta = _meta(pdf)
        pages, unread = [], []
        for i in range(len(pdf.pages)):
            try:
                pages.append(_page_lines(pdf.pages[i]))
            except RecursionError:  # a content stream nested thousands deep: that page alone is lost
                pages.append([])
                unread.append(str(i + 1))
    except DocumentError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as err:
        said = f"; {notes[0]}" if notes else ""
        raise DocumentError(name, f"not a readable PDF ({type(err).__name__}: {' '.join(str(err).split())[:80]}{said})") from None
    warnings = [f"page(s) {', '.join(unread)} skipped: content nested too deeply to read"] if unread else []
    return pages, meta, warnings


def _page_lines(page) -> list[str]:
    """A page's lines in layout mode, which keeps vertical gaps as blank lines and indents as
    leading spaces (what tells paragraphs apart); the spaces that align columns are collapsed, and
    a line more indented than the page's margin keeps one leading space as a mark."""
    try:
        text = page.extract_text(extraction_mode="layout") or ""
    except RecursionError:
        raise
    except Exception:  # noqa: BLE001 - layout mode fails on some odd fonts; the plain mode still reads them
        text = page.extract_text() or ""
    raw = text.splitlines()
    indents = Counter(len(l) - len(l.lstrip()) for l in raw if l.strip())
    margin = min(indents, default=0) if not indents else indents.most_common(1)[0][0]
    lines = []
    for line in raw:
        words = " ".join(line.split())
        indented = words and len(line) - len(line.lstrip()) > margin + 2
        lines.append((" " + words) if indented else words)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _unlock(pdf, name: str) -> None:
    """An owner-password-only PDF opens with the empty user password (AES ones through the
    `cryptography` package, a core dependency); any other needs its password."""
    from pypdf.errors import DependencyError

    try:
        if pdf.decrypt(""):
            return
    except DependencyError:
        raise DocumentError(name, "encrypted with AES: reading it needs the `cryptography` package "
                                  "(pip install cryptography)") from None
    except Exception:  # noqa: BLE001 - pypdf raises NotImplementedError for some ciphers
        pass
    raise DocumentError(name, "encrypted PDF: it needs a password (decrypt it first, e.g. qpdf --decrypt)")


def _meta(pdf) -> dict:
    try:
        info = pdf.metadata or {}
    except Exception:  # noqa: BLE001 - a damaged info dictionary is no reason to refuse the text
        return {}
    meta = {"title": info.get("/Title"), "author": info.get("/Author")}
    date = str(info.get("/CreationDate") or "")
    match = re.match(r"D?:?(\d{4})(\d{2})?(\d{2})?", date)
    if match:
        meta["date"] = "-".join(g for g in match.groups() if g)
    return {k: str(v).strip() for k, v in meta.items() if v and str(v).strip()}


EDGES = (0, 1, -2, -1)  # where running lines stand: the first two and last two lines with text


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def running_lines(pages: list[list[str]]) -> set[tuple[int, str]]:
    """(place, shape) of lines that stand at the same place (one of EDGES) on at least half the
    pages, two pages or more, with the same words; their numbers either the same on every page
    or going up with the page (a page number), so a body line that differs only by a figure is
    not taken for one. A line that repeats elsewhere on a page (a title quoted in the body) is
    not at the same place and stays."""
    if len(pages) < 2:
        return set()
    seen: dict[tuple[int, str], list[tuple[int, list[int]]]] = {}
    for n, lines in enumerate(pages):
        content = [l for l in lines if l]
        for place in EDGES:
            if -len(content) <= place < len(content) and (place >= 0 or len(content) > 2):
                line = content[place]
                seen.setdefault((place, _shape(line)), []).append((n, [int(d) for d in re.findall(r"\d+", line)]))
    need = max(2, (len(pages) + 1) // 2)
    return {key for key, found in seen.items() if len({n for n, _ in found}) >= need and _page_numbers(found)}


def _page_numbers(found: list[tuple[int, list[int]]]) -> bool:
    """Whether each number in a repeated line is the same on every page or the page's own number
    (its index plus one offset)."""
    for k in range(len(found[0][1])):
        values = [(n, numbers[k]) for n, numbers in found]
        if len({v for _, v in values}) > 1 and len({v - n for n, v in values}) > 1:
            return False
    return True


def _body(lines: list[str], running: set[tuple[int, str]]) -> tuple[list[str], list[str], list[str]]:
    """A page's lines without its running header/footer and page number (blank where they were),
    peeled from each edge inwards, and the header and footer lines taken out."""
    lines = list(lines)
    content = [i for i, l in enumerate(lines) if l]
    head, foot = [], []
    for places, into in (((0, 1), head), ((-1, -2), foot)):
        for place in places:
            if not -len(content) <= place < len(content) or not lines[content[place]]:
                break
            line = lines[content[place]]
            if (place, _shape(line)) not in running and not PAGE_NUMBER.match(line.strip()):
                break
            into.append(line.strip())
            lines[content[place]] = ""
    return lines, head, foot


def paragraphs(pages: list[list[str]], meta: dict | None = None) -> list[str]:
    """The pages' paragraphs; running headers and footers go to `meta` ("page header", "page
    footer"), never into the text, and never joined to the first paragraph under them."""
    running = running_lines(pages)
    cut = [_body(lines, running) for lines in pages]
    bodies = [lines for lines, _, _ in cut]
    if meta is not None:
        for key, found in (("page header", [h for _, head, _ in cut for h in head]),
                           ("page footer", [f for _, _, foot in cut for f in foot])):
            kept = [l for l in dict.fromkeys(found) if not PAGE_NUMBER.match(l)]
            if kept:
                meta[key] = kept[0]
    compounds = _hyphenated_words(bodies)
    out, current = [], []
    for lines in bodies:
        widths = sorted(len(l.strip()) for l in lines if l)
        usual = widths[int(len(widths) * 0.8)] if widths else 0
        for line in lines:
            if not line or (line.startswith(" ") and current and SENTENCE_END.search(current[-1])):
                if current:  # a blank line, or an indented line after a finished sentence
                    out.append(_join(current, compounds))
                    current = []
                if not line:
                    continue
            line = line.strip()
            current.append(line)
            if SENTENCE_END.search(line) and len(line) < 0.85 * usual:
                out.append(_join(current, compounds))
                current = []
    if current:
        out.append(_join(current, compounds))
    return [p for p in out if p]


def _hyphenated_words(bodies: list[list[str]]) -> set[str]:
    """Hyphenated words the document writes inside a line: their hyphen is real."""
    found = set()
    for lines in bodies:
        for line in lines:
            found.update(m.lower() for m in re.findall(r"[^\W\d_]+-[^\W\d_]+", line))
    return found


def _join(lines: list[str], compounds: set[str]) -> str:
    text = lines[0]
    for before, line in zip(lines, lines[1:]):
        end = HYPHEN_END.search(before[-64:]) if before.endswith(("-", "\u00ad")) else None
        nxt = NEXT_WORD.match(line)
        if end and nxt:
            left, right = end.group(1), nxt.group(1)
            if _real_hyphen(left, right, compounds):
                text = text + line  # the hyphen stays, no space: au-delà
            else:
                text = text[: -1] + line  # pro- + gramme
        elif before.endswith("-") and line[:1].isdigit():  # 2023-\n2024
            text = text + line
        else:
            text = text + " " + line
    return text


def _real_hyphen(left: str, right: str, compounds: set[str]) -> bool:
    if f"{left}-{right}".lower() in compounds or right[:1].isupper():
        return True
    last = left.lower().rsplit("'", 1)[-1] if "'" in left else left.lower()
    return left.lower() in LEFT_PARTS or last in LEFT_PARTS or right.lower() in RIGHT_PARTS
