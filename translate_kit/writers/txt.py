"""`txt`: the translated document alone, with the source's paragraph and line breaks."""

from . import Writer


class TextWriter(Writer):
    name = "txt"
    ext = "txt"

    def head(self, result) -> str:
        self.last = ""  # the last text written: the file ends with a line break, added if it is missing
        return ""

    def paragraph(self, result, segments, continued) -> str:
        out = []
        for s in segments:
            lead = s.source[: len(s.source) - len(s.source.lstrip())]  # blank lines opening the document
            if lead + s.target + s.space_after:
                out.append(lead + s.target + s.space_after)
        if out:
            self.last = out[-1]
        return "".join(out)

    def tail(self, result) -> str:
        return "" if self.last.endswith("\n") else "\n"
