"""Documents -> Paragraphs -> Segments, with nothing lost.

Every Segment keeps the whitespace that followed it (`space_after`), so joining
`source + space_after` over a document gives back its text byte for byte.

Sentence boundaries come from sentencex (Wikimedia's segmenter, ~300 languages, maintained,
fast Rust core, returns the text with its whitespace so offsets are exact). It does not know
French abbreviations (`M.`, `Mme`, `Jr.`), does not treat `…` as an ending, and is confused by
a `«` used as a closing quote, as some of the seeds do. A thin layer fixes those three things:
line breaks are hard boundaries, `…` and a mis-turned `«` are normalised on a same-length copy
used only for finding boundaries, and pieces that end in an abbreviation or are followed by a
lowercase start are joined again. pysbd (French rules) was tried too: it loses characters on
two seeds and has not been released since 2021.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from .documents import Document

PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
LINE_END = re.compile(r"\r\n|\n|\r")
BLANK_LINE = re.compile(r"[ \t]*\r?\n")
# Tokens that end with a period but do not end a sentence (French press usage, plus initials).
ABBREVIATION = re.compile(
    r"(?:^|[\s(«\"'’])(?:M|MM|Mme|Mmes|Mlle|Mlles|Dr|Drs|Pr|Me|Mgr|St|Ste|Jr|Sr|Gén|Gal|Col|Cdt|Lt"
    r"|cf|p|pp|vol|art|chap|av|apr|J\.-C|[A-Z])\.\s*$"
)
LOWER_START = re.compile(r"^[\s«»\"“”'’(]*[a-zà-ÿœæ]")
LETTER = re.compile(r"[^\W\d_]")
# Not words to translate: URLs, e-mail addresses, and characters shown as emoji ("ℹ️" is a
# letter to Unicode). A segment with no letters once these are removed is copied through.
NOT_WORDS = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+|.\ufe0f|\u2139", re.IGNORECASE)


@dataclass
class Segment:
    """One sentence (or piece of a sentence) and, once translated, its target."""

    para: int
    seg: int
    source: str
    space_after: str
    kind: str = "text"  # text | meta (the ` date ` marker) | copy (no letters: copied, not translated)
    target: str = ""
    origin: str = ""  # model | cache | duplicate | copy | meta | review
    flag: str | None = None

    @property
    def text(self) -> str:
        """What the model sees: the source without surrounding whitespace."""
        return self.source.strip()


# --- sentences ---------------------------------------------------------------------------


def _boundary_copy(line: str) -> str:
    """A same-length copy of `line` on which sentencex finds the boundaries we want."""
    line = re.sub(r"«(?=\s*(?:[,.;:!?]|$))", "»", line)  # a « that closes a quote
    return line.replace("…", ".")


def _sentencex(line: str, lang: str) -> list[str]:
    from sentencex import segment as sx_segment

    probe = _boundary_copy(line)
    pieces, pos = [], 0
    for piece in sx_segment(lang or "fr", probe):
        pieces.append(line[pos : pos + len(piece)])
        pos += len(piece)
    if pos != len(line):  # never trust a library with our text: keep the rest verbatim
        pieces.append(line[pos:])
    return [p for p in pieces if p]


def _rejoin(pieces: list[str]) -> list[str]:
    """Join pieces split after an abbreviation or before a lowercase start."""
    out: list[str] = []
    for piece in pieces:
        if out and (ABBREVIATION.search(out[-1]) or LOWER_START.match(piece)):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def split_sentences(paragraph: str, lang: str = "fr") -> list[str]:
    """Sentences of one paragraph; each keeps its trailing whitespace; they join to `paragraph`."""
    return list(iter_sentences(paragraph, lang))


def iter_sentences(paragraph: str, lang: str = "fr") -> Iterator[str]:
    """`split_sentences` one at a time (a huge paragraph is never a list of all its lines).
    The newest sentence is held back until the next line is seen: a blank line joins it."""
    pending: str | None = None
    for line in _lines(paragraph):
        if line.strip():
            for sentence in _rejoin(_sentencex(line, lang)):
                if pending:
                    yield pending
                pending = sentence
        elif pending is not None:
            pending += line  # blank lines stay with the sentence before them
        else:
            pending = line  # blank lines opening the paragraph: an item of their own
    if pending:
        yield pending


def _lines(text: str) -> Iterator[str]:
    """Lines of `text`, each with its line break (\n, \r\n or \r)."""
    pos = 0
    for match in LINE_END.finditer(text):
        yield text[pos : match.end()]
        pos = match.end()
    if pos < len(text):
        yield text[pos:]


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs split at blank lines; each keeps the blank lines after it; they join to `text`."""
    return list(iter_paragraphs(text))


