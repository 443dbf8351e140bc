"""`doc`: a legacy Word file (OLE compound document), recognised only to say what to do with it."""

from __future__ import annotations

from ..errors import DocumentError
from . import Reader

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class LegacyWordReader(Reader):
    name = "doc"
    suffixes = (".doc",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(OLE_MAGIC)

    def read(self, data: bytes, name: str):
        raise DocumentError(name, "a legacy Word .doc (or other OLE) file, not DOCX: save it as .docx "
                                  "(or `libreoffice --headless --convert-to docx`) and try again")
