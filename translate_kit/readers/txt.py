"""`txt`: plain text, decoded exactly as it always was (documents.decode); the text is the file's."""

from __future__ import annotations

from . import Reader


class TextReader(Reader):
    name = "txt"
    suffixes = (".txt", ".text")

    def read(self, data: bytes, name: str):
        from ..documents import decode

        return decode(data, name)  # (text, encoding, warnings): not extracted, kept byte for byte
