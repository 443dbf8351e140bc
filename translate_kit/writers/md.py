"""`md`: a header, then each paragraph as a two-column table, one row per aligned segment."""

from . import Writer, header_fields, paragraphs


def cell(text: str) -> str:
    """Table-cell safe: pipes escaped, line breaks as <br>."""
    return text.strip().replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


class MarkdownWriter(Writer):
    name = "md"
    ext = "md"

    def render(self, result) -> str:
        doc = result.document
        title = doc.title if doc is not None else result.doc_id
        lines = [f"# {cell(title)}", ""]
        lines += [f"- **{key}:** {cell(value)}" for key, value in header_fields(result)]
        lines.append("")
        for para in paragraphs(result):
            lines += [f"| {result.src_lang} | {result.tgt_lang} |", "| --- | --- |"]
            lines += [f"| {cell(s.source)} | {cell(s.target)}{' ⚠️ ' + s.flag if s.flag else ''} |" for s in para]
            lines.append("")
        return "\n".join(lines)
