"""`jsonl`: one object per segment, in document order; source + space_after rebuilds the text."""

import json

from . import Writer, record


def _lines(result, segments) -> str:
    return "".join(json.dumps(record(result, s), ensure_ascii=False) + "\n" for s in segments)


class JsonlWriter(Writer):
    name = "jsonl"
    ext = "jsonl"

    def head(self, result) -> str:
        """The meta records (the ` date ` marker), which open the document."""
        return _lines(result, [s for s in result.segments if s.kind == "meta"])

    def paragraph(self, result, segments, continued) -> str:
        return _lines(result, segments)
