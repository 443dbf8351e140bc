"""Small CLI commands: tk ls, tk cache stats / clear, and their exit codes."""

import json
from pathlib import Path

from typer.testing import CliRunner

from translate_kit.cli import app

SEEDS = Path(__file__).parents[1] / "seeds"
runner = CliRunner()


def test_ls_lists_the_corpus():
    result = runner.invoke(app, ["ls", "--corpus", str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"][:3] for r in rows] == ["000", "001", "002", "003", "004"]
    assert {r["lang"] for r in rows} == {"fr"}
    assert [r["date"] for r in rows] == [None, "2024-06", None, None, "2024-02"]
    assert [r["sentences"] for r in rows] == [20, 14, 26, 48, 17]  # as tests/test_segment.py::test_seed_sentence_counts
    assert rows[3]["characters"] == len((SEEDS / "003_9c30f3eff2624f5c.txt").read_text(encoding="utf-8"))
    table = runner.invoke(app, ["ls", "--corpus", str(SEEDS)]).stdout
    assert "001_61284d4cebeaa770" in table and "2024-06" in table


def test_ls_missing_corpus_is_one_line(tmp_path):
    result = runner.invoke(app, ["ls", "--corpus", str(tmp_path / "none")])
    assert result.exit_code == 1 and "does not exist" in result.stderr and "Traceback" not in result.output


def test_cache_stats_and_clear(offline_hub, tmp_path):
    cache_dir = tmp_path / "c"
    out = tmp_path / "out"
    assert runner.invoke(app, ["translate", "004", "--out", str(out), "-q", "--cache-dir", str(cache_dir)]).exit_code == 0
    stats = json.loads(runner.invoke(app, ["cache", "stats", "--cache-dir", str(cache_dir), "--json"]).stdout)
    assert stats["entries"] == 17 and stats["bytes"] > 0  # seed 004's sentences (test_segment.py)
    assert [m["model"].split("@")[0] for m in stats["models"]] == ["Helsinki-NLP/opus-mt-fr-en"]
    result = runner.invoke(app, ["cache", "clear", "--model", "Helsinki-NLP/opus-mt-en-fr", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0 and "removed 0" in result.stderr
    result = runner.invoke(app, ["cache", "clear", "--model", "Helsinki-NLP/opus-mt-fr-en", "--cache-dir", str(cache_dir)])
    assert "removed 17" in result.stderr
    assert json.loads(runner.invoke(app, ["cache", "stats", "--cache-dir", str(cache_dir), "--json"]).stdout)["entries"] == 0


def test_progress_bar_on_a_terminal_only(offline_hub, tmp_path):
    """The bar is drawn when stderr is a terminal; --quiet, or stderr to a file or pipe, draws none
    (and then tqdm is not even imported: tests/test_service.py checks a warm run's imports)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    args = [sys.executable, "-m", "translate_kit", "translate", "004", "--corpus", str(SEEDS), "--beams", "1",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]

    def stderr_on_a_terminal(*extra: str) -> str:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
        done = subprocess.run([*args, *extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower,
                              env=os.environ, timeout=300)
        os.close(follower)
        shown = b""
        try:
            while chunk := os.read(leader, 65536):
                shown += chunk
        except OSError:  # EIO once the terminal's other end is closed and drained
            pass
        os.close(leader)
        assert done.returncode == 0, shown
        return shown.decode("utf-8", "replace")

    import re

    assert re.search(r"100%.*\b(\d+)/\1 ", stderr_on_a_terminal())  # every segment counted, first run
    assert re.search(r"100%.*\b(\d+)/\1 ", stderr_on_a_terminal())  # and a cached one
    assert "seg" not in stderr_on_a_terminal("--quiet")
    piped = subprocess.run(args, capture_output=True, text=True, env=os.environ, timeout=300)
    assert piped.returncode == 0 and "seg" not in piped.stderr, piped.stderr


def test_package_imports_its_parts_on_first_use():
    """`import translate_kit` (the first thing every tk command does) loads none of the pipeline;
    the public names still resolve, and `translate` / `summarize` stay the functions after their
    modules were imported (which binds the module's name on the package)."""
    import subprocess
    import sys

    code = ("import sys, translate_kit\n"
            "print(sorted(m for m in ('translate_kit.translate', 'translate_kit.summarize', 'translate_kit.documents') if m in sys.modules))\n"
            "import translate_kit.translate, translate_kit.summarize\n"
            "from translate_kit import translate, summarize, DocResult, load_documents, RunOptions, SummaryOptions\n"
            "print(translate.__module__, summarize.__module__, callable(translate), DocResult.__module__, load_documents.__module__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "translate_kit.translate translate_kit.summarize True translate_kit.translate translate_kit.documents"]


def test_quiet_hides_the_bar_and_closing_line_not_the_warnings(offline_hub, tmp_path):
    """--quiet is for scripts: what went wrong with a file (here a subtitle cue that could not be
    read, kept untranslated) must still reach stderr."""
    film = tmp_path / "film.srt"
    film.write_text("1\n00:00:01,000 --> 00:00:03,500\nPremière réplique.\n\n2\nquand il veut\nIllisible.\n\n"
                    "3\n00:00:04,000 --> 00:00:05,000\nDernière réplique.\n", encoding="utf-8")
    args = ["translate", str(film), "--from", "fr", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]
    quiet = runner.invoke(app, [*args, "-q"])
    assert quiet.exit_code == 0, quiet.output
    assert "1 cue(s)" in quiet.stderr and "film.srt" in quiet.stderr
    assert "document(s) translated" not in quiet.stderr
    loud = runner.invoke(app, args)
    assert "1 cue(s)" in loud.stderr and "document(s) translated" in loud.stderr
