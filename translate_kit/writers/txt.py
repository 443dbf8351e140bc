"""`txt`: the translated document alone, with the source's paragraph and line breaks."""

from . import Writer


class TextWriter(Writer):
    name = "txt"
    ext = "txt"

    def render(self, result) -> str:
        parts = [s.target + s.space_after for s in result.segments if s.kind != "meta"]
        text = "".join(parts)
        return text if text.endswith("\n") else text + "\n"
