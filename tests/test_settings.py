"""Every TK_* setting is read in options.py and a bad value is a usage error (exit 2), one line."""

import pytest
from typer.testing import CliRunner

from translate_kit import options
from translate_kit.cli import app
from translate_kit.errors import UsageError

runner = CliRunner()


@pytest.mark.parametrize("name, value", [("TK_FETCH_TIMEOUT", "abc"), ("TK_FETCH_TIMEOUT", "0"),
                                         ("TK_FETCH_MAX_MB", "lots"), ("TK_CACHE_TIMEOUT", "-1")])
def test_a_bad_setting_for_a_url_run_is_exit_2(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["translate", "https://example.invalid/a", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tk: {name}={value!r} is not a ")


def test_accessors_read_at_call_time(monkeypatch):
    monkeypatch.setenv("TK_FETCH_TIMEOUT", "2.5")
    monkeypatch.setenv("TK_FETCH_MAX_MB", "0.5")
    assert (options.fetch_timeout(), options.fetch_max_bytes()) == (2.5, 500_000)
    monkeypatch.delenv("TK_FETCH_TIMEOUT")
    assert options.fetch_timeout() == options.FETCH_TIMEOUT_S
    monkeypatch.setenv("TK_FETCH_TIMEOUT", "nan")
    with pytest.raises(UsageError, match="TK_FETCH_TIMEOUT"):
        options.fetch_timeout()


@pytest.mark.parametrize("command", [["translate", "https://example.invalid/a"], ["summarize", "001"], ["doctor"],
                                     ["models", "list"], ["models", "pull"]])
def test_a_bad_tk_quality_is_exit_2_with_one_line(monkeypatch, tmp_path, command):
    monkeypatch.setenv("TK_QUALITY", "great")
    result = runner.invoke(app, [*command, *(["--out", str(tmp_path)] if command[0] == "translate" else [])])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == ["tk: TK_QUALITY='great' is not a quality; known: auto, fast, best"]


def test_the_quality_flag_is_checked_and_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TK_QUALITY", "best")
    assert options.DecodeOptions().quality == "best"
    assert options.DecodeOptions(quality="FAST").quality == "fast"  # the flag wins; case does not matter
    monkeypatch.delenv("TK_QUALITY")
    assert options.DecodeOptions().quality == "auto"  # read when the options are made, never at import
    result = runner.invoke(app, ["translate", "https://example.invalid/a", "--quality", "top", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.strip() == "tk: --quality 'top' is not a quality; known: auto, fast, best"
