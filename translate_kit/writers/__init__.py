"""Output writers, one small module per format, picked by name.

Every writer renders the same aligned segment records (`records()`); a writer is the only place
that knows its format. Adding a format is one new module in this package defining a `Writer`
subclass with `name`, `ext` and `render()`: it is found by name automatically. A format that can
write a huge document piece by piece also overrides `chunks()` (md, jsonl and txt do), so the
whole output never sits in memory as one string.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import UsageError


class Writer:
    name = ""
    ext = ""

    def render(self, result) -> str:
        raise NotImplementedError

    def chunks(self, result) -> Iterable[str]:
        """The output in pieces that join to `render(result)`; by default, all of it at once."""
        yield self.render(result)

    def path_for(self, result, out_dir: Path) -> Path:
        return out_dir / f"{result.doc_id}.{result.src_lang}-{result.tgt_lang}.{self.ext}"

    def write(self, result, out_dir: Path) -> Path:
        """Write atomically: a temporary file in the same folder, renamed over the target when complete,
        so an interrupted run never leaves a file that looks finished."""
        path = self.path_for(result, out_dir)
        atomic_write(path, self.chunks(result))
        return path


def atomic_write(path: Path, text: str | Iterable[str]) -> None:
    """`text` (a string, or pieces of one) into `path` through a temporary `.NAME.*.part` file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for chunk in [text] if isinstance(text, str) else text:
                fh.write(chunk)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def records(result) -> list[dict]:
    """The aligned segment records every format is rendered from (and `jsonl` writes as they are)."""
    return list(iter_records(result))


def iter_records(result) -> Iterator[dict]:
    """`records()` one at a time, for writers that stream a huge document."""
    for s in result.segments:
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
        yield row


def paragraphs(result) -> list[list]:
    """Segments grouped by paragraph, meta records left out."""
    groups: dict[int, list] = {}
    for s in result.segments:
        if s.kind != "meta":
            groups.setdefault(s.para, []).append(s)
    return [groups[k] for k in sorted(groups)]


def header_fields(result) -> list[tuple[str, str]]:
    """Title, source, languages, model, date, encoding: shown at the top of human-readable formats."""
    doc = result.document
    fields = [("Source", result.source_name), ("Languages", f"{result.src_lang} → {result.tgt_lang}")]
    if result.model:
        fields.append(("Model", f"{result.model} (revision {result.revision})"))
    if doc is not None and doc.meta.get("date"):
        fields.append(("Date", doc.meta["date"]))
    if doc is not None and doc.encoding not in ("utf-8", "ascii"):
        fields.append(("Encoding", doc.encoding))
    if doc is not None:
        fields += [("Warning", warning) for warning in getattr(doc, "warnings", [])]  # e.g. damaged bytes replaced
    if result.note:
        fields.append(("Note", result.note))
    return fields
