"""Documents: reading files, decoding them, naming them, finding them by id.

A Document holds the exact decoded text of one plain-text file, or the text a reader (readers/)
extracted, one block per paragraph; segmentation (segment.py) cuts it into Paragraphs and
Segments that join back to that text byte for byte. `decode` tries a BOM, UTF-16 without one,
UTF-8 (repaired where a few sequences are damaged, or mixed with windows-1252: MIXED_MIN,
`_repair`), then charset-normalizer with windows-1252 winning ties; whatever was assumed or
repaired is kept on the Document. The order and its reasons: docs/design.md#documents-and-encodings
"""

from __future__ import annotations

import codecs
import logging
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import DocumentError, UnknownDocument
from .incidents import internal

log = logging.getLogger("translate_kit")

# Some seeds open with an inline marker such as " date 2024-06 " before the first sentence.
META_RE = re.compile(r"^(\s*date\s+(\d{4}(?:-\d{2}){0,2}))(\s+)")
BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
LEGACY_WESTERN = "cp1252"
FIRST_LINE = re.compile(r"[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*")  # up to what str.splitlines() splits on
# C0 control characters other than tab, line feed, vertical tab, form feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
BINARY_SHARE = 0.05  # over 5% control characters (or U+FFFD) in the first 64 KB: not text
HEAD_CHARS = 65536
STREAM_BYTES = 8_000_000  # a file this large is decoded as it is read, never held whole
BLOCK_BYTES = 1 << 20  # how much of such a file is read (and decoded) at a time
SNIFF_BYTES = 4096  # what readers.choose() sees of a file to tell its format
DETECT_BYTES = 1 << 20  # how much of such a file an undecided encoding is detected from


@dataclass
class Document:
    id: str
    text: str
    path: Path | None = None
    encoding: str = "utf-8"
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what reading assumed or repaired, e.g. replaced bytes
    format: str = "txt"  # the reader that read it (readers/): txt, md, html, pdf, docx
    blocks: list | None = None  # extracted formats: one readers.Block per paragraph, with its kind
    native: object = None  # what the reader needs to write a translated copy (readers.Reader.rebuild)
    url: str | None = None  # where it was fetched from (tk translate https://...)

    @property
    def source_name(self) -> str:
        return display_name(self.path) if self.path else (self.url or "<stdin>")

    @property
    def head(self) -> str:
        """The beginning of the text (HEAD_CHARS): enough for the title, the date marker and language detection."""
        return self.text[:HEAD_CHARS]

    def pieces(self) -> Iterator[str]:
        """The text in pieces that join to it (one piece here; a StreamedDocument reads its file)."""
        yield self.text

    def kind_of(self, para: int) -> str:
        """Paragraph `para`'s kind: heading, paragraph, list item, quote, caption, table cell."""
        if self.blocks is not None and 0 <= para < len(self.blocks):
            return self.blocks[para].kind
        return "paragraph"

    @property
    def title(self) -> str:
        """The title the reader found, else the first heading, else the first line when it reads
        as a title (short, with letters), else the file name."""
        if self.meta.get("title"):
            return self.meta["title"]
        if self.blocks:
            first = next((b.text for b in self.blocks if b.kind == "heading"), self.blocks[0].text)
        else:
            head = self.head
            first = FIRST_LINE.match(head[len(self.meta.get("marker", "")):].lstrip()).group()
        return good_title(first) or self._fallback_title()

    def _fallback_title(self) -> str:
        return display_name(self.path.name) if self.path else self.id


class StreamedDocument(Document):
    """A file too large to hold in memory (STREAM_BYTES or more): decoded block by block as it is
    read, every time `pieces()` is iterated. `text` reads it whole, for callers that need that
    (tk summarize, tk ls); tk translate never does."""

    def __init__(self, id: str, path: Path, encoding: str, errors: str, head: str,
                 meta: dict, warnings: list[str]):
        self.id, self.path, self.encoding, self.meta, self.warnings = id, path, encoding, meta, warnings
        self._errors, self._head = errors, head
        self.file = path  # what is read; `path` names it (read_document's given_as)

    @property
    def text(self) -> str:
        return "".join(self.pieces())

    @property
    def head(self) -> str:
        return self._head

    def pieces(self) -> Iterator[str]:
        """Raises DocumentError when the file changed since it was checked (no longer decodes, or
        cannot be read any more): that document fails, the others go on."""
        try:
            for piece in decoded_blocks(file_blocks(self.file), self.encoding, self._errors):
                yield piece.replace("\x00", "")  # counted and said when the file was first read
        except UnicodeDecodeError as err:
            raise DocumentError(self.source_name, f"changed while it was being read (byte {err.start} of a block is no "
                                                  f"longer {self.encoding}); run again once it is written") from None
        except OSError as err:
            raise DocumentError(self.source_name, f"cannot be read any more ({err.strerror or err})") from None

    def __repr__(self) -> str:
        return f"StreamedDocument(id={self.id!r}, path={self.path!r}, encoding={self.encoding!r})"


