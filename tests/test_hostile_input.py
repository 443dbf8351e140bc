"""Hostile input and faults outside the cache (issue 13): settings validated up front, language
codes that could write outside --out, file names the file system refuses, a full disk under
--out, temporaries of killed runs, text with no words, and XML that would expand or fetch.

Runs that need no model use a same-language pass-through (`--from fr --to fr`)."""

import errno
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import translate
from translate_kit.cli import app
from translate_kit.documents import Document
from translate_kit.errors import DocumentError, OutputError, UsageError
from translate_kit.segment import segment_document
from translate_kit.translate import DocResult
from translate_kit.writers import DocumentOutputs, get_writers, output_path, remove_stale_temporaries

from fs_faults import in_namespace

runner = CliRunner()
ROOT = Path(__file__).parents[1]
SEED = ROOT / "seeds" / "004_895ec00cc8f7060a.txt"
TEXT = "Le chat dort sur le canapé. Il fait beau.\n\nLe chien joue dans le jardin.\n"


def tk(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def no_model_loads(monkeypatch):
    from translate_kit import models

    monkeypatch.setattr(models, "pick_model", lambda *a, **k: pytest.fail("a model was looked up"))


# --- devices and TK_* values, validated before anything ----------------------------------------


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("command", ["translate", "summarize"])
@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cuda:-1", "tpu", "cpu:0"])
def test_a_device_that_is_none_is_a_usage_error(tmp_path, monkeypatch, how, command, device):
    no_model_loads(monkeypatch)
    args = [command, str(SEED), "--out", str(tmp_path / "out")]
    env = {"TK_DEVICE": device} if how == "env" else None
    result = tk(*args, *(["--device", device] if how == "flag" else []), env=env)
    assert result.exit_code == 2
    line = one_line(result)
    assert ("TK_DEVICE" if how == "env" else "--device") in line and repr(device) in line
    assert "auto, cpu, cuda, cuda:N" in line and "mps" in line


@pytest.mark.parametrize("device, canonical", [("CPU", "cpu"), (" cuda:1 ", "cuda:1"), ("Auto", "auto")])
def test_device_forms_are_accepted_case_insensitively(device, canonical):
    from translate_kit.options import RunOptions

    assert RunOptions(device=device).device == canonical


@pytest.mark.parametrize("name, value", [("TK_BATCH_TOKENS", "abc"), ("TK_BATCH_TOKENS", "-5"), ("TK_BATCH_TOKENS", "0"),
                                         ("TK_THREADS", "x"), ("TK_THREADS", "-2"), ("TK_THREADS", "1.5")])
def test_environment_values_are_validated_like_their_flags(tmp_path, monkeypatch, name, value):
    no_model_loads(monkeypatch)
    result = tk("translate", str(SEED), "--out", str(tmp_path / "out"), env={name: value})
    assert result.exit_code == 2
    line = one_line(result)
    assert name in line and repr(value) in line


def test_doctor_says_a_bad_environment_value_too(monkeypatch):
    result = tk("doctor", env={"TK_THREADS": "x"})
    assert result.exit_code == 2 and "TK_THREADS" in one_line(result)


def test_a_flag_wins_over_a_bad_environment_value(tmp_path, monkeypatch):
    from translate_kit.options import RunOptions

    monkeypatch.setenv("TK_THREADS", "x")
    assert RunOptions.from_env(threads=2).threads == 2
    with pytest.raises(UsageError, match="TK_THREADS"):
        RunOptions.from_env()


# --- language codes: no path through them, unknown ones named -----------------------------------


@pytest.mark.parametrize("flag", ["--from", "--to"])
@pytest.mark.parametrize("code", ["/../../x", "../x", "en/../../x", "x", "en\x00", "e n", "", "toolongcode"])
def test_language_codes_that_are_no_code_are_refused_before_anything(tmp_path, monkeypatch, flag, code):
    no_model_loads(monkeypatch)
    out = tmp_path / "deep" / "out"
    other = "fr" if flag == "--to" else "en"
    result = tk("translate", str(SEED), "--out", str(out), flag, code, "--to" if flag == "--from" else "--from", other)
    assert result.exit_code == 2 and flag in one_line(result)
    assert not out.exists() and sorted(p.name for p in tmp_path.rglob("*")) == []


def test_the_traversal_of_the_issue_writes_nothing_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = tmp_path / "a" / "b" / "doc.txt"
    doc.parent.mkdir(parents=True)
    doc.write_text(TEXT, encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    result = tk("translate", str(doc), "--from", "/../../x", "--to", "/../../x", "--out", str(tmp_path / "a" / "b" / "out"))
    assert result.exit_code == 2 and sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("code", ["xx", "qq", "zxx", "und"])
def test_a_code_that_is_no_language_is_unknown_not_a_model_to_pull(tmp_path, monkeypatch, code):
    no_model_loads(monkeypatch)
    result = tk("translate", str(SEED), "--to", code, "--out", str(tmp_path / "out"))
    line = one_line(result)
    assert result.exit_code == 2 and f"unknown language '{code}'" in line and "opus-mt" not in line
    summary = tk("summarize", str(SEED), "--lang", f"en,{code}")
    assert summary.exit_code == 2 and f"unknown language '{code}'" in one_line(summary)


def test_the_library_refuses_them_too():
    with pytest.raises(UsageError):
        list(translate([Document(id="d", text=TEXT)], "../../x"))
    with pytest.raises(UsageError, match="unknown language 'xx'"):
        list(translate([Document(id="d", text=TEXT)], "en", src="xx"))


def test_language_codes_are_case_insensitive(offline_hub, tmp_path):
    out = tmp_path / "out"
    result = tk("translate", str(SEED), "--from", "FR", "--to", "EN", "--out", str(out), "--format", "jsonl", "-q",
                "--beams", "1")
    assert result.exit_code == 0, result.output
    [written] = out.iterdir()
    assert written.name.endswith(".fr-en.jsonl")
    rows = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert {(r["src_lang"], r["tgt_lang"]) for r in rows} == {("fr", "en")}


def test_a_pair_with_no_model_says_which_models_were_tried(offline_hub, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT, encoding="utf-8")
    result = tk("translate", str(doc), "--from", "it", "--to", "es", "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 1
    line = one_line(result)
    for repo in ("opus-mt-it-es", "opus-mt-it-en", "opus-mt-en-es"):
        assert f"Helsinki-NLP/{repo}" in line


# --- output names stay in --out ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x.md", "a/../../x.md", "sub/x.md", "..", ".", "/etc/x.md"])
def test_an_output_name_cannot_leave_the_output_folder(tmp_path, name):
    with pytest.raises(DocumentError, match="would leave the output folder"):
        output_path(tmp_path / "out", name)


def test_a_document_id_cannot_write_outside_out(tmp_path):
    doc = Document(id="../../escaped", text=TEXT)
    part = DocResult(doc.id, "x.txt", "fr", "fr", document=doc, segments=segment_document(doc, "fr"))
    with pytest.raises(DocumentError):
        DocumentOutputs(get_writers("md"), part, tmp_path / "a" / "out")
    assert not list(tmp_path.rglob("*.md"))


# --- file names the file system refuses, temporaries ---------------------------------------------


def test_a_long_file_name_is_written_where_its_name_fits_and_fails_alone_where_not(tmp_path):
    """A 250-character file name: `<id>.fr-fr.md` (255 bytes) fits, so its temporary must fit too;
    `<id>.fr-fr.jsonl` (258) cannot exist: that document fails with one line, the next is written."""
    long = tmp_path / ("é" * 1 + "a" * 244 + ".txt")  # 250 bytes in UTF-8, 249 characters
    long.write_text(TEXT, encoding="utf-8")
    other = tmp_path / "zz-other.txt"
    other.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out"
    ok = tk("translate", str(long), str(other), "--from", "fr", "--to", "fr", "--out", str(out), "-f", "md", "-q")
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in out.iterdir()) == sorted([long.stem + ".fr-fr.md", "zz-other.fr-fr.md"])

    out2 = tmp_path / "out2"
    bad = tk("translate", str(long), str(other), "--from", "fr", "--to", "fr", "--out", str(out2), "-f", "md,jsonl", "-q")
    assert bad.exit_code == 1
    line = one_line(bad)
    assert long.stem in line and "cannot be written" in line
    assert sorted(p.name for p in out2.iterdir()) == ["zz-other.fr-fr.jsonl", "zz-other.fr-fr.md"]  # no .part left


def test_disk_full_while_writing_is_one_line_and_leaves_no_temporaries(tmp_path, monkeypatch):
    """ENOSPC from the file (the portable form of the tmpfs test below): the run stops, temporaries go."""
    import translate_kit.writers as writers

    real = writers._temporary

    class Full:
        def __init__(self, fh):
            self.fh, self.written = fh, 0

        def write(self, text):
            self.written += len(text)
            if self.written > 200:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(text)

        def close(self):
            self.fh.close()

    monkeypatch.setattr(writers, "_temporary", lambda path, binary=False: (lambda tmp, fh: (tmp, Full(fh)))(*real(path, binary)))
    doc = Document(id="doc", text=TEXT * 20)
    part = DocResult("doc", "doc.txt", "fr", "fr", document=doc, segments=segment_document(doc, "fr"))
    outputs = DocumentOutputs(get_writers("md,txt"), part, tmp_path)
    with pytest.raises(OutputError, match="the disk is full"):
        outputs.add(part)
    outputs.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk_under_out_is_one_line(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text((TEXT * 2000), encoding="utf-8")  # ~150 KB of text, 3 formats: far over 64 KB
    result = in_namespace(f"""
        import json, os, subprocess, sys
        out = os.path.join(MNT, "out")
        done = subprocess.run([sys.executable, "-m", "translate_kit", "translate", {str(big)!r}, "--from", "fr",
                               "--to", "fr", "--out", out, "--no-cache", "-q"], capture_output=True, text=True)
        print(json.dumps({{"code": done.returncode, "stderr": done.stderr, "left": sorted(os.listdir(out)), "out": out}}))
    """, size="64k")
    assert result["code"] == 1
    lines = result["stderr"].strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result["stderr"], result["stderr"]
    assert lines[0].startswith(f"tk: {result['out']}: the disk is full")
    assert result["left"] == []  # no .part left behind


def test_temporaries_of_a_killed_run_are_removed_by_the_next(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal\nfrom pathlib import Path\nfrom translate_kit.writers import _temporary\n"
        f"tmp, fh = _temporary(Path({str(out)!r}) / 'doc.fr-fr.md')\nfh.write('half'); fh.flush()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")], env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -signal.SIGKILL
    [stale] = out.iterdir()
    assert stale.name.startswith(".doc.fr-fr.md.") and stale.name.endswith(".part")
    mine = out / f".other.md.tk{os.getpid()}-abcdefgh.part"  # a live tk's (this process): not touched
    theirs = out / ".notes.part"  # not tk's naming: not touched
    for path in (mine, theirs):
        path.write_text("x")
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT, encoding="utf-8")
    result = tk("translate", str(doc), "--from", "fr", "--to", "fr", "--out", str(out), "-f", "md", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([mine.name, theirs.name, "doc.fr-fr.md"])
    assert remove_stale_temporaries(out) == 0


# --- nothing to translate -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["😀 🎉\n\n🙂\n", "!!! ??? …\n\n— * —\n", "ℹ️ 12 000 👍\n"])
def test_no_words_is_nothing_to_translate_and_copied_through(tmp_path, monkeypatch, text):
    no_model_loads(monkeypatch)
    doc = tmp_path / "doc.txt"
    doc.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = tk("translate", str(doc), "--to", "en", "--out", str(out), "-f", "txt", "--json", "-q")
    assert result.exit_code == 0, result.output
    assert "opus-mt" not in result.output
    [report] = json.loads(result.stdout)["documents"]
    assert "nothing to translate" in report["note"] and report["translated"] == 0
    [written] = out.iterdir()
    assert written.read_text(encoding="utf-8") == text


# --- XML that would expand or fetch (tk import-review) --------------------------------------------

BOMB = """<?xml version="1.0"?>
<!DOCTYPE xliff [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="fr" trgLang="en">
  <file id="f"><unit id="u"><segment state="reviewed"><source>Le chat.</source><target>&e;</target></segment></unit></file>
</xliff>
"""


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list = []

    def do_GET(self):  # noqa: N802
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY leak 'FETCHED'>")

    def log_message(self, *args):
        pass


def test_an_entity_bomb_in_a_review_is_refused(tmp_path):
    review = tmp_path / "bomb.xlf"
    review.write_text(BOMB, encoding="utf-8")
    result = tk("import-review", str(review), "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 1
    line = one_line(result)
    assert str(review) in line and "not well-formed XML" in line


def test_external_entities_in_a_review_are_never_fetched(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT", encoding="utf-8")
    url = f"http://127.0.0.1:{server.server_port}/dtd"
    cases = {
        "file": f'<!DOCTYPE xliff [<!ENTITY ext SYSTEM "file://{secret}">]>',
        "http": f'<!DOCTYPE xliff [<!ENTITY ext SYSTEM "{url}">]>',
        "dtd": f'<!DOCTYPE xliff SYSTEM "{url}">',
        "parameter": f'<!DOCTYPE xliff [<!ENTITY % p SYSTEM "{url}"> %p;]>',
    }
    cache = tmp_path / "cache"
    try:
        for name, doctype in cases.items():
            target = "&ext;" if name in ("file", "http") else "The cat."
            review = tmp_path / f"{name}.xlf"
            review.write_text(f"""<?xml version="1.0"?>\n{doctype}
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="fr" trgLang="en">
  <file id="f"><unit id="u"><segment state="reviewed"><source>Le chat {name}.</source><target>{target}</target></segment></unit></file>
</xliff>
""", encoding="utf-8")
            tk("import-review", str(review), "--cache-dir", str(cache))
    finally:
        server.shutdown()
        server.server_close()
    assert Recorder.requests == []
    import sqlite3

    from translate_kit.cache import REVIEWS_NAME

    db = sqlite3.connect(cache / REVIEWS_NAME)
    targets = [t for (t,) in db.execute("SELECT target FROM overrides")]
    db.close()
    assert not any("SECRET" in t or "FETCHED" in t for t in targets)


def test_the_two_letter_fast_path_agrees_with_the_registry():
    """language.ISO_639_1 (checked without importing langcodes' tables) is exactly the registry's
    non-deprecated two-letter language subtags, and every one of them passes langcodes too."""
    import re

    import langcodes

    from translate_kit.language import ISO_639_1

    registry = (Path(langcodes.__file__).parent / "data" / "language-subtag-registry.txt").read_text(encoding="utf-8")
    two = set()
    for record in registry.split("%%"):
        fields = dict(re.findall(r"^(Type|Subtag|Deprecated): (.*)$", record, re.M))
        if fields.get("Type") == "language" and len(fields.get("Subtag", "")) == 2 and "Deprecated" not in fields:
            two.add(fields["Subtag"])
    assert ISO_639_1 == two
    assert all(langcodes.tag_is_valid(code) for code in ISO_639_1)
