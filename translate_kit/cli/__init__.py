"""The `tk` command: parse arguments, build options, call one library function, render, map errors.

One module per command group (documents, cache, models, serve, check, glossary) on common.py (the
option set, the exit-code table, `say` / `fail`, the results loop) and help.py: docs/design.md#layout.
Exit status: 0 all good, 1 some document (or model) failed, 2 usage error, 130 interrupted.
Heavy imports (torch, transformers, readers, the server) happen inside the commands, never here.
The console script is `tk = "translate_kit.cli:app"`.
"""

from __future__ import annotations

from . import documents
from .cache import cache_app
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, DocumentProblems, fail, say
from .help import App
from .check import check
from .glossary import glossary_app
from .models import doctor, models_app
from .serve import serve

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "DocumentProblems", "app", "fail", "main", "say"]

app = App(help="Local, offline bilingual translation and summaries of foreign-language articles.",
          no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("translate")(documents.translate)
app.command("summarize")(documents.summarize)
app.command("ls")(documents.list_corpus)
app.command("import-review")(documents.import_review)
app.command("doctor")(doctor)
app.command("serve")(serve)
app.add_typer(cache_app, name="cache")
app.add_typer(models_app, name="models")
app.add_typer(glossary_app, name="glossary")
app.command("check")(check)


def main() -> None:
    app()
