"""`md`: a header, then each paragraph as a two-column table, one row per aligned segment.

Everything from the document or the run is text, never markup: `text()` escapes what Markdown or
an HTML-allowing renderer would interpret, and a line break inside a sentence becomes `<br>`. A
paragraph with a flagged sentence or one to check gets a third column, `flag`.
docs/design.md#writers
"""

import re

from . import FlagLegend, Tally, Writer, flag_legend, header_fields, reasons, title_of, to_check

# Backslash-escaped: CommonMark/GFM inline syntax, table pipes, math. An `_` between two letters or
# digits (003_otan.txt) cannot start or end emphasis in CommonMark, so it stays as it is.
INLINE = re.compile(r"[\\`*\[\]~$|#]|(?<![^\W_])_|_(?![^\W_])")
ENTITY = re.compile(r"&(?=#?\w+;)")  # only an & that would start a character reference
LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def text(value: str) -> str:
    """`value` as literal text on one Markdown line (line breaks as <br>)."""
    value = ENTITY.sub("&amp;", value).replace("<", "&lt;").replace(">", "&gt;")
    return LINE_BREAK.sub("<br>", INLINE.sub(r"\\\g<0>", value))


def cell(value: str) -> str:
    """Table-cell safe text (surrounding whitespace dropped)."""
    return text(value.strip())


class MarkdownWriter(Writer):
    name = "md"
    ext = "md"

    def head(self, result) -> str:
        """Nothing yet: the header counts the whole document, so it is the prologue, written once
        every part is (the same file whether the document came in one part or many)."""
        self.first, self.legend, self.tally = result, FlagLegend(result), Tally(result)
        self.flag_column = False  # the table being written has the flag column
        return ""

    def prologue(self, result) -> str:
        legend, tally = flag_legend(self.legend.seen), self.tally.whole
        fields = header_fields(self.first) + ([("Flags", legend)] if legend else [])
        fields += [("To check", tally)] if tally else []
        return f"# {text(title_of(self.first))}\n\n" + "".join(f"- **{key}:** {text(value)}\n" for key, value in fields)

    def paragraph(self, result, segments, continued) -> str:
        """A blank line and a table; a continued paragraph only adds rows to the table before
        (unless it brings the first flag of the paragraph: then it starts a table with the column)."""
        self.legend.note(segments)
        self.tally.note(segments)
        flagged = any(s.flag or to_check(s) for s in segments)
        if continued and (self.flag_column or not flagged):
            return self._rows(segments)
        self.flag_column = flagged
        extra = (" flag |", " --- |") if flagged else ("", "")
        return f"\n| {text(result.src_lang)} | {text(result.tgt_lang)} |{extra[0]}\n| --- | --- |{extra[1]}\n" + self._rows(segments)

    def _rows(self, segments) -> str:
        if not self.flag_column:
            return "".join(f"| {cell(s.source)} | {cell(s.target)} |\n" for s in segments)
        return "".join(f"| {cell(s.source)} | {cell(s.target)} | {_flag(s)} |\n" for s in segments)



def _flag(s) -> str:
    """The flag cell: the verdict and its reasons for a sentence to check, else the flag, if any."""
    if to_check(s):
        return cell(f"⚠ {s.verdict}: {reasons(s)}")
    return "⚠ " + cell(s.flag) if s.flag else ""
