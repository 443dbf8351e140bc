"""`md`: a header, then each paragraph as a two-column table, one row per aligned segment."""

from . import Writer, header_fields, paragraphs


def cell(text: str) -> str:
    """Table-cell safe: pipes escaped, line breaks as <br>."""
    return text.strip().replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


class MarkdownWriter(Writer):
    name = "md"
    ext = "md"

    def render(self, result) -> str:
        return "".join(self.chunks(result))

    def chunks(self, result):
        """Lines joined by line breaks, one at a time (a huge document is never one string)."""
        lines = iter(self.lines(result))
        previous = next(lines)
        for line in lines:
            yield previous + "\n"
            previous = line
        yield previous

    def lines(self, result):
        doc = result.document
        title = doc.title if doc is not None else result.doc_id
        yield from [f"# {cell(title)}", ""]
        yield from [f"- **{key}:** {cell(value)}" for key, value in header_fields(result)]
        yield ""
        for para in paragraphs(result):
            yield from [f"| {result.src_lang} | {result.tgt_lang} |", "| --- | --- |"]
            yield from (f"| {cell(s.source)} | {cell(s.target)}{' ⚠️ ' + s.flag if s.flag else ''} |" for s in para)
            yield ""
