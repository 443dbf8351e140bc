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

import errno
import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from ..errors import DocumentError, OutputError, TkError, UsageError
from ..incidents import internal


class Writer:
    """One output format. An instance writes one document at a time: `head()` starts it and may
    reset whatever the writer remembers between paragraphs."""

    name = ""
    ext = ""
    binary = False  # writes bytes (a DOCX copy), not text
    libraries: dict[str, str] = {}  # module -> pip distribution, as readers.Reader.libraries (all stdlib today)

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

    def prologue(self, result) -> str:
        """What goes before `head()`'s text once the whole document is written: a header that
        counts the whole document (md: how many sentences to check), whether it came in one part
        or many. DocumentOutputs prepends it when the file is finished."""
        return ""

    def render(self, result) -> str:
        """The whole document of a complete result (head first: it resets the writer's state)."""
        out = [self.head(result)]
        out += [self.paragraph(result, segments, continued) for segments, continued in paragraph_pieces(result.segments)]
        body = "".join(out + [self.tail(result)])
        return self.prologue(result) + body

    def path_for(self, result, out_dir: Path) -> Path:
        return output_path(out_dir, f"{result.doc_id}.{result.src_lang}-{result.tgt_lang}.{self.ext}")


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
        for fh, path in zip(self.files, self.paths):
            with _writing(path):
                fh.close()  # the last buffered text is written here: the disk may be full now
        for i, writer in enumerate(self.writers):
            if text := writer.prologue(last_part):
                self.temps[i] = _prepended(self.temps[i], self.paths[i], text)
        for tmp, path in zip(self.temps, self.paths):
            _publish(tmp, path)
        self.temps = []
        return self.paths

    def abort(self) -> None:
        for fh in self.files:
            try:
                fh.close()
            except OSError:
                pass  # a full disk cannot take the rest: the file goes anyway
        for tmp in self.temps:
            tmp.unlink(missing_ok=True)
        self.temps = []

    def _write(self, method: str, *args) -> None:
        for writer, fh, path in zip(self.writers, self.files, self.paths):
            text = getattr(writer, method)(*args)
            if text:
                with _writing(path):
                    fh.write(text)

    def __enter__(self) -> DocumentOutputs:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()


def write_documents(parts: Iterable, writers: list[Writer], out_dir: Path) -> Iterator:
    """`tk translate`'s writing: each document's parts (translate.translate_parts, in order) written
    as they come (DocumentOutputs); yields each document's last part once the document is done,
    with `outputs` (the files written) and `error`: its own, or a DocumentError about its outputs
    (a name the file system refuses), after which nothing of it is left written and the other
    documents go on. An OutputError (the disk is full, the folder unwritable) ends the iteration;
    files of an unfinished document never look complete."""
    outputs: DocumentOutputs | None = None  # the document being written, part by part
    write_error: DocumentError | None = None  # this document's outputs cannot be written: its later parts are skipped
    try:
        for part in parts:
            if (part.error or write_error) and outputs is not None:  # nothing of it is written: its temporary files go
                outputs.abort()
                outputs = None
            if not part.error and not write_error:
                try:
                    outputs = outputs or DocumentOutputs(writers, part, out_dir)
                    outputs.add(part)
                    if part.final:
                        part.outputs = [str(p) for p in outputs.finish(part)]
                        outputs = None
                except DocumentError as err:  # e.g. a name the file system refuses: the others are still written
                    if outputs is not None:
                        outputs.abort()
                    outputs, write_error = None, err
                except TkError:  # OutputError: the disk or the folder, every document's; the run stops
                    raise
                except Exception as err:  # unforeseen (a writer's bug on a strange document): this document alone
                    if outputs is not None:
                        outputs.abort()
                    outputs, write_error = None, internal(err, "writing", part.source_name)
            if part.final:
                part.error, write_error = part.error or write_error, None
                yield part
    finally:
        if outputs is not None:  # stopped in the middle of a document
            outputs.abort()


def publish_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    """One document's rendered files (name -> bytes, as a sharded run's worker wrote them) into
    `out_dir` as DocumentOutputs writes them: every file to a temporary first, then all renamed
    into place; nothing is left when one cannot be written. Returns the paths, in the given order."""
    paths = [output_path(out_dir, name) for name in files]
    temps: list[Path] = []
    try:
        for path, data in zip(paths, files.values()):
            tmp, fh = _temporary(path, binary=True)
            temps.append(tmp)
            with _writing(path):
                with fh:
                    fh.write(data)
        for tmp, path in zip(temps, paths):
            _publish(tmp, path)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    return paths


