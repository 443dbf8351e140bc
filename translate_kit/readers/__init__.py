"""Input readers, one small module per format, picked by extension and, where the extension lies
or is missing, by content. Mirrors `writers/`.

A reader turns bytes into a Document: plain text exactly, other formats as Blocks (one per
paragraph, with a kind, inline markup as Spans, an `anchor` for `rebuild()`) joined by one blank
line. Adding a format is one new module with a `Reader` subclass: `name`, `suffixes`, `read()`,
`sniff()` when the content can tell, `rebuild()` when a native copy makes sense. Each reader
imports its library inside `read()`. Why each library: docs/design.md#readers
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BLOCK_KINDS = ("heading", "paragraph", "list item", "quote", "caption", "table cell")
BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n[\s]*")


@dataclass
class Span:
    """Inline markup over `text[start:end]` of a block: `open`/`close` are written around the
    translated words (a link, emphasis); a `fixed` span (inline code) keeps its source text."""

    start: int
    end: int
    open: str
    close: str
    fixed: bool = False
    info: object = None  # what a reader needs to rebuild it (an HTML element)


@dataclass
class Block:
    kind: str
    text: str
    spans: list[Span] = field(default_factory=list)
    anchor: object = None  # where it came from, for rebuild(): a line range, an element, ...


@dataclass
class Extracted:
    """What a reader found: the blocks, the metadata (title, author, date, site, url, ...), notes."""

    blocks: list[Block]
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    native: object = None  # what rebuild() needs besides the blocks (the parsed source, its lines)


class Reader:
    name = ""
    suffixes: tuple[str, ...] = ()
    # The libraries read() imports, module -> the pip distribution that provides it: what
    # `tk doctor` and tests/test_install.py import to prove the format is usable here.
    libraries: dict[str, str] = {}
    native_ext = ""  # the extension of a translated copy in this format; "" means none

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of a file say it is in this format."""
        return False

    def read(self, data: bytes, name: str):
        """Bytes -> Extracted (or, for plain text, a decoded text). Raises DocumentError."""
        raise NotImplementedError

    def rebuild(self, doc, translations: dict[int, list[tuple[str, str, str]]], lang: str = "") -> bytes | str:
        """A translated copy of `doc`: `translations` maps each paragraph to its (source, space_after,
        target) segments; `lang` is the translation's language."""
        raise NotImplementedError


@functools.cache
def available() -> dict[str, Reader]:
    """Every Reader subclass in this package's modules, by name (one instance each)."""
    from ..registry import named_subclasses

    return named_subclasses(__name__, __path__, Reader)


def get_reader(name: str) -> Reader:
    return available()[name]


def suffixes() -> tuple[str, ...]:
    return tuple(s for r in available().values() for s in r.suffixes)


def by_suffix(path: Path | str) -> Reader | None:
    suffix = Path(path).suffix.lower()
    return next((r for r in available().values() if suffix in r.suffixes), None)


SNIFF_ORDER = ("pdf", "epub", "docx", "doc", "html")  # formats the first bytes can prove
BINARY = ("pdf", "epub", "docx", "doc")


def choose(path: Path | str | None, head: bytes) -> tuple[Reader, str | None]:
    """The reader for a file: by its content where the content proves a format, else by its
    extension, else plain text. Returns (reader, a warning when the extension disagreed)."""
    readers = available()
    named = by_suffix(path) if path is not None else None
    sniffed = next((readers[n] for n in SNIFF_ORDER if n in readers and readers[n].sniff(head)), None)
    suffix = Path(path).suffix if path is not None else ""
    if sniffed is None:
        if named is not None and named.name in BINARY:
            return readers["txt"], f"not a {named.name.upper()} file despite its {suffix} extension: read as plain text"
        return named or readers["txt"], None
    if named is None or named.name == sniffed.name:
        return sniffed, None
    return sniffed, f"read as {sniffed.name.upper()}, as its content says ({suffix or 'no'} extension)"


def join_blocks(blocks: list[Block]) -> str:
    """The document's text: the blocks' texts, each on one paragraph, one blank line between."""
    return "\n\n".join(b.text for b in blocks)


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Blocks with text, each free of blank lines (one block must stay one paragraph); spans kept
    where the text did not move."""
    out = []
    for block in blocks:
        text = block.text.replace("\r\n", "\n").replace("\r", "\n")
        if BLANK_LINES.search(text) or text != text.strip():
            lead = len(text) - len(text.lstrip())
            stripped = BLANK_LINES.sub("\n", text.strip())
            if len(stripped) != len(text.strip()):
                block.spans = []
            else:
                block.spans = [Span(s.start - lead, s.end - lead, s.open, s.close, s.fixed, s.info)
                               for s in block.spans if s.start >= lead]
            text = stripped
        if text:
            block.text = text
            out.append(block)
    return out


@contextmanager
def library_notes(*loggers: str):
    """What a library logs while this thread reads a file (pypdf's "EOF marker not found"),
    collected as one-line notes for the document's warnings instead of lines of its own on stderr.
    Yields the list the notes go into (deduplicated, in order)."""
    notes: list[str] = []
    handler = _Notes(notes, threading.get_ident())
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield notes
    finally:
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate


class _Notes(logging.Handler):
    def __init__(self, notes: list[str], thread: int):
        super().__init__(logging.WARNING)
        self.notes, self.thread = notes, thread

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        note = f"{record.name.split('.')[0]}: " + " ".join(record.getMessage().split())[:200]
        if note not in self.notes:
            self.notes.append(note)
