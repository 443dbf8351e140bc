"""`md`: a header, then each paragraph as a two-column table, one row per aligned segment."""

from . import Writer, header_fields, title_of


def cell(text: str) -> str:
    """Table-cell safe: pipes escaped, line breaks as <br>."""
    return text.strip().replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


class MarkdownWriter(Writer):
    name = "md"
    ext = "md"

    def head(self, result) -> str:
        title = title_of(result)
        return f"# {cell(title)}\n\n" + "".join(f"- **{key}:** {cell(value)}\n" for key, value in header_fields(result))

    def paragraph(self, result, segments, continued) -> str:
        """A blank line and a table; a continued paragraph only adds rows to the table before."""
        rows = "".join(f"| {cell(s.source)} | {cell(s.target)}{' ⚠️ ' + s.flag if s.flag else ''} |\n" for s in segments)
        return rows if continued else f"\n| {result.src_lang} | {result.tgt_lang} |\n| --- | --- |\n" + rows
