"""One document's failure is that document's alone, whatever the cause (issue 22).

A reader whose library fails to import, a writer with a bug, an exception nobody foresaw: the
document fails with one line naming it and the problem, its traceback goes to a log file named in
that line (never to the terminal, unless --debug), every other document is translated and written,
and the exit status is 1.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import readers, writers
from translate_kit.cli import app
from translate_kit.writers.md import MarkdownWriter as MdWriter

runner = CliRunner()
FRENCH = "Le chat dort sur le canapé. Il fait beau aujourd'hui.\n\nLe chien joue dans le jardin.\n"
PAGE = "<html><body><article><p>Le gouvernement a présenté son budget mardi.</p></article></body></html>"
IMPORT_PROBLEM = "lxml.html.clean module is now a separate project lxml_html_clean"


class BrokenHtml(readers.Reader):
    """The HTML reader as a fresh install with pip < 23.3 had it: its library does not import."""

    name = ""  # not registered by discovery: the tests put it in the registry themselves
    suffixes = (".html",)

    def read(self, data, name):
        raise ImportError(IMPORT_PROBLEM)


class BrokenMd(MdWriter):
    """A Markdown writer with a bug that shows on one document only (doc id `b`)."""

    name = ""

    def paragraph(self, result, segments, continued):
        if result.doc_id == "b":
            raise RuntimeError("a writer bug on a strange document")
        return super().paragraph(result, segments, continued)


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    monkeypatch.setenv("TK_LOG_DIR", str(folder))
    return folder


@pytest.fixture
def broken_html(monkeypatch):
    registry = {**readers.available(), "html": BrokenHtml()}
    monkeypatch.setattr(readers, "available", lambda: registry)


def folder_of_three(root: Path) -> Path:
    root.mkdir()
    (root / "a.txt").write_text(FRENCH, encoding="utf-8")
    (root / "b.txt").write_text(FRENCH.replace("chat", "lapin"), encoding="utf-8")
    (root / "page.html").write_text(PAGE, encoding="utf-8")
    return root


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "internal error" in line]


def test_a_reader_that_cannot_import_fails_its_document_alone(offline_hub, tmp_path, log_dir, broken_html):
    docs, out = folder_of_three(tmp_path / "docs"), tmp_path / "out"
    result = runner.invoke(app, ["translate", str(docs), "--out", str(out), "--quiet", "--json"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr and IMPORT_PROBLEM not in result.stdout.split('"error"')[0]
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tk: {docs / 'page.html'}: internal error while reading (ImportError: {IMPORT_PROBLEM})")
    assert "tk doctor" in lines[0] and str(log_dir) in lines[0]
    logged = next(log_dir.glob("tk-*.log")).read_text(encoding="utf-8")
    assert "Traceback" in logged and IMPORT_PROBLEM in logged and f"reading {docs / 'page.html'}" in logged
    # the two other documents are translated and written, whole
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.fr-en.{ext}" for d in "ab" for ext in ("md", "jsonl", "txt"))
    report = json.loads(result.stdout)
    assert [bool(d["error"]) for d in report["documents"]] == [False, False, True] and not report["ok"]


def test_the_same_problem_is_one_line_for_every_document(offline_hub, tmp_path, log_dir, broken_html):
    docs = folder_of_three(tmp_path / "docs")
    (docs / "other.html").write_text(PAGE, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(docs), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tk: 2 documents ({docs / 'other.html'}, {docs / 'page.html'}): internal error"), lines
    assert len(list(log_dir.glob("tk-*.log"))) == 1  # one log for the run


def test_a_writer_bug_fails_its_document_alone(offline_hub, tmp_path, log_dir, monkeypatch):
    docs, out = tmp_path / "docs", tmp_path / "out"
    docs.mkdir()
    for name in "abc":
        (docs / f"{name}.txt").write_text(FRENCH.replace("chat", f"chat {name}"), encoding="utf-8")
    monkeypatch.setattr(writers, "get_writers", lambda spec: [BrokenMd(), writers.available()["jsonl"]])
    result = runner.invoke(app, ["translate", str(docs), "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tk: {docs / 'b.txt'}: internal error while writing (RuntimeError: a writer bug"), lines
    assert "Traceback" not in result.stderr
    # a and c written whole; nothing of b is left, not even a temporary file
    assert sorted(p.name for p in out.iterdir()) == ["a.fr-en.jsonl", "a.fr-en.md", "c.fr-en.jsonl", "c.fr-en.md"]


def test_debug_shows_the_traceback_too(offline_hub, tmp_path, log_dir, broken_html):
    docs = folder_of_three(tmp_path / "docs")
    result = runner.invoke(app, ["translate", str(docs), "--out", str(tmp_path / "out"), "--quiet", "--debug"])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and IMPORT_PROBLEM in result.stderr


def test_summarize_keeps_going_after_a_reader_failure(offline_hub, tmp_path, log_dir, broken_html):
    docs = folder_of_three(tmp_path / "docs")
    result = runner.invoke(app, ["summarize", str(docs), "--method", "extractive", "--quiet", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [bool(d["error"]) for d in report["documents"]] == [False, False, True]
    assert len(problem_lines(result.stderr)) == 1 and "page.html" in result.stderr


def test_ls_lists_the_others(tmp_path, log_dir, broken_html):
    docs = folder_of_three(tmp_path / "docs")
    result = runner.invoke(app, ["ls", str(docs), "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["a", "b", "page"]
    assert rows[2]["error"].startswith("internal error while reading (ImportError") and not rows[0].get("error")


def test_ls_takes_paths_as_translate_does(tmp_path):
    docs = folder_of_three(tmp_path / "docs")
    result = runner.invoke(app, ["ls", str(docs / "a.txt"), str(docs / "b.txt"), "--json"])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == ["a", "b"]


def test_an_unforeseen_error_outside_any_document_is_one_line(tmp_path, log_dir, monkeypatch, capsys):
    import translate_kit.corpus

    def broken(*args, **kwargs):
        raise RuntimeError("nobody saw this coming")

    monkeypatch.setattr(translate_kit.corpus, "describe", broken)
    with pytest.raises(SystemExit) as stopped:
        app(["ls", str(tmp_path)], prog_name="tk")
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("tk: internal error (RuntimeError: nobody saw this coming); please report it with the log ")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "nobody saw this coming" in next(log_dir.glob("tk-*.log")).read_text(encoding="utf-8")