def iter_paragraphs(text: str, start: int = 0) -> Iterator[str]:
    """`split_paragraphs` of `text[start:]` one at a time: a huge document is never copied, whole or
    into a list."""
    pos = start
    for end in _paragraph_ends(text, start):
        yield text[pos:end]
        pos = end
    if pos < len(text):
        yield text[pos:]


def _paragraph_ends(text: str, start: int) -> Iterator[int]:
    """Where each paragraph of `text[start:]` but the last ends: after its run of blank lines."""
    pos = start
    for match in PARAGRAPH_BREAK.finditer(text, start):
        end = match.end()
        # runs of several blank lines stay with the paragraph before them
        while True:
            extra = BLANK_LINE.match(text, end)  # a position, not text[end:]: no copy of the rest per paragraph
            if not extra:
                break
            end = extra.end()
        if end > pos:
            yield end
            pos = end


NEXT_LINE_STARTS = re.compile(r"[ \t]*[^ \t\r\n]")  # a line with something on it begins here
LINE_BEFORE_TEXT = re.compile(r"\n(?=[ \t]*[^ \t\r\n])")
MAX_PENDING_CHARS = 1 << 20  # an unfinished paragraph longer than this is handed on in pieces


def stream_paragraphs(pieces: Iterable[str], start: int = 0) -> Iterator[tuple[str, bool]]:
    """`iter_paragraphs` for text that arrives in pieces (a file decoded as it is read): yields
    (text, whether it opens a new paragraph). A paragraph is handed on once the next one has begun;
    one longer than MAX_PENDING_CHARS comes in several pieces, cut after a line break (sentences never
    span lines, so they are the same), the later pieces with False. `start` skips the beginning."""
    pending, pos, opens, skip = "", 0, True, start
    for piece in pieces:
        if skip >= len(piece):
            skip -= len(piece)
            continue
        if pending:
            pending, pos = pending[pos:] + piece, 0
        else:
            pending, pos, skip = piece, skip, 0  # the first piece is not copied (a position skips `start`)
        for end in _paragraph_ends(pending, pos):
            if not NEXT_LINE_STARTS.match(pending, end):  # the run of blank lines may go on in the next piece
                break
            yield pending[pos:end], opens
            pos, opens = end, True
        if len(pending) - pos > MAX_PENDING_CHARS:
            cut = _last_line_start(pending, pos)
            if cut > pos:
                yield pending[pos:cut], opens
                pos, opens = cut, False
    for paragraph in iter_paragraphs(pending, pos):
        yield paragraph, opens
        opens = True


def _last_line_start(text: str, pos: int) -> int:
    """The start of the last line in `text[pos:]` that has something on it (pos if there is none)."""
    last = pos
    for match in LINE_BEFORE_TEXT.finditer(text, pos):
        last = match.end()
    return last


def segment_document(doc: Document, lang: str = "fr") -> list[Segment]:
    """All segments of a document, in order. Leading whitespace stays in the first segment."""
    return list(iter_segments(doc, lang))


def iter_segments(doc: Document, lang: str = "fr") -> Iterator[Segment]:
    """`segment_document` one segment at a time, for documents too large to hold as segments.
    The newest segment is held back: whitespace that follows may still belong to it."""
    pending: list[Segment] = []
    marker = doc.meta.get("marker", "")
    if marker:
        body = marker.rstrip()
        pending.append(Segment(0, 0, body, marker[len(body):], kind="meta", origin="meta"))
    para = -1
    for paragraph, opens in stream_paragraphs(doc.pieces(), len(marker)):
        para += opens
        for sentence in iter_sentences(paragraph, lang):
            _append(pending, para, sentence)
            while len(pending) > 1:
                yield pending.pop(0)
    yield from pending


