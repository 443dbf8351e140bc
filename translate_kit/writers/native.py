"""`native`: a translated copy in the input's own format: HTML -> HTML, DOCX -> DOCX, Markdown ->
Markdown, named `<id>.<target language>.<ext>`.

The copy is rebuilt by the input's reader (readers.Reader.rebuild), which knows where each
paragraph came from: the page's markup, the document's styles, the Markdown structure all stay,
and only the words are replaced. Plain text has its translation in `txt` already, and a PDF has
no translated copy (its text layer cannot be written back in place): for those this format
writes nothing.
"""

from __future__ import annotations

from . import Writer


def _reader(result):
    from ..readers import available

    doc = result.document
    reader = available().get(doc.format) if doc is not None and doc.blocks is not None else None
    return reader if reader is not None and reader.native_ext else None


class NativeWriter(Writer):
    name = "native"

    def applies(self, result) -> bool:
        return _reader(result) is not None

    @property
    def binary(self) -> bool:
        return getattr(self, "_binary", False)

    def path_for(self, result, out_dir):
        reader = _reader(result)
        self._binary = reader.native_ext == "docx"
        return out_dir / f"{result.doc_id}.{result.tgt_lang}.{reader.native_ext}"

    def head(self, result) -> str:
        self.translations: dict[int, list[tuple[str, str, str]]] = {}
        return ""

    def paragraph(self, result, segments, continued) -> str:
        row = self.translations.setdefault(segments[0].para, [])
        row += [(s.source, s.space_after, s.target) for s in segments]
        return ""

    def tail(self, result):
        reader = _reader(result)
        return reader.rebuild(result.document, self.translations, result.tgt_lang) if reader else ""
