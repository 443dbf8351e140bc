"""`srt`: SubRip subtitles. Each cue's text is one block (kind caption, its lines joined: a cue's
line breaks are layout, not sentence ends); numbers and timings never reach the model and come
back unchanged in the translated copy, the text wrapped again at about 42 characters a line."""

from __future__ import annotations

import re
import textwrap

from . import Block, Extracted, Reader

TIMING = re.compile(r"^\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}.*$")
LINE_CHARS = 42


class SubtitleReader(Reader):
    name = "srt"
    suffixes = (".srt",)
    native_ext = "srt"

    def read(self, data: bytes, name: str) -> Extracted:
        from ..documents import decode

        text, encoding, warnings = decode(data, name)
        cues = parse(text)
        blocks = [Block("caption", " ".join(lines), [], i) for i, (_, _, lines) in enumerate(cues) if lines]
        return Extracted(blocks, {"encoding": encoding}, warnings, native={"cues": cues})

    def rebuild(self, doc, translations, lang: str = "") -> str:
        texts = {b.anchor: " ".join(t.strip() for _, _, t in translations.get(p, [])) for p, b in enumerate(doc.blocks)}
        out = []
        for i, (number, timing, lines) in enumerate(doc.native["cues"]):
            body = textwrap.wrap(texts[i], LINE_CHARS) if i in texts else lines
            out.append("\n".join([number, timing, *body]) + "\n")
        return "\n".join(out)


def parse(text: str) -> list[tuple[str, str, list[str]]]:
    """(number, timing line, text lines) per cue."""
    cues = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.lstrip("\ufeff").strip()):
        lines = [l.rstrip() for l in chunk.splitlines()]
        at = next((i for i, l in enumerate(lines) if TIMING.match(l)), None)
        if at is None:
            continue
        number = lines[at - 1].strip() if at else str(len(cues) + 1)
        cues.append((number, lines[at].strip(), [l.strip() for l in lines[at + 1:] if l.strip()]))
    return cues
