"""Typed errors. The library raises these; only the CLI turns them into a line and an exit code."""

from __future__ import annotations


class TkError(Exception):
    """Base class: every error a user can cause or fix. `str(err)` is the one line the CLI prints."""


class DocumentError(TkError):
    """A document cannot be read or used. Other documents go on."""

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # pickled with its own fields (a Ray worker sends it back to the driver)
        return type(self), (self.path, self.problem)


class DocumentFailed(TkError):
    """A document could not be done: `cause` (a model error, a segment the model could not take)."""

    def __init__(self, source: str, cause: TkError):
        self.source, self.cause = str(source), cause
        super().__init__(f"{self.source}: {cause}")

    def __reduce__(self):
        return type(self), (self.source, self.cause)

    @classmethod
    def of(cls, source: str, err: TkError) -> TkError:
        """`err` for the document `source`; a DocumentError names its file already."""
        return err if isinstance(err, (DocumentError, DocumentFailed)) else cls(source, err)


class UnknownDocument(TkError):
    """A document id or prefix matched nothing, or more than one document."""


class ModelUnavailable(TkError):
    """A model is not in the local cache (or is broken) and cannot be fetched."""


class UnknownModel(TkError):
    """A model name is not in models.lock and is no repo id or directory."""


class UsageError(TkError):
    """Bad option values that typer cannot catch by itself (exit status 2)."""


class OutputError(TkError):
    """The output folder cannot be written."""


class CacheError(TkError):
    """The cache cannot be used for this run (busy, disk full, read-only); the run stops, the cache is left as it was."""


class CacheFileError(TkError):
    """A cache file given to `tk cache merge` cannot be merged (missing, damaged, not a tk cache, another
    schema): one line naming it; the other files are still merged."""


class CacheBusy(CacheError):
    """Another process held the cache's write lock for longer than tk waits."""


class RunAborted(TkError):
    """The whole run cannot go on (e.g. its cluster went away): not one document's error.
    Every batch finished before it is in the cache."""


class InternalError(DocumentError):
    """Something tk did not foresee went wrong with one document (a bug, a reader's library that failed
    to import, a MemoryError on one huge file): that document fails, the others go on. Its traceback
    is in the log file the problem names (incidents.py), never on the terminal unless --debug."""

    def __init__(self, path: str, problem: str, log: str | None = None):
        self.log = log
        super().__init__(path, problem)

    def __reduce__(self):
        return type(self), (self.path, self.problem, self.log)


class GlossaryError(TkError):
    """A glossary file cannot be used: one line naming the file, the line (when there is one) and the
    problem. Raised while reading, before any model loads (exit status 2 at the CLI)."""

    def __init__(self, path: str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem, self.line)


def first_line(err: BaseException, kind: bool = True) -> str:
    """An exception in one line, for messages that quote a library's error: its first line,
    after `Type: ` when `kind` (the package's one helper for it)."""
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else ""
    if not kind:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