def atomic_write(path: Path, text: str) -> None:
    """`text` into `path` through a temporary `.NAME.*.part` file renamed into place."""
    tmp, fh = _temporary(path)
    try:
        with _writing(path):
            with fh:
                fh.write(text)
            _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- temporary files, and what can go wrong with them ------------------------------------------
#
# A temporary is `.<final name>.tk<pid>-<random>.part` beside the final file. The pid says whose it
# is: one left by a tk that died (kill -9, power loss) is removed by the next run that writes to
# the folder (remove_stale_temporaries); another tk's file, still being written, is left alone.
# When the final name is too long for that (a 250-character file name), the name part is
# shortened and a hash of it added, so the temporary fits wherever the final name fits.

TEMP_RE = re.compile(r"^\..*\.tk(\d+)-[a-z0-9_]{8}\.part$")
TEMP_EXTRA = len(".") + len(".tk") + 10 + len("-") + 8 + len(".part")  # dot, pid (up to 10 digits), random, suffix
#: the disk or the folder fails every document alike: the run stops, with one line
RUN_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def _temp_prefix(path: Path) -> str:
    name = path.name
    limit = _name_max(path.parent)
    if len(os.fsencode(name)) + TEMP_EXTRA > limit:
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
        keep = os.fsencode(name)[: max(1, limit - TEMP_EXTRA - len(digest) - 1)].decode("utf-8", "ignore")
        name = f"{keep}~{digest}"
    return f".{name}.tk{os.getpid()}-"


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _temporary(path: Path, binary: bool = False) -> tuple[Path, TextIO]:
    """A new temporary file beside `path`, open for writing text (or bytes)."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".part", dir=path.parent)
    if binary:
        return Path(tmp), os.fdopen(fd, "wb")
    return Path(tmp), os.fdopen(fd, "w", encoding="utf-8", newline="")


def _prepended(tmp: Path, path: Path, text: str) -> Path:
    """A new temporary file holding `text` then `tmp`'s bytes (copied in blocks), `tmp` removed."""
    import shutil

    new, fh = _temporary(path, binary=True)
    try:
        with _writing(path), fh, open(tmp, "rb") as body:
            fh.write(text.encode("utf-8"))
            shutil.copyfileobj(body, fh, 1 << 20)
    except BaseException:
        new.unlink(missing_ok=True)
        raise
    tmp.unlink(missing_ok=True)
    return new


def _publish(tmp: Path, path: Path) -> None:
    """Rename a finished temporary file over `path`, with the usual permissions (mkstemp makes 0600)."""
    with _writing(path):
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)


@contextmanager
def _writing(path: Path):
    """OSError while writing `path` -> OutputError (disk full, read-only: the run stops) or
    DocumentError (this file only, e.g. a name the file system refuses)."""
    try:
        yield
    except OSError as err:
        reason = err.strerror or str(err)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OutputError(f"{path.parent}: the disk is full (writing {path.name}); "
                              "the unfinished files were removed") from None
        if err.errno in RUN_ERRNOS:
            raise OutputError(f"{path.parent}: cannot write output here ({reason})") from None
        raise DocumentError(str(path), f"cannot be written ({reason})") from None


def remove_stale_temporaries(folder: Path) -> int:
    """Remove the temporaries a tk that no longer runs left in `folder`; returns how many."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        match = TEMP_RE.match(name)
        if match and not _alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(folder, name))
                removed += 1
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: not ours to judge
    return True


def output_path(out_dir: Path, name: str) -> Path:
    """`out_dir / name`, refused (DocumentError) when the name would put the file anywhere else."""
    path = out_dir / name
    parts = Path(name).parts
    inside = os.path.realpath(path.parent) == os.path.realpath(out_dir)
    if len(parts) != 1 or name in (".", "..") or "\x00" in name or not inside:
        raise DocumentError(name, f"output name would leave the output folder {out_dir}; not written")
    size, limit = len(os.fsencode(name)), _name_max(out_dir if out_dir.is_dir() else out_dir.parent)
    if size > limit:  # found before any of the document's files is written, not after some are
        raise DocumentError(str(path), f"cannot be written (the name is {size} bytes, this file system allows {limit})")
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def available() -> dict[str, Writer]:
    """Every Writer subclass in this package's modules, by name."""
    from ..registry import named_subclasses

    return named_subclasses(__name__, __path__, Writer)


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
        "flag": s.flag or None,  # every record has every key: null when the segment is not flagged
        "score": _score(getattr(s, "score", None)),  # the model's confidence (null where there is none)
        "checks": list(getattr(s, "checks", None) or []),  # [{code, detail}]: why the verdict
        "verdict": getattr(s, "verdict", None),  # ok | check | doubt (null for meta records)
    }
    if getattr(s, "piece", None):  # a sentence cut to fit the model: [i, n], its i-th of n pieces
        row["piece"] = list(s.piece)
    if getattr(s, "terms", None):  # glossary terms matched (--glossary): source, target, note, origin, missing
        row["terms"] = [dict(t) for t in s.terms]
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
           "flag": None, "score": None, "checks": [], "verdict": None, "format": doc.format}
    row.update({key: doc.meta[key] for key, _ in METADATA_FIELDS if doc.meta.get(key)})
    return row


