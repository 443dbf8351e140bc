"""Putting a block's inline markup (links, emphasis, code) back onto its translation.

The model sees a block's words only; the Spans say which words were a link or in bold. For each
translated sentence, a span is looked for in the translation by its source words (found when a
name, a number or a quoted title comes through unchanged, and always under a copying model); a
span that cannot be found is moved to the boundary of the sentence (or of the span around it):
it then covers the whole sentence, or what follows the markup already placed. Inline code
(`fixed` spans) keeps its source text. Nothing is dropped: every span comes out once.
"""

from __future__ import annotations

import logging

from . import Span

log = logging.getLogger("translate_kit")

Piece = tuple[str, object]  # ("text", str) | ("open", Span) | ("close", Span) | ("fixed", Span)


def restore(text: str, spans: list[Span], segments: list[tuple[str, str, str]]) -> tuple[list[Piece], int]:
    """The translated block as pieces, and how many spans had to be moved. `segments` are the
    block's (source, space_after, target), whose sources and spaces join to `text`."""
    pieces: list[Piece] = []
    moved, pos, placed_spans = 0, 0, set()
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    for i, (source, space, target) in enumerate(segments):
        lead = len(source) - len(source.lstrip())
        a, b = pos + lead, pos + len(source.rstrip())
        pos += len(source) + len(space)
        mine = [s for s in ordered if _touches(s, a, b) and not (s.start == s.end and id(s) in placed_spans)]
        placed_spans.update(id(s) for s in mine if s.start == s.end)
        target = target.strip()
        events, moves = _place(text, mine, a, b, target)
        moved += moves
        pieces += _pieces(target, events)
        if i < len(segments) - 1:
            gap = space if "\n\n" not in space else " "
            pieces.append(("text", gap))
    return [p for p in pieces if p != ("text", "")], moved


def _touches(s: Span, a: int, b: int) -> bool:
    if s.start == s.end:
        return a <= s.start <= b
    return s.start < b and s.end > a


def _place(text: str, spans: list[Span], a: int, b: int, target: str) -> tuple[list, int]:
    """(position, rank, order, kind, span) events for the spans in one sentence."""
    events, moves = [], 0
    ranges: dict[int, tuple[int, int]] = {}  # span index -> its range in the target
    cursor: dict[int | None, int] = {}  # parent -> where its next child is looked for
    stack: list[int] = []
    for n, s in enumerate(spans):
        while stack and not (spans[stack[-1]].start <= s.start and s.end <= spans[stack[-1]].end):
            stack.pop()
        parent = stack[-1] if stack else None
        lo, hi = ranges[parent] if parent is not None else (0, len(target))
        start = cursor.get(parent, lo)
        cs, ce = max(s.start, a), min(s.end, b)
        if s.start == s.end:  # a <br>, an <img>: after the words before it, or first when none are
            before = text[max(a, s.start - 12):s.start].lstrip()
            found = _find(target, before, max(lo, start - len(before)), hi, after=True) if before else start
            where = found if found is not None else hi
            if found is None and s.start != b:
                moves += 1
            ranges[n] = (where, where)
        elif cs <= a and ce >= b:
            ranges[n] = (lo, hi) if parent is not None else (0, len(target))
        else:
            found = _find(target, text[cs:ce].strip(), start, hi)
            if found is not None:
                ranges[n] = (found, found + len(text[cs:ce].strip()))
            else:
                moves += 1
                rest = target[start:hi]
                begin = start + len(rest) - len(rest.lstrip())
                ranges[n] = (hi, hi) if s.fixed else (min(begin, hi), hi)
        cursor[parent] = ranges[n][1]
        stack.append(n)
        r0, r1 = ranges[n]
        if r0 == r1 or s.fixed:
            events.append((r0, 1, n, "fixed" if s.fixed else "empty", s, r1))
        else:
            events.append((r0, 2, n, "open", s, r1))
            events.append((r1, 0, -n, "close", s, r1))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events, moves


def _find(target: str, words: str, lo: int, hi: int, after: bool = False) -> int | None:
    if not words:
        return lo if not after else None
    at = target.find(words, lo, hi)
    if at < 0:
        return None
    return at + len(words) if after else at


def _pieces(target: str, events: list) -> list[Piece]:
    out: list[Piece] = []
    pos = 0
    for where, _, _, kind, span, end in events:
        if where < pos:  # inside a fixed span already written
            continue
        out.append(("text", target[pos:where]))
        if kind == "fixed":
            out.append(("fixed", span))
            pos = max(where, end)
            continue
        if kind == "empty":
            out += [("open", span), ("close", span)]
        else:
            out.append((kind, span))
        pos = where
    out.append(("text", target[pos:]))
    return out


def say_moved(doc, moved: int) -> None:
    """Spans that were moved are not lost, but said: logged, and kept on the document's warnings
    (the --json report shows them)."""
    if moved:
        note = (f"translated copy: {moved} inline tag(s) (links, emphasis, code) not found in the translation "
                "were moved to the boundary of their sentence")
        log.warning("%s: %s", doc.source_name, note)
        doc.warnings.append(note)
