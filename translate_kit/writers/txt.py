"""`txt`: the translated document alone, with the source's paragraph and line breaks."""

from . import Writer


class TextWriter(Writer):
    name = "txt"
    ext = "txt"

    def render(self, result) -> str:
        return "".join(self.chunks(result))

    def chunks(self, result):
        last = ""
        for s in result.segments:
            lead = s.source[: len(s.source) - len(s.source.lstrip())]  # blank lines opening the document
            if s.kind != "meta" and lead + s.target + s.space_after:
                last = lead + s.target + s.space_after
                yield last
        if not last.endswith("\n"):
            yield "\n"
