"""What the CLI says: one line per problem (not one per document), and help texts people can read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from translate_kit.cli import DocumentProblems, app

runner = CliRunner()


def write_documents(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"doc{i}.txt").write_text(f"Le ministre a parlé {i} fois mardi à Paris.\n", encoding="utf-8")
    return folder


def test_a_model_missing_for_five_documents_is_one_line_naming_them(offline_hub, tmp_path):
    docs = write_documents(tmp_path / "docs", 5)
    (docs / "empty.txt").write_text("", encoding="utf-8")  # a problem of its own: its own line
    result = runner.invoke(app, ["translate", str(docs), "--from", "fr", "--model", "nobody/opus-mt-fr-en",
                                 "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    model_line = next(line for line in lines if "nobody/opus-mt-fr-en" in line)
    assert model_line.startswith("tk: 5 documents (") and all(f"doc{i}.txt" in model_line for i in range(5))
    assert any("empty.txt" in line and "nobody" not in line for line in lines)


def test_problem_lines_name_a_few_documents_and_count_the_rest():
    problems = DocumentProblems()
    for i in range(8):
        problems.add_error(f"d{i}.txt", f"d{i}.txt: no model")
    problems.add("d9.txt", "no model")
    problems.add("x.txt", "other")
    assert list(problems.documents) == ["no model", "other"]
    assert DocumentProblems.named(problems.documents["no model"]) == "9 documents (d0.txt, d1.txt, d2.txt, d3.txt, d4.txt and 4 more)"
    assert DocumentProblems.named(["x.txt"]) == "x.txt"


# --- help -------------------------------------------------------------------------------------------


def command_paths(command=None, path=()) -> list[tuple[str, ...]]:
    command = command or typer.main.get_command(app)
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, path + (name,))
    return paths


# typer's type labels (<bool>, <list[str]>, <int range>, <path>...) and its {argument} usage form
MACHINE_WORDS = re.compile(r"<(bool|str|int|float|path|file|dir|list\[[^>]*\]|[a-z]+ range)>|\{\w+\}|list\[")


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "tk")
def test_help_reads_like_a_person_wrote_it(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    assert not MACHINE_WORDS.search(result.stdout), result.stdout
    assert "--help" in result.stdout and "Usage:" in result.stdout


def test_every_command_is_in_the_help_test():
    assert {" ".join(p) for p in command_paths()} >= {"translate", "summarize", "ls", "import-review", "cache stats",
                                                      "cache clear", "models list", "models verify", "doctor"}
