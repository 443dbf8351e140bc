"""`jsonl`: one object per segment, in document order; source + space_after rebuilds the text."""

import json

from . import Writer, iter_records


class JsonlWriter(Writer):
    name = "jsonl"
    ext = "jsonl"

    def render(self, result) -> str:
        return "".join(self.chunks(result))

    def chunks(self, result):
        return (json.dumps(r, ensure_ascii=False) + "\n" for r in iter_records(result))
