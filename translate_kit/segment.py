"""Documents -> Paragraphs -> Segments, with nothing lost.

Every Segment keeps the whitespace that followed it (`space_after`), so joining
`source + space_after` over a document gives back its text byte for byte. Boundaries come from
sentencex in the document's language, each decided again with the language's table
(segment_rules.py), reading a WINDOW of characters around it so the layer stays linear. What the
layer adds: docs/design.md#sentence-rules; why sentencex: docs/design.md#other-choices
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Iterator

from .documents import Document
from .segment_rules import ends_with, rules_for, sentencex_language

PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
LINE_END = re.compile(r"\r\n|\n|\r")
WHITESPACE = re.compile(r"\s*")
SPACES = re.compile(r"[ \t\r\n]*")
STRAY_CR = re.compile(r"\r(?!\n)")
LETTER = re.compile(r"[^\W\d_]")
# Not words to translate: URLs, e-mail addresses, and characters shown as emoji ("ℹ️" is a
# letter to Unicode). A segment with no letters once these are removed is copied through. Each
# pattern may only start where its run of characters starts (the lookbehinds): otherwise a long
# run without "://" or "@" is rescanned from each of its characters, quadratic in its length.
NOT_WORDS = re.compile(
    r"(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]*://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+|.\ufe0f|\u2139",
    re.IGNORECASE,
)


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
    piece: tuple[int, int] | None = None  # (i, n): the i-th of n pieces of one sentence cut to the model's budget
    # How far to trust the translation (checks/): ok | check | doubt, None until it is checked (meta
    # records never are); the reasons as {code, detail}; the model's score, None where there is none.
    verdict: str | None = None
    checks: list = field(default_factory=list)
    score: float | None = None
    terms: list = field(default_factory=list)  # glossary terms matched: source, target, note, origin, missing

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

    pieces, pos = [], 0
    for piece in _sx_pieces(sx_segment, sentencex_language(lang), _boundary_copy(line)):
        pieces.append(line[pos : pos + len(piece)])
        pos += len(piece)
    if pos != len(line):  # never trust a library with our text: keep the rest verbatim
        pieces.append(line[pos:])
    return [p for p in pieces if p]


def _sx_pieces(sx_segment, lang: str, probe: str) -> list[str]:
    """sentencex's pieces of `probe`. sentencex 1.0.32 panics (a Rust PanicException, not an
    Exception) on some no-break spaces, e.g. 'Q\u00a0. Fin.': then the same probe with plain spaces
    (same length, so the slicing above holds), and if that fails too, the line as one piece."""
    try:
        return list(sx_segment(lang, probe))
    except BaseException as err:  # noqa: BLE001  pyo3's PanicException derives from BaseException
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
    try:
        return list(sx_segment(lang, probe.replace("\u00a0", " ").replace("\u202f", " ")))
    except BaseException as err:  # noqa: BLE001
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return [probe]


# A possible end of sentence inside a piece of sentencex's: final punctuation, closing marks (a
# French one may follow a space: "paix. »"), then whitespace. sentencex never splits inside a
# quotation; a quotation of several sentences is split here, its marks staying with the first and
# the last sentence.
ENDING = re.compile(r"(?<![.!?…])[.!?…]+(?:[ \u00a0\u202f]?[»”“\"’)](?=[\s,;:]|$))*\s+")
CLOSING_MARKS = " \t\u00a0\u202f\u2009»”“\"’)"
OPENING_MARKS = re.compile(r"[\s«„“\"‘'(\[¿¡-]*")
LAST_WORD = re.compile(r"([^\s(\[«„“\"‘'’/]+)\.$")
FIRST_WORD = re.compile(r"[^\s,;:.!?»”“\")]+")
INITIAL = re.compile(r"(?:^|(?<=[\s(«„“\"‘'’.-]))[^\W\d_]\.$")
ORDINAL = re.compile(r"(?:^|(?<=\s))(?:(\S+)\s+)?\d{1,3}\.$")  # "2015." is a year
CONTINUES = ",;:)»”"  # a piece starting with one of these goes on the sentence before
LONGEST = 16  # characters of the longest abbreviation in a table, with its spaces
WINDOW = 64  # characters either side of a possible boundary that the rules look at: linear time


def _pieces(piece: str) -> Iterator[tuple[str, bool]]:
    """`piece` cut at every ENDING followed by a capital (or ¿ ¡): (text, cut here rather than by sentencex)."""
    pos, first = 0, True
    for match in ENDING.finditer(piece):
        end = match.end()
        if end >= len(piece):
            break
        head = piece[end : end + WINDOW]
        start = OPENING_MARKS.match(head).end()
        if start < len(head) and (head[start].isupper() or head[start - 1 : start] in ("¿", "¡")):
            yield piece[pos:end], not first
            pos, first = end, False
    yield piece[pos:], not first


def _is_boundary(before: str, after: str, rules, lang: str, inner: bool) -> bool:
    """Whether a sentence ends between `before` (the last WINDOW characters) and `after` (the next ones).
    `inner`: a possible ending sentencex did not take (inside a quotation, or after an abbreviation)."""
    text = before.rstrip()
    core = text.rstrip(CLOSING_MARKS)  # str.rstrip: a `[...]*$` search would try every start
    closed = len(core) < len(text)
    start = OPENING_MARKS.match(after).end()
    if start >= len(after):
        return True
    first = after[start]
    if first in CONTINUES:  # „Dit is een historische dag!”, riep de minister
        return False
    lower = first.islower()
    if core[-1:] != ".":  # ! ? … or no final punctuation: « Non ! » a-t-il dit / Qui ? Personne.
        return not lower
    word = FIRST_WORD.match(after, start)
    word = word.group(0) if word else ""
    near = max(0, len(core) - LONGEST)  # only the end can match: do not try every start in the window
    if ends_with(core, rules.may_end, rules.parts):  # etc. La suite / U.S. Army
        return not lower and word not in rules.continuations
    if ends_with(core, rules.never_end, rules.parts) or INITIAL.search(core, near):
        return False
    number = ORDINAL.search(core, max(0, near - 16))
    if number:  # "am 3. Oktober", "die 2. Runde": ordinals; "auf 25. Danach": an ending
        return not (lower or first.isdigit() or word.rstrip(".").lower() in rules.months
                    or (number.group(1) or "").lower() in rules.ordinal_before)
    if lower:  # after a closing mark the quotation was inside the sentence; else the sentence really ended
        return not closed
    if inner:
        last = LAST_WORD.search(core)
        return last is None or last.group(1) in rules.words or not _sentencex_abbreviation(lang, last.group(1))
    return True


@lru_cache(maxsize=4096)
def _sentencex_abbreviation(lang: str, word: str) -> bool:
    """Whether sentencex keeps `word.` and a capitalised word together (its own list for `lang`)."""
    if len(word) > 12:
        return False
    from sentencex import segment as sx_segment

    return len(list(sx_segment(sentencex_language(lang), f"Abc {word}. Def ghi."))) == 1


def _window_before(before: str) -> str:
    """The last WINDOW characters, less a word cut at their start (it would look like a whole word)."""
    if len(before) < WINDOW:
        return before
    space = before.find(" ")
    return before[space + 1 :] if space >= 0 else before


def _split_line(line: str, lang: str) -> list[str]:
    """Sentences of one line (no line break inside), each with its trailing whitespace."""
    rules = rules_for(lang)
    sentences: list[str] = []
    current: list[str] = []  # parts of the sentence being built (joined once: linear time)
    before = ""
    for piece in _sentencex(line, lang):
        for part, inner in _pieces(piece):
            if current and not _is_boundary(_window_before(before), part[:WINDOW], rules, lang, inner):
                current.append(part)
            else:
                if current:
                    sentences.append("".join(current))
                current = [part]
            before = (before + part)[-WINDOW:] if len(part) < WINDOW else part[-WINDOW:]
    if current:
        sentences.append("".join(current))
    return sentences


def split_sentences(paragraph: str, lang: str) -> list[str]:
    """Sentences of one paragraph; each keeps its trailing whitespace; they join to `paragraph`."""
    return list(iter_sentences(paragraph, lang))


def iter_sentences(paragraph: str, lang: str) -> Iterator[str]:
    """`split_sentences` one at a time (a huge paragraph is never a list of all its lines).
    The newest sentence is held back until the next line is seen: a blank line joins it."""
    pending: str | None = None
    for line in _lines(paragraph):
        if line.strip():
            for sentence in _split_line(line, lang):
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
    """Lines of `text`, each with its line break (\n, \r\n or \r); a run of blank lines comes as one
    (iter_sentences treats them alike, and a million blank lines are then one item, not a million)."""
    pos = 0
    while pos < len(text):
        span = WHITESPACE.match(text, pos).end()
        last = max(text.rfind("\n", pos, span), text.rfind("\r", pos, span))
        if last >= pos:  # blank lines up to and with the last line break in this run of whitespace
            end = last + 1
        else:
            match = LINE_END.search(text, pos)
            end = match.end() if match else len(text)
        yield text[pos:end]
        pos = end


def blank_lines_end(text: str, pos: int) -> int:
    """The end of the run of blank lines (`[ \t]*\r?\n`, repeated) at `pos`. The same as that regex,
    which sre runs at about a microsecond a line; this is three scans in C."""
    limit = SPACES.match(text, pos).end()
    stray = STRAY_CR.search(text, pos, limit)  # a \r not before \n ends the run
    last = text.rfind("\n", pos, stray.start() if stray else limit)
    return last + 1 if last >= 0 else pos


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
    match = PARAGRAPH_BREAK.search(text, start)
    while match:
        end = match.end()
        end = blank_lines_end(text, end)  # runs of several blank lines stay with the paragraph before them
        if end > pos:
            yield end
            pos = end
        match = PARAGRAPH_BREAK.search(text, end)  # after the run: searching inside it again is quadratic


NEXT_LINE_STARTS = re.compile(r"[ \t]*[^ \t\r\n]")  # a line with something on it begins here
LINE_BEFORE_TEXT = re.compile(r"\n(?=[ \t]*[^ \t\r\n])")
MAX_PENDING_CHARS = 1 << 20  # an unfinished paragraph longer than this is handed on in pieces


def stream_paragraphs(pieces: Iterable[str], start: int = 0) -> Iterator[tuple[str, bool]]:
    """`iter_paragraphs` for text that arrives in pieces (a file decoded as it is read): yields
    (text, whether it opens a new paragraph). A paragraph is handed on once the next one has begun;
    one longer than MAX_PENDING_CHARS comes in several pieces, cut after a line break (sentences never
    span lines, so they are the same), the later pieces with False. `start` skips the beginning.
    Linear in the text: what was searched is not searched again when the next piece comes (_Scan)."""
    pending, skip, opens = "", start, True
    scan = _Scan(0)
    for piece in pieces:
        if skip >= len(piece):
            skip -= len(piece)
            continue
        if pending:
            pending = pending[scan.pos :] + piece
            scan.shift(scan.pos)
        else:
            pending, scan, skip = piece, _Scan(skip), 0  # the first piece is not copied (a position skips `start`)
        for end in scan.paragraph_ends(pending):
            yield pending[scan.pos : end], opens
            scan.moved_to(end)
            opens = True
        if len(pending) - scan.pos > MAX_PENDING_CHARS:
            cut = scan.last_line_start(pending)
            if cut > scan.pos:
                yield pending[scan.pos : cut], opens
                scan.moved_to(cut)
                opens = False
    for paragraph in iter_paragraphs(pending, scan.pos):
        yield paragraph, opens
        opens = True


class _Scan:
    """Where stream_paragraphs stands in its pending text: `pos`, the start of what is not handed on;
    `resume`, where a paragraph break may begin that was not found yet; `run`, the end so far of a run
    of blank lines that reached the end of the text; `lines` and `last_line` likewise for the last
    line with text on it."""

    def __init__(self, pos: int):
        self.pos = self.resume = self.lines = self.last_line = pos
        self.run: int | None = None

    def shift(self, by: int) -> None:
        """The text before `by` was dropped."""
        self.pos -= by
        self.resume, self.lines, self.last_line = self.resume - by, self.lines - by, self.last_line - by
        if self.run is not None:
            self.run -= by

    def moved_to(self, pos: int) -> None:
        self.pos = pos
        self.resume, self.lines, self.last_line = max(self.resume, pos), max(self.lines, pos), max(self.last_line, pos)

    def paragraph_ends(self, text: str) -> Iterator[int]:
        """Ends of the paragraphs in `text` known to be complete (the next one has begun)."""
        while True:
            if self.run is None:
                match = PARAGRAPH_BREAK.search(text, self.resume)
                if not match:
                    self.resume = _last_line_break(text, self.resume)  # a break may begin there
                    return
                self.run = match.end()
            self.run = blank_lines_end(text, self.run)  # more blank lines stay with the paragraph
            end = self.run
            if not NEXT_LINE_STARTS.match(text, end):  # the run of blank lines may go on in the next piece
                return
            self.run, self.resume = None, end
            if end > self.pos:
                yield end

    def last_line_start(self, text: str) -> int:
        """The start of the last line after `pos` with something on it (`pos` if there is none)."""
        for match in LINE_BEFORE_TEXT.finditer(text, self.lines):
            self.last_line = match.end()
        self.lines = _last_line_break(text, self.lines)  # its lookahead may go on in the next piece
        return max(self.last_line, self.pos)


def _last_line_break(text: str, since: int) -> int:
    """Where to search `text` again when more comes: its last \n after `since` (with the \r before
    it), or its end (less a final \r) when there is none. Only text after `since` is looked at."""
    found = text.rfind("\n", since)
    if found < 0:
        return max(since, len(text) - text.endswith("\r"))
    return found - 1 if found > since and text[found - 1] == "\r" else found


def segment_document(doc: Document, lang: str) -> list[Segment]:
    """All segments of a document, in order. Leading whitespace stays in the first segment."""
    return list(iter_segments(doc, lang))


def iter_segments(doc: Document, lang: str) -> Iterator[Segment]:
    """`segment_document` one segment at a time, for documents too large to hold as segments.
    The newest segment is held back: whitespace that follows may still belong to it."""
    pending: list[Segment] = []
    marker = doc.meta.get("marker", "")
    if marker:
        body = marker.rstrip()
        pending.append(Segment(0, 0, body, marker[len(body):], kind="meta", origin="meta"))
    para, blank = -1, True  # blank: only whitespace so far, which opens no paragraph of its own
    for paragraph, opens in stream_paragraphs(doc.pieces(), len(marker)):
        para += opens if para < 0 or not blank else 0  # however that whitespace came in pieces
        for sentence in iter_sentences(paragraph, lang):
            blank = blank and not sentence.strip()
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
            out.append(Segment(s.para, 0, body, space, piece=(i, len(pieces))))
    return renumber(out)


def renumber(segments: list[Segment], counters: dict[int, int] | None = None) -> list[Segment]:
    """Number segments from 0 within each paragraph. `counters` (paragraph -> next number) carries
    the count over when a document comes in parts and a paragraph spans two of them."""
    counters = {} if counters is None else counters
    for s in segments:
        s.seg = counters.get(s.para, 0)
        counters[s.para] = s.seg + 1
    return segments
