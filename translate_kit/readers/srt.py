"""`srt`: SubRip subtitles. Each cue's text is one block (kind caption, its lines joined: a cue's
line breaks are layout, not sentence ends); numbers and timings never reach the model and come
back unchanged in the translated copy, the text wrapped again at about 42 characters a line.

Timing lines are read as tolerantly as players read them (VLC, mpv, ffmpeg): hours of any number
of digits, milliseconds optional (or after `.` or `:`), `-->` or `->`. The `srt` package was
weighed and not taken: it refuses `->`, and the copy must keep each timing line byte for byte,
which re-composing cues from parsed times would not. A block with text but no timing line that
even these rules read is a warning naming its cue number, never a silent drop; it is kept as it
was in the translated copy.
"""

from __future__ import annotations

import re
import textwrap

from . import Block, Extracted, Reader

STAMP = r"\d+\s*:\s*\d{1,2}\s*:\s*\d{1,2}(?:\s*[,.:]\s*\d{1,3})?"
TIMING = re.compile(rf"^\s*{STAMP}\s*-{{1,2}}\s*>\s*{STAMP}(?:\s.*)?$")
LINE_CHARS = 42


class SubtitleReader(Reader):
    name = "srt"
    suffixes = (".srt",)
    native_ext = "srt"

    def read(self, data: bytes, name: str) -> Extracted:
        from ..documents import decode

        text, encoding, warnings = decode(data, name)
        cues, unread = parse(text)
        if unread:
            warnings.append(f"{len(unread)} cue(s) without a timing line players read, left untranslated: "
                            + ", ".join(unread[:10]) + (" ..." if len(unread) > 10 else ""))
        blocks = [Block("caption", " ".join(lines), [], i) for i, (_, timing, lines) in enumerate(cues)
                  if lines and timing is not None]
        return Extracted(blocks, {"encoding": encoding}, warnings, native={"cues": cues})

    def rebuild(self, doc, translations, lang: str = "") -> str:
        texts = {b.anchor: " ".join(t.strip() for _, _, t in translations.get(p, [])) for p, b in enumerate(doc.blocks)}
        out = []
        for i, (number, timing, lines) in enumerate(doc.native["cues"]):
            if timing is None:  # an unreadable cue: back as it was
                out.append("\n".join(lines) + "\n")
                continue
            body = textwrap.wrap(texts[i], LINE_CHARS) if i in texts else lines
            out.append("\n".join([number, timing, *body]) + "\n")
        return "\n".join(out)


def parse(text: str) -> tuple[list[tuple[str, str | None, list[str]]], list[str]]:
    """(number, timing line, text lines) per cue, and the numbers of the cues whose timing line
    could not be read (those come as (number, None, the block's raw lines))."""
    cues, unread = [], []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.lstrip("\ufeff").strip()):
        lines = [l.rstrip() for l in chunk.splitlines()]
        if not any(l.strip() for l in lines):
            continue
        at = next((i for i, l in enumerate(lines) if TIMING.match(l)), None)
        if at is None:
            number = lines[0].strip() if lines[0].strip().isdigit() else f"after {cues[-1][0] if cues else 'the start'}"
            unread.append(number)
            cues.append((number, None, lines))
            continue
        number = lines[at - 1].strip() if at else str(len(cues) + 1)
        cues.append((number, lines[at].strip(), [l.strip() for l in lines[at + 1:] if l.strip()]))
    return cues, unread
