"""Documents: reading files, decoding them, naming them, finding them by id.

A Document holds the exact decoded text of one file; segmentation (segment.py) cuts it into
Paragraphs and Segments that join back to that text byte for byte.

Encodings: UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised directly; anything
else goes to charset-normalizer (a well-kept, pure-Python detector, already pulled in by
`requests`) rather than a hand-written guess.
"""

from __future__ import annotations

import codecs
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import DocumentError, UnknownDocument

SUFFIXES = (".txt", ".md")
# Some seeds open with an inline marker such as " date 2024-06 " before the first sentence.
META_RE = re.compile(r"^(\s*date\s+(\d{4}(?:-\d{2}){0,2}))(\s+)")


@dataclass
class Document:
    id: str
    text: str
    path: Path | None = None
    encoding: str = "utf-8"
    meta: dict = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        return str(self.path) if self.path else "<stdin>"

    @property
    def title(self) -> str:
        body = self.text[len(self.meta.get("marker", "")):].lstrip()
        first = body.splitlines()[0].strip() if body else ""
        return first if len(first) <= 120 else first[:117].rstrip() + "..."


def parse_meta(text: str) -> dict:
    """The leading ` date YYYY-MM ` marker, if any: {'date': ..., 'marker': <exact text incl. space>}."""
    match = META_RE.match(text)
    if not match:
        return {}
    return {"date": match.group(2), "marker": match.group(0)}


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes -> (text, encoding name). Raises DocumentError for binary or undecodable data."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), enc
    try:
        text, enc = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, enc = _detect(data, name)
    if "\x00" in text:
        raise DocumentError(name, "contains NUL bytes; looks like a binary file, not text")
    return text, enc


def _detect(data: bytes, name: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or _looks_binary(data):
        raise DocumentError(name, "not a text file (no text encoding fits its bytes)")
    return str(best), best.encoding


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    return controls > len(sample) * 0.05


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read and decode one file. Raises DocumentError with a one-line reason."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except IsADirectoryError:
        raise DocumentError(str(path), "is a directory") from None
    except PermissionError:
        raise DocumentError(str(path), "permission denied (cannot read)") from None
    except OSError as err:
        raise DocumentError(str(path), f"cannot read ({err.strerror})") from None
    return make_document(data, str(path), doc_id or path.stem, path)


def read_stdin(doc_id: str = "stdin") -> Document:
    return make_document(sys.stdin.buffer.read(), "<stdin>", doc_id, None)


def make_document(data: bytes, name: str, doc_id: str, path: Path | None) -> Document:
    if not data:
        raise DocumentError(name, "empty file, nothing to translate")
    text, encoding = decode(data, name)
    if not text.strip():
        raise DocumentError(name, "contains only whitespace, nothing to translate")
    return Document(id=doc_id, text=text, path=path, encoding=encoding, meta=parse_meta(text))


def expand_inputs(inputs: Iterable[str], corpus: Path | None = None) -> Iterator[Path | str | DocumentError]:
    """Files as given, directories recursively (*.txt, *.md, sorted), '-' for stdin, and
    corpus ids or unique prefixes ('003') for names that are not paths.

    Problems are yielded as DocumentError values (not raised) so the other inputs go on.
    """
    for item in inputs:
        if item == "-":
            yield "-"
            continue
        path = Path(item)
        if corpus is not None and _looks_like_id(item) and not path.exists():
            try:
                yield resolve_id(item, corpus)
            except UnknownDocument as err:
                yield DocumentError(item, str(err))
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            if not found:
                yield DocumentError(item, "directory holds no .txt or .md documents")
            yield from found
        elif path.exists():
            yield path
        else:
            yield DocumentError(item, "no such file or directory")


def _looks_like_id(name: str) -> bool:
    return "/" not in name and "\\" not in name and Path(name).suffix.lower() not in SUFFIXES


def assign_ids(paths: list[Path | str]) -> dict[Path | str, str]:
    """Ids are file stems; same stems from different folders get the folder name added, so
    neither ids nor output files collide."""
    stems: dict[str, int] = {}
    for p in paths:
        stem = "stdin" if p == "-" else p.stem
        stems[stem] = stems.get(stem, 0) + 1
    ids, used = {}, set()
    for p in paths:
        stem = "stdin" if p == "-" else p.stem
        doc_id = stem if stems[stem] == 1 else f"{stem}@{p.parent.name or 'root'}"
        base, n = doc_id, 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        ids[p] = doc_id
    return ids


def load_documents(inputs: Iterable[str], corpus: Path | None = None) -> Iterator[Document | DocumentError]:
    """Read every input lazily, in order; unreadable ones come out as DocumentError values."""
    items = list(expand_inputs(inputs, corpus))
    ids = assign_ids([i for i in items if not isinstance(i, DocumentError)])
    for item in items:
        if isinstance(item, DocumentError):
            yield item
            continue
        try:
            yield read_stdin(ids[item]) if item == "-" else read_document(item, ids[item])
        except DocumentError as err:
            yield err


def corpus_files(corpus: Path) -> list[Path]:
    if not corpus.is_dir():
        raise UnknownDocument(f"corpus folder {corpus} does not exist (set --corpus DIR or TK_CORPUS)")
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())


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