def _append(segments: list[Segment], para: int, sentence: str) -> None:
    body = sentence.rstrip()
    space = sentence[len(body):]
    if not body:  # whitespace alone (a document opening with blank lines): keep it, attach forward
        if segments:
            segments[-1].space_after += space
        else:
            segments.append(Segment(para, 0, space, "", kind="copy", origin="copy"))
        return
    if segments and segments[-1].kind == "copy" and not segments[-1].source.strip():
        lead = segments.pop()
        body = lead.source + lead.space_after + body  # leading whitespace of the document (all of it: "\n\n\r")
    last = segments[-1] if segments else None
    seg = last.seg + 1 if last is not None and last.para == para else 0  # not a count over all: O(n) on huge documents
    kind = "text" if has_words(body) else "copy"
    segments.append(Segment(para, seg, body, space, kind=kind, origin="" if kind == "text" else "copy"))


def has_words(text: str) -> bool:
    """Whether `text` holds anything to translate: letters outside URLs, e-mail addresses and emoji."""
    return bool(LETTER.search(NOT_WORDS.sub("", text)))


def reassemble(segments: Iterable[Segment]) -> str:
    return "".join(s.source + s.space_after for s in segments)


# --- token budget ------------------------------------------------------------------------

CLAUSE_BREAKS = (re.compile(r"(?<=;)\s*"), re.compile(r"(?<=:)\s*"), re.compile(r"(?<=,)\s*"), re.compile(r"\s+"))


def split_to_budget(text: str, count: Callable[[str], int], budget: int) -> list[str]:
    """Pieces of `text` that each count <= budget tokens and join back to `text` exactly.

    Clause boundaries first (`;`, `:`, `,`), then words, and only then characters.
    """
    if count(text.strip()) <= budget:
        return [text]
    return _split_level(text, count, budget, 0)


def _split_level(text: str, count: Callable[[str], int], budget: int, level: int) -> list[str]:
    if level == len(CLAUSE_BREAKS):
        return _split_chars(text, count, budget)
    parts = _cut_after(text, CLAUSE_BREAKS[level])
    pieces: list[str] = []
    for part in parts:
        if count(part.strip()) > budget:
            pieces.extend(_split_level(part, count, budget, level + 1))
        elif pieces and count((pieces[-1] + part).strip()) <= budget:
            pieces[-1] += part
        else:
            pieces.append(part)
    return pieces


def _cut_after(text: str, pattern: re.Pattern) -> list[str]:
    parts, pos = [], 0
    for match in pattern.finditer(text):
        if match.end() > pos and match.end() < len(text):
            parts.append(text[pos : match.end()])
            pos = match.end()
    parts.append(text[pos:])
    return [p for p in parts if p]


def _split_chars(text: str, count: Callable[[str], int], budget: int) -> list[str]:
    """Last resort, for a 'word' longer than the budget: the longest prefixes that fit."""
    pieces = []
    while text:
        lo, hi = 1, len(text)
        while lo < hi:  # largest prefix length whose token count fits
            mid = (lo + hi + 1) // 2
            if count(text[:mid].strip()) <= budget:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(text[:lo])
        text = text[lo:]
    return pieces


def fit_segments(segments: list[Segment], count: Callable[[str], int], budget: int,
                 known: frozenset[str] | set[str] = frozenset()) -> list[Segment]:
    """Split every text segment over the budget; renumber segments within their paragraphs.
    Texts in `known` (already translated whole, so within budget) are not counted again."""
    out: list[Segment] = []
    for s in segments:
        if s.kind != "text" or s.text in known or count(s.text) <= budget:
            out.append(s)
            continue
        pieces = split_to_budget(s.source, count, budget)
        for i, piece in enumerate(pieces):
            body = piece.rstrip()
            space = piece[len(body):] + (s.space_after if i == len(pieces) - 1 else "")
            out.append(Segment(s.para, 0, body, space))
    return renumber(out)


def renumber(segments: list[Segment], counters: dict[int, int] | None = None) -> list[Segment]:
    """Number segments from 0 within each paragraph. `counters` (paragraph -> next number) carries
    the count over when a document comes in parts and a paragraph spans two of them."""
    counters = {} if counters is None else counters
    for s in segments:
        s.seg = counters.get(s.para, 0)
        counters[s.para] = s.seg + 1
    return segments