TITLE_CHARS = 160
FIRST_SENTENCE = re.compile(r"^(.+?[.!?…])(?=\s+[«\"“‘'(]?[^\W\d_])")


def good_title(line: str) -> str | None:
    """`line` as a title: one line with letters of at most TITLE_CHARS characters, else its first
    sentence if that is short enough (a lead paragraph on one line); else None (a paragraph is no
    title, and a title is never cut mid-word)."""
    line = " ".join(line.split())
    if len(line) > TITLE_CHARS:
        first = FIRST_SENTENCE.match(line)
        line = first.group(1) if first and len(first.group(1)) <= TITLE_CHARS else ""
    if not line or not re.search(r"[^\W\d_]", line):
        return None
    return line


CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def display_name(path: Path | str) -> str:
    """The path as printable text on one line: a file name that is not valid UTF-8 (an old archive)
    gets U+FFFD where its bad bytes are, instead of failing when printed or written to JSON; one
    with a newline or another control character is quoted with it escaped ('a\\nb.txt'), so a
    message naming it stays one line."""
    text = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return repr(text) if CONTROL_CHARS.search(text) else text


def parse_meta(text: str) -> dict:
    """The leading ` date YYYY-MM ` marker, if any: {'date': ..., 'marker': <exact text incl. space>}."""
    match = META_RE.match(text)
    if not match:
        return {}
    return {"date": match.group(2), "marker": match.group(0)}


def decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Bytes -> (text, encoding, warnings). Raises DocumentError for binary or undecodable data."""
    encoding, errors, warnings = choose_encoding(lambda: iter([data]), data, len(data), name)
    text = data.decode(encoding, errors)
    _check_binary(text[:HEAD_CHARS], name, errors)
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "")
        warnings.append(f"{nuls} NUL byte(s) removed")
    return text, encoding, warnings


def _check_binary(sample: str, name: str, errors: str = "strict") -> None:
    """Too many control characters (or U+FFFD where bytes could not be decoded): not text. Bytes
    that REPAIR decoded are known, not counted."""
    controls = len(CONTROL.findall(sample))
    replaced = 0 if errors == REPAIR else sample.count("\ufffd")
    if controls + replaced > BINARY_SHARE * len(sample):
        if replaced > controls:
            raise DocumentError(name, f"not readable text ({replaced} byte sequence(s) that no text encoding explains)")
        raise DocumentError(name, "not a text file (binary data: too many control characters)")


SURROGATE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
MIXED_MIN = 8  # valid non-ASCII UTF-8 characters that make a file UTF-8 even when more bytes are not
REPAIR = "tk-repair"


def _repair(err: UnicodeDecodeError) -> tuple[str, int]:
    """Codec error handler for UTF-8 that is not quite UTF-8: an encoded surrogate pair (CESU-8) is
    decoded as the character it stands for (a lone surrogate as U+FFFD); any other invalid byte is
    read as windows-1252 (as Latin-1 where windows-1252 has no character), as when a UTF-8 file
    and a legacy Western one were pasted together."""
    data, start = err.object, err.start
    high = SURROGATE.match(data, start)
    if high:
        low = SURROGATE.match(data, high.end())
        code = _surrogate(high.group())
        if 0xD800 <= code < 0xDC00 and low and 0xDC00 <= _surrogate(low.group()) < 0xE000:
            pair = 0x10000 + ((code - 0xD800) << 10) + (_surrogate(low.group()) - 0xDC00)
            return chr(pair), low.end()
        return "\ufffd", high.end()
    byte = data[start:start + 1]
    try:
        return byte.decode(LEGACY_WESTERN), start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), start + 1


def _surrogate(three: bytes) -> int:
    return ((three[0] & 0x0F) << 12) | ((three[1] & 0x3F) << 6) | (three[2] & 0x3F)


def _lone_surrogates(data: bytes) -> bool:
    text = data.decode("utf-8", REPAIR)
    return "\ufffd" in text and "\ufffd".encode() not in data


codecs.register_error(REPAIR, _repair)

Blocks = Callable[[], Iterator[bytes]]  # the bytes of one input, from the start, each time it is called


def choose_encoding(blocks: Blocks, sample: bytes, size: int, name: str) -> tuple[str, str, list[str]]:
    """(encoding, errors, warnings) for the bytes `blocks()` gives (`size` of them, starting with
    `sample`), in the order the module docstring gives. Whole-input checks read the blocks again,
    so a file need not be in memory; the detector reads `sample` alone."""
    for bom, enc in BOMS:
        if sample.startswith(bom):
            return enc, "replace", []
    utf16 = _utf16_without_bom(sample, size)
    if utf16 and _decodes(blocks, utf16):
        return utf16, "strict", []
    if _decodes(blocks, "utf-8"):
        return "utf-8", "strict", []
    damaged, valid = _utf8_damage(blocks)
    surrogates = len(SURROGATE.findall(sample))
    if surrogates:  # CESU-8 / WTF-8: surrogates encoded as UTF-8 (Java, Windows file names)
        return "utf-8", REPAIR, [f"{surrogates} UTF-16 surrogate(s) encoded as UTF-8 (CESU-8) decoded"
                                 + (" (unpaired ones as U+FFFD)" if _lone_surrogates(sample) else "")]
    if valid > damaged:
        return "utf-8", "replace", [f"{damaged} invalid UTF-8 byte sequence(s) replaced with U+FFFD (\ufffd)"]
    if valid >= MIXED_MIN:  # valid UTF-8 and a legacy code page in one file (two files pasted together)
        return "utf-8", REPAIR, [f"mixed encodings: UTF-8, with {damaged} byte(s) that are not UTF-8 read as windows-1252"]
    encoding = _detect(sample, name)
    if size <= len(sample) or _decodes(blocks, encoding):
        return encoding, "strict", []
    # detected from the beginning alone, and the rest does not fit: the Western default, if it does
    if _decodes(blocks, LEGACY_WESTERN):
        return LEGACY_WESTERN, "strict", []
    return encoding, "replace", [f"bytes that are not {encoding} replaced with U+FFFD (\ufffd)"]


def decoded_blocks(blocks: Blocks, encoding: str, errors: str = "strict") -> Iterator[str]:
    """The text of `blocks()`, decoded incrementally (a character split between blocks is whole)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    for block in blocks():
        text = decoder.decode(block)
        if text:
            yield text
    text = decoder.decode(b"", final=True)
    if text:
        yield text


def file_blocks(path: Path) -> Blocks:
    def blocks() -> Iterator[bytes]:
        with path.open("rb") as fh:
            while block := fh.read(BLOCK_BYTES):
                yield block

    return blocks


def _decodes(blocks: Blocks, encoding: str) -> bool:
    try:
        for _ in decoded_blocks(blocks, encoding):
            pass
    except UnicodeDecodeError:
        return False
    return True


def _utf8_damage(blocks: Blocks) -> tuple[int, int]:
    """(invalid UTF-8 sequences, valid non-ASCII characters): UTF-8 with a few damaged sequences has
    more valid accented characters than damage; a legacy code page read as UTF-8 has none."""
    damaged = valid = 0
    for text in decoded_blocks(blocks, "utf-8", "replace"):
        replaced = text.count("\ufffd")
        damaged += replaced
        valid += len(text) - len(text.encode("ascii", "ignore")) - replaced
    for block in blocks():  # U+FFFD already in the file is no damage
        damaged -= block.count("\ufffd".encode())
    return damaged, valid


def _utf16_without_bom(data: bytes, size: int) -> str | None:
    """'utf-16-le' / 'utf-16-be' when every other byte is mostly NUL (Latin-script UTF-16), else None."""
    sample = data[:4096]
    if len(sample) < 4 or size % 2:
        return None
    even, odd = sample[0::2].count(0) / len(sample[0::2]), sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _single_high_bytes(data: bytes) -> bool:
    """Whether most non-ASCII bytes stand alone, as accented letters do in a single-byte Western
    code page; Cyrillic, Greek and the CJK double-byte encodings put them side by side."""
    runs = re.findall(rb"[\x80-\xff]+", data[:65536])
    alone = sum(1 for r in runs if len(r) == 1)
    return bool(runs) and alone >= 0.7 * sum(map(len, runs))