# What a flag on a segment (quality.problem) tells the reader; the writers show it beside the
# sentence and explain it once, in the document's header, never inside the translation.
FLAG_MEANINGS = {
    "repetition": "the translation repeats itself (the model may have looped); check it against the source",
    "length": "the translation is much shorter or longer than the source; part of it may be missing or invented",
    "empty": "the model gave no translation for a sentence with words",
}


def flag_kinds(segments: Iterable) -> list[str]:
    """The different flags on these segments, in order of first appearance."""
    return list(dict.fromkeys(s.flag for s in segments if s.flag and s.kind != "meta"))


def flag_legend(kinds: Iterable[str]) -> str:
    """One line explaining the flags marked in a document ("" when there are none)."""
    kinds = list(kinds)
    if not kinds:
        return ""
    meanings = "; ".join(f"{kind}: {FLAG_MEANINGS[kind]}" if kind in FLAG_MEANINGS else kind for kind in kinds)
    return f"⚠ marks a sentence to check. {meanings}"


def to_check(s) -> bool:
    """Whether the checks (checks/) ask the reader to compare this sentence with its source."""
    return getattr(s, "verdict", None) in ("check", "doubt")


def reasons(s) -> str:
    """A sentence's reasons to check it, in words ("number 80 not in the translation; ...")."""
    return "; ".join(c["detail"] for c in getattr(s, "checks", None) or [])


class Tally:
    """How many sentences to check: the header counts the first part (a long document's header is
    written before the rest is translated), `rest` says the whole document's figure at the end
    when later parts changed it. Silent for segments never checked (verdict None)."""

    def __init__(self, first_part):
        sentences = [s for s in first_part.segments if s.kind != "meta"]
        self.checked = any(getattr(s, "verdict", None) for s in sentences)
        self.first = (sum(map(to_check, sentences)), len(sentences))
        self.seen = [0, 0]

    def note(self, segments) -> None:
        self.seen[0] += sum(map(to_check, segments))
        self.seen[1] += len(segments)
        self.checked = self.checked or any(getattr(s, "verdict", None) for s in segments)

    @staticmethod
    def words(count: tuple[int, int] | list[int]) -> str:
        return f"{count[0]} of {count[1]} sentences to check"

    @property
    def head(self) -> str:
        return self.words(self.first) if self.checked else ""

    @property
    def rest(self) -> str:
        return self.words(self.seen) if self.checked and tuple(self.seen) != self.first else ""

    @property
    def whole(self) -> str:
        """The whole document's figure, once every part is noted."""
        return self.words(self.seen) if self.checked else ""


class FlagLegend:
    """Which flags a writer has explained: the header explains those of the first part, the tail any
    that only came in later parts (a long document is written before all of it is translated)."""

    def __init__(self, first_part):
        self.explained = flag_kinds(first_part.segments)
        self.seen: list[str] = []

    def note(self, segments) -> None:
        self.seen += [k for k in flag_kinds(segments) if k not in self.seen]

    @property
    def head(self) -> str:
        return flag_legend(self.explained)

    @property
    def rest(self) -> str:
        return flag_legend(k for k in self.seen if k not in self.explained)


def title_of(result) -> str:
    """The document's title (its first line), or its id when there is no document."""
    return result.document.title if result.document is not None else result.doc_id


def header_fields(result) -> list[tuple[str, str]]:
    """Title, source, languages, model, date, encoding: shown at the top of human-readable formats."""
    doc = result.document
    fields = [("Source", result.source_name), ("Languages", f"{result.src_lang} → {result.tgt_lang}")]
    if result.model:
        tier = f", {result.tier} tier" if getattr(result, "tier", None) else ""  # --quality (models/tiers.py)
        fields.append(("Model", f"{result.model} (revision {result.revision}{tier})"))
    if getattr(result, "signature", ""):  # what the cache key says ran: backend:ct2|precision:int8|beams:4|...
        fields.append(("Signature", result.signature))
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


def _score(score: float | None) -> float | None:
    """The model's score to 4 decimals: what a reader compares, and the same whichever batch a
    sentence was decoded in (batching moves it by well under 1e-4; tests/test_backends.py)."""
    return None if score is None else round(score, 4)
