"""`jsonl`: one object per segment, in document order; source + space_after rebuilds the text."""

import json

from . import Writer, metadata_record, record


def _lines(result, segments) -> str:
    return "".join(json.dumps(record(result, s), ensure_ascii=False) + "\n" for s in segments)


class JsonlWriter(Writer):
    name = "jsonl"
    ext = "jsonl"

    def head(self, result) -> str:
        """The meta records (the document's metadata, the ` date ` marker), which open the document."""
        meta = metadata_record(result)
        first = json.dumps(meta, ensure_ascii=False) + "\n" if meta else ""
        return first + _lines(result, [s for s in result.segments if s.kind == "meta"])

    def paragraph(self, result, segments, continued) -> str:
        return _lines(result, segments)