def _detect(data: bytes, name: str) -> str:
    """The encoding charset-normalizer finds for `data`, windows-1252 where it reads as well (_western)."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise DocumentError(name, "not a text file (no text encoding fits its bytes)")
    return LEGACY_WESTERN if _western(data, matches) else matches[0].encoding


def _western(data: bytes, matches: list) -> bool:
    """Whether the windows-1252 reading is as good as the detector's pick: among its equals, or
    (accented letters standing alone) reading about as cleanly by charset-normalizer's own
    mess measure. On short texts the detector otherwise picks cp1257 for French."""
    from charset_normalizer.md import mess_ratio

    try:
        text = data.decode(LEGACY_WESTERN)
    except UnicodeDecodeError:
        return False
    best = matches[0]
    tied = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.05]
    if any(LEGACY_WESTERN in m.could_be_from_charset for m in tied):
        return True
    return _single_high_bytes(data) and mess_ratio(text, 1.0) <= best.chaos + 0.1


def read_document(path: Path, doc_id: str | None = None, given_as: Path | None = None) -> Document:
    """Read one file with the reader its content and extension call for (readers.choose).
    Raises DocumentError with a one-line reason. `given_as`: the input as the user named it, when
    `path` is a copy of it (a sharded run's worker reads a copy of the driver's file): messages,
    ids and the document name it, as if it had been read where it is."""
    from . import readers

    shown = given_as or path
    name = display_name(shown)
    doc_id = doc_id or display_name(shown.stem)
    with reading(name):
        with path.open("rb") as fh:
            sniff = fh.read(SNIFF_BYTES)
        reader, warning = readers.choose(shown, sniff)
        if reader.name == "txt" and path.stat().st_size >= STREAM_BYTES and path.is_file():
            doc = _streamed_document(path, name, doc_id)
        else:
            doc = make_document(path if reader.name == "pdf" else path.read_bytes(), name, doc_id, path, reader)
    if warning:
        log.warning("%s: %s", name, warning)
        doc.warnings.insert(0, warning)
    doc.path = shown  # a StreamedDocument still reads `path` (its `file`)
    return doc


@contextmanager
def reading(name: str):
    """OSError reading the input `name` -> DocumentError, one line (that input fails, the others go on)."""
    try:
        yield
    except FileNotFoundError:
        raise DocumentError(name, "no such file") from None
    except IsADirectoryError:
        raise DocumentError(name, "is a directory") from None
    except PermissionError:
        raise DocumentError(name, "permission denied (cannot read)") from None
    except OSError as err:
        raise DocumentError(name, f"cannot read ({err.strerror or err})") from None


def input_bytes(path: Path) -> bytes:
    """A file's bytes, its read errors as read_document says them (a sharded run ships them to a worker)."""
    with reading(display_name(path)):
        return path.read_bytes()


def _streamed_document(path: Path, name: str, doc_id: str) -> StreamedDocument:
    """A large file, checked as `make_document` checks one in memory, in one reading pass that keeps
    only the beginning of the text (and which reading again during translation repeats)."""
    blocks = file_blocks(path)
    with path.open("rb") as fh:
        sample = fh.read(DETECT_BYTES)
    encoding, errors, warnings = choose_encoding(blocks, sample, path.stat().st_size, name)
    head, nuls, has_text = "", 0, False
    for piece in decoded_blocks(blocks, encoding, errors):
        if len(head) < HEAD_CHARS:
            head += piece[: HEAD_CHARS - len(head)]
            _check_binary(head, name, errors)
        nuls += piece.count("\x00")
        has_text = has_text or bool(piece.replace("\x00", "").strip())
    if not has_text:
        raise DocumentError(name, "contains only whitespace, nothing to translate")
    if nuls:
        warnings.append(f"{nuls} NUL byte(s) removed")
        head = head.replace("\x00", "")
    for warning in warnings:
        log.warning("%s: %s", name, warning)
    return StreamedDocument(doc_id, path, encoding, errors, head, parse_meta(head), warnings)


def read_stdin(doc_id: str = "stdin", data: bytes | None = None) -> Document:
    """Standard input (or `data`, what the driver of a sharded run read from it), read by what its
    content proves (HTML, PDF, ...), else as plain text."""
    from . import readers

    data = sys.stdin.buffer.read() if data is None else data
    reader, _ = readers.choose(None, data[:SNIFF_BYTES])
    return make_document(data, "<stdin>", doc_id, None, reader)


