"""Unforeseen exceptions, kept to one document and one line: the traceback goes to a log file.

`internal(err, doing, name)` turns any exception raised while `doing` something with the
document `name` (reading, segmenting, translating, writing, summarizing) into an InternalError,
that document's error, and appends its traceback to this run's log file, which the one line
names. `tk --debug` also shows the traceback (the `translate_kit` logger at DEBUG level).
Only the standard library here: this runs when something is already broken.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import traceback
from pathlib import Path

from .errors import InternalError, first_line
from .options import log_dir

log = logging.getLogger("translate_kit")

_log_files: dict[Path, Path] = {}  # this process's log in each log folder (TK_LOG_DIR), made at its first incident


def internal(err: BaseException, doing: str, name: str) -> InternalError:
    """`err`, raised while `doing` (a verb: "reading") the document `name`, as that document's error."""
    where = record(err, f"{doing} {name}")
    detail = first_line(err)
    hint = "; `tk doctor` shows which formats are unavailable and how to fix it" if isinstance(err, ImportError) else ""
    problem = f"internal error while {doing} ({detail}){hint}; please report it with the log {where}"
    return InternalError(name, problem, str(where) if where else None)


def record(err: BaseException, context: str) -> Path | str:
    """Append `err`'s traceback to this run's log; the file, or a note that none could be written."""
    text = "".join(traceback.format_exception(err))
    log.debug("internal error while %s:\n%s", context, text.rstrip())
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "translate_kit"):
        path = _log_files.get(folder) or folder / f"tk-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {stamp} pid {os.getpid()}: internal error while {context}\n{text}\n")
        except OSError:
            continue
        _log_files[folder] = path
        return path
    return "(no log could be written; run again with --debug to see it)"

