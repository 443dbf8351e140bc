"""Output writers, one small module per format, picked by name.

Every writer renders the same aligned segments; a writer is the only place that knows its format.
Adding a format is one new module in this package defining a `Writer` subclass with `name`, `ext`
and `paragraph()` (plus `head()` and `tail()` when the format has them): it is found by name
automatically.

Writers work paragraph by paragraph, so a huge document never has to be in memory whole: the
translation comes in parts (translate.translate_parts), and `DocumentOutputs` writes each part to
temporary files as it arrives and renames them into place when the document is complete. A
paragraph longer than a part arrives in pieces: the second and later pieces come with
`continued=True` (md continues its table; html and xliff start a new row or unit).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from ..errors import UsageError


class Writer:
    """One output format. An instance writes one document at a time: `head()` starts it and may
    reset whatever the writer remembers between paragraphs."""

    name = ""
    ext = ""
    binary = False  # writes bytes (a DOCX copy), not text

    def applies(self, result) -> bool:
        """Whether this format has an output for this document (`native` has none for txt or PDF)."""
        return True

    def head(self, result) -> str:
        """Everything before the first paragraph (`result` is the document's first part)."""
        return ""

    def paragraph(self, result, segments: list, continued: bool) -> str:
        """One paragraph's segments (meta records left out), or a later piece of one when `continued`."""
        raise NotImplementedError

    def tail(self, result) -> str:
        """Everything after the last paragraph."""
        return ""

    def render(self, result) -> str:
        """The whole document of a complete result (head first: it resets the writer's state)."""
        out = [self.head(result)]
        out += [self.paragraph(result, segments, continued) for segments, continued in paragraph_pieces(result.segments)]
        return "".join(out + [self.tail(result)])

    def path_for(self, result, out_dir: Path) -> Path:
        return out_dir / f"{result.doc_id}.{result.src_lang}-{result.tgt_lang}.{self.ext}"


def paragraph_pieces(segments: Iterable, last_para: int | None = None) -> Iterator[tuple[list, bool]]:
    """Consecutive segments of one paragraph, meta records left out, with whether the piece continues
    paragraph `last_para` (the last one written before these segments)."""
    piece: list = []
    for s in segments:
        if s.kind == "meta":
            continue
        if piece and s.para != piece[0].para:
            yield piece, piece[0].para == last_para
            last_para, piece = piece[0].para, []
        piece.append(s)
    if piece:
        yield piece, piece[0].para == last_para


class DocumentOutputs:
    """One document's output files, written part by part.

    Each file is written under a temporary `.NAME.*.part` name in the output folder and renamed over
    the real name by `finish()`, so an interrupted run never leaves a file that looks complete;
    `abort()` (or leaving the `with` block through an exception) removes the temporary files.
    Every part's segments are written as the part arrives and can then be dropped: memory follows
    the part, not the document.
    """

    def __init__(self, writers: list[Writer], first_part, out_dir: Path):
        self.writers = [type(w)() for w in writers if w.applies(first_part)]  # fresh: writers keep per-document state
        self.paths = [w.path_for(first_part, out_dir) for w in self.writers]
        self.temps: list[Path] = []
        self.files = []
        self.last_para: int | None = None
        try:
            for writer, path in zip(self.writers, self.paths):
                tmp, fh = _temporary(path, binary=writer.binary)
                self.temps.append(tmp)
                self.files.append(fh)
            self._write("head", first_part)
        except BaseException:
            self.abort()
            raise

    def add(self, part) -> None:
        """Write one part's segments (parts come in document order)."""
        for segments, continued in paragraph_pieces(part.segments, self.last_para):
            self._write("paragraph", part, segments, continued)
            self.last_para = segments[0].para

    def finish(self, last_part) -> list[Path]:
        """Write the tails, then rename every file into place; returns the paths."""
        self._write("tail", last_part)
        for fh in self.files:
            fh.close()
        for tmp, path in zip(self.temps, self.paths):
            _publish(tmp, path)
        self.temps = []
        return self.paths

    def abort(self) -> None:
        for fh in self.files:
            fh.close()
        for tmp in self.temps:
            tmp.unlink(missing_ok=True)
        self.temps = []

    def _write(self, method: str, *args) -> None:
        for writer, fh in zip(self.writers, self.files):
            text = getattr(writer, method)(*args)
            if text:
                fh.write(text)

    def __enter__(self) -> DocumentOutputs:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()


def atomic_write(path: Path, text: str) -> None:
    """`text` into `path` through a temporary `.NAME.*.part` file renamed into place."""
    tmp, fh = _temporary(path)
    try:
        with fh:
            fh.write(text)
        _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _temporary(path: Path, binary: bool = False) -> tuple[Path, TextIO]:
    """A new `.NAME.*.part` file beside `path`, open for writing text (or bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    if binary:
        return Path(tmp), os.fdopen(fd, "wb")
    return Path(tmp), os.fdopen(fd, "w", encoding="utf-8", newline="")


def _publish(tmp: Path, path: Path) -> None:
    """Rename a finished temporary file over `path`, with the usual permissions (mkstemp makes 0600)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def available() -> dict[str, Writer]:
    """Every Writer subclass in this package's modules, by name."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    found: dict[str, Writer] = {}
    stack = list(Writer.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.name:
            found[cls.name] = cls()
    return dict(sorted(found.items()))


def get_writers(spec: str) -> list[Writer]:
    """'md,jsonl' -> writers; 'all' -> every format. Unknown names list the choices."""
    known = available()
    names = list(known) if spec.strip() == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UsageError(f"unknown format '{','.join(unknown) or spec}'; known: {', '.join(known)}, all")
    return [known[n] for n in dict.fromkeys(names)]


def record(result, s) -> dict:
    """One aligned segment as a record (what `jsonl` writes, one per line)."""
    row = {
        "doc": result.doc_id,
        "para": s.para,
        "seg": s.seg,
        "kind": s.kind,
        "src_lang": result.src_lang,
        "tgt_lang": result.tgt_lang,
        "source": s.source,
        "target": "" if s.kind == "meta" else s.target,
        "space_after": s.space_after,
        "origin": s.origin,
    }
    if s.flag:
        row["flag"] = s.flag
    doc = result.document
    if doc is not None and doc.blocks is not None and s.kind != "meta":
        row["block"] = doc.kind_of(s.para)  # heading, paragraph, list item, quote, caption, table cell
    return row


METADATA_FIELDS = (("title", "Title"), ("author", "Author"), ("date", "Date"), ("site", "Site"), ("url", "URL"),
                   ("pages", "Pages"), ("page header", "Page header"), ("page footer", "Page footer"))


def document_metadata(result) -> list[tuple[str, str]]:
    """A read document's format and metadata as (key, value) pairs, for the XML formats' headers
    (nothing for plain text, whose header is as it was)."""
    doc = result.document
    if doc is None or doc.blocks is None:
        return []
    return [("format", doc.format)] + [(key.replace(" ", "-"), doc.meta[key]) for key, _ in METADATA_FIELDS if doc.meta.get(key)]


def metadata_record(result) -> dict | None:
    """A read document's format and metadata (title, author, date, site, url, ...) as one jsonl
    record of kind "metadata", with empty source and space_after (the text still joins back)."""
    doc = result.document
    if doc is None or doc.blocks is None:
        return None
    row = {"doc": result.doc_id, "para": -1, "seg": -1, "kind": "metadata", "src_lang": result.src_lang,
           "tgt_lang": result.tgt_lang, "source": "", "target": "", "space_after": "", "origin": "meta",
           "format": doc.format}
    row.update({key: doc.meta[key] for key, _ in METADATA_FIELDS if doc.meta.get(key)})
    return row


def title_of(result) -> str:
    """The document's title (its first line), or its id when there is no document."""
    return result.document.title if result.document is not None else result.doc_id


def header_fields(result) -> list[tuple[str, str]]:
    """Title, source, languages, model, date, encoding: shown at the top of human-readable formats."""
    doc = result.document
    fields = [("Source", result.source_name), ("Languages", f"{result.src_lang} → {result.tgt_lang}")]
    if result.model:
        fields.append(("Model", f"{result.model} (revision {result.revision})"))
    if doc is not None and doc.blocks is not None:  # a read format: what the reader found about it
        fields.append(("Format", doc.format))
        fields += [(label, doc.meta[key]) for key, label in METADATA_FIELDS
                   if key not in ("title", "pages") and doc.meta.get(key)]
    elif doc is not None and doc.meta.get("date"):
        fields.append(("Date", doc.meta["date"]))
    if doc is not None and doc.encoding not in ("utf-8", "ascii"):
        fields.append(("Encoding", doc.encoding))
    if doc is not None:
        fields += [("Warning", warning) for warning in getattr(doc, "warnings", [])]  # e.g. damaged bytes replaced
    if result.note:
        fields.append(("Note", result.note))
    return fields