def make_document(data: bytes | Path, name: str, doc_id: str, path: Path | None, reader=None) -> Document:
    """Read and check one input with `reader` (plain text when None); what was assumed or
    repaired is logged and kept on the Document."""
    if reader is not None and reader.name != "txt":
        return _extracted_document(reader, data, name, doc_id, path)
    text, encoding, warnings = decode(data, name) if data else ("", "utf-8", [])
    if not text:
        raise DocumentError(name, "empty file, no text in it")
    if not text.strip():
        raise DocumentError(name, "contains only whitespace, nothing to translate")
    for warning in warnings:
        log.warning("%s: %s", name, warning)
    return Document(id=doc_id, text=text, path=path, encoding=encoding, meta=parse_meta(text), warnings=warnings)


def _extracted_document(reader, data: bytes | Path, name: str, doc_id: str, path: Path | None) -> Document:
    from .readers import clean_blocks, join_blocks

    if isinstance(data, bytes) and not data:
        raise DocumentError(name, "empty file, no text in it")
    found = reader.read(data, name)
    blocks = clean_blocks(found.blocks)
    if not blocks:
        raise DocumentError(name, f"no text found in this {reader.name.upper()} file, nothing to translate")
    meta = {k: v for k, v in found.meta.items() if v}
    encoding = meta.pop("encoding", "utf-8")
    for warning in found.warnings:
        log.warning("%s: %s", name, warning)
    return Document(id=doc_id, text=join_blocks(blocks), path=path, encoding=encoding, meta=meta,
                    warnings=list(found.warnings), format=reader.name, blocks=blocks, native=found.native)



def read_url(url: str, doc_id: str) -> Document:
    """A Document from a URL: fetched, then read by its content (a page without markers as HTML)."""
    from .readers._fetch import fetch  # urllib and threads: only when a URL is given

    data, final = fetch(url)
    return fetched_document(url, data, final, doc_id)


def fetched_document(url: str, data: bytes, final: str, doc_id: str) -> Document:
    """A Document from what `fetch(url)` gave (a sharded run fetches on the driver, reads on a worker)."""
    from . import readers

    reader, _ = readers.choose(Path(final.split("?")[0].split("#")[0]), data[:SNIFF_BYTES])
    if reader.name == "txt" and b"<" in data[:SNIFF_BYTES]:
        reader = readers.available()["html"]
    doc = make_document(data, url, doc_id, None, reader)
    doc.url = url
    doc.meta.setdefault("url", final)
    return doc

def known_suffixes() -> tuple[str, ...]:
    """Every extension a reader claims (.txt, .md, .html, .pdf, .docx, ...)."""
    from .readers import suffixes

    return suffixes()


def is_url(item: str) -> bool:
    return bool(re.match(r"https?://", item, re.IGNORECASE))


def expand_inputs(inputs: Iterable[str], corpus: Path | None = None,
                  exclude: Path | None = None, follow_links: bool = False) -> Iterator[Path | str | DocumentError]:
    """Files as given, directories recursively (every format a reader knows, sorted), URLs,
    '-' for stdin, and corpus ids or unique prefixes ('003') for names that are not paths. Files
    found in a folder under `exclude` (the output folder) are left out: earlier outputs are not
    new documents. In a folder, a symbolic link that leads outside it is skipped with a note
    unless `follow_links`; a path given explicitly is read as given.

    Problems are yielded as DocumentError values (not raised) so the other inputs go on.
    """
    for item in inputs:
        if item == "-" or is_url(item):
            yield item
            continue
        path, name = Path(item), display_name(item)
        if corpus is not None and _looks_like_id(item) and not path.exists():
            yield _corpus_entry(item, corpus)
        elif path.is_dir():
            found = [p for p in documents_in(path, follow_links) if not _inside(p, exclude)]
            if not found:
                kinds = ", ".join(known_suffixes())
                yield DocumentError(name, f"directory holds no documents ({kinds})")
            yield from found
        elif path.exists():
            yield path
        elif path.is_symlink():
            yield DocumentError(name, "broken symbolic link (its target does not exist)")
        else:
            yield DocumentError(name, "no such file or directory")


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and path.resolve().is_relative_to(folder.resolve())


def documents_in(folder: Path, follow_links: bool = False) -> list[Path]:
    """Documents under `folder` (any extension a reader claims), sorted; hidden files and folders
    (.git, temp files) left out. Links leading outside `folder` are followed only with
    `follow_links` (each skipped one is logged once)."""
    import os

    suffixes, root, found = known_suffixes(), folder.resolve(), []
    for top, dirs, files in os.walk(folder, followlinks=follow_links):
        base = Path(top)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and _allowed(base / d, root, follow_links))
        for f in files:
            p = base / f
            if f.startswith(".") or p.suffix.lower() not in suffixes or not p.is_file():
                continue
            if _allowed(p, root, follow_links):
                found.append(p)
    return sorted(found)


def _allowed(path: Path, root: Path, follow_links: bool) -> bool:
    if follow_links or not path.is_symlink() or path.resolve().is_relative_to(root):
        return True
    log.warning("%s: symbolic link to %s, outside the folder: skipped (--follow-links reads it)",
                display_name(path), display_name(path.resolve()))
    return False


def _corpus_entry(item: str, corpus: Path) -> Path | DocumentError:
    if not corpus.is_dir():  # most likely a mistyped file name, not a document id
        return DocumentError(display_name(item), f"no such file (nor a document id: no corpus folder {corpus}/; see --corpus)")
    try:
        return resolve_id(item, corpus)
    except UnknownDocument as err:
        return DocumentError(display_name(item), str(err))


def _looks_like_id(name: str) -> bool:
    return "/" not in name and "\\" not in name and Path(name).suffix.lower() not in known_suffixes()


def url_id(url: str) -> str:
    """An id for a URL: its last path component (without extension), else its host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    last = Path(parts.path.rstrip("/")).stem if parts.path.strip("/") else ""
    return re.sub(r"[^\w.-]+", "-", last or parts.hostname or "page").strip("-") or "page"


def assign_ids(paths: list[Path | str]) -> dict[Path | str, str]:
    """Ids are file stems; same stems from different folders get the folder name added, so
    neither ids nor output files collide."""
    def stem(p: Path | str) -> str:
        if isinstance(p, str):
            return "stdin" if p == "-" else url_id(p)
        return display_name(p.stem)

    def folder(p: Path | str) -> str:
        if isinstance(p, str):
            return "stdin" if p == "-" else "url"
        return display_name(p.absolute().parent.name or "root")

    stems: dict[str, int] = {}
    for p in paths:
        stems[stem(p)] = stems.get(stem(p), 0) + 1
    ids, used = {}, set()
    for p in paths:
        doc_id = stem(p) if stems[stem(p)] == 1 else f"{stem(p)}@{folder(p)}"
        base, n = doc_id, 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        ids[p] = doc_id
    return ids


def load_documents(inputs: Iterable[str], corpus: Path | None = None,
                   exclude: Path | None = None, follow_links: bool = False) -> Iterator[Document | DocumentError]:
    """Read every input lazily, in order; unreadable ones come out as DocumentError values."""
    items = list(expand_inputs(inputs, corpus, exclude, follow_links))
    ids = assign_ids([i for i in items if not isinstance(i, DocumentError)])
    for item in items:
        if isinstance(item, DocumentError):
            yield item
            continue
        try:
            if item == "-":
                yield read_stdin(ids[item])
            elif isinstance(item, str):
                yield read_url(item, ids[item])
            else:
                yield read_document(item, ids[item])
        except DocumentError as err:
            yield err
        except Exception as err:  # unforeseen (a reader's library that failed to import, a bug): this input alone
            yield internal(err, "reading", "<stdin>" if item == "-" else item if isinstance(item, str) else display_name(item))


def corpus_files(corpus: Path) -> list[Path]:
    if not corpus.is_dir():
        raise UnknownDocument(f"corpus folder {corpus} does not exist (set --corpus DIR or TK_CORPUS)")
    return documents_in(corpus)


def resolve_id(name: str, corpus: Path) -> Path:
    """A document id, or a unique prefix of one, inside the corpus folder -> its path."""
    files = corpus_files(corpus)
    exact = [p for p in files if p.stem == name]
    matches = exact or [p for p in files if p.stem.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(p.stem for p in files[:20]) or "none"
        raise UnknownDocument(f"no document '{name}' in {corpus}; known: {known}")
    raise UnknownDocument(f"'{name}' is ambiguous in {corpus}; candidates: " + ", ".join(p.stem for p in matches))
