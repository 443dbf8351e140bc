"""Reliability (issue 8): bad input, faults and degenerate model output, with nothing lost.

For every case: one clear line naming the file and the problem, the other documents still
processed, a meaningful exit status, no traceback, and no loss of work already done.
Most cases run through the CLI in-process (typer's CliRunner); signals and file permissions
need a real `tk` process.
"""

import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cache import DB_NAME
from translate_kit.cli import app
from translate_kit.documents import Document, decode, read_document
from translate_kit.runtime.torch import TorchEngine as Engine
from translate_kit.errors import DocumentError
from translate_kit.segment import reassemble, segment_document
from translate_kit.translate import DocResult
from translate_kit.writers import DocumentOutputs, get_writers

SEEDS = Path(__file__).parents[1] / "seeds"
runner = CliRunner()
GOOD = "Le chat dort sur le canapé. Il fait beau aujourd'hui.\n\nLe chien joue dans le jardin.\n"


@pytest.fixture
def torch_engine(monkeypatch):
    """Tests that work at the Engine.generate() boundary need the torch engine, not CTranslate2."""
    monkeypatch.setenv("TK_BACKEND", "torch")


@pytest.fixture
def spy(monkeypatch, torch_engine):
    """Every generate() call: (texts, input token counts, overrides); the real model still runs."""
    calls = []
    original = Engine.generate

    def recording(self, texts, **overrides):
        calls.append((list(texts), self.count_tokens(texts), overrides))
        return original(self, texts, **overrides)

    monkeypatch.setattr(Engine, "generate", recording)
    return calls


def tk(*args: str, quiet: bool = True):
    return runner.invoke(app, ["translate", *args, "--beams", "1", *(["--quiet"] if quiet else [])])


def tk_json(*args: str) -> tuple[int, dict, str]:
    result = tk(*args, "--json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("tk: ") and "WARNING" not in line]


def assert_clean(stderr: str) -> None:
    """No traceback: every line on stderr is one of ours."""
    assert "Traceback" not in stderr and all(line.startswith("tk: ") for line in stderr.splitlines()), stderr


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def tk_command() -> list[str]:
    """The installed `tk` script (the real entry point), else the module."""
    found = shutil.which("tk", path=str(Path(sys.executable).parent)) or shutil.which("tk")
    return [found] if found else [sys.executable, "-m", "translate_kit"]


# --- bad input -------------------------------------------------------------------------------

BAD_INPUTS = {
    "empty.txt": (b"", "empty file"),
    "blank.txt": (b" \n\t\r\n  \n", "only whitespace"),
    "bom-only.txt": (b"\xef\xbb\xbf", "empty file"),
    "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "not a text file"),
    "zeros.md": (b"\x00" * 500, "not a text file"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_file_is_one_clear_error(tmp_path, name):
    data, problem = BAD_INPUTS[name]
    path = write(tmp_path / name, data)
    [item] = load_documents([str(path)])
    assert isinstance(item, DocumentError)
    assert str(item) == f"{path}: {item.problem}" and problem in item.problem and "\n" not in str(item)


def test_folder_without_documents_and_missing_paths(tmp_path):
    (tmp_path / "empty-dir").mkdir()
    write(tmp_path / "other-dir" / "notes.xls", b"%PDF")  # a format no reader claims
    items = list(load_documents([str(tmp_path / "empty-dir"), str(tmp_path / "other-dir"),
                                 str(tmp_path / "nope.txt"), "no-such-id"], corpus=tmp_path / "no-corpus"))
    assert all(isinstance(i, DocumentError) for i in items)
    assert [i.problem.split(" (")[0] for i in items[:3]] == ["directory holds no documents"] * 2 + ["no such file or directory"]
    assert ".pdf" in items[0].problem and ".docx" in items[0].problem  # it says which formats it looked for
    assert items[3].path == "no-such-id" and "no such file" in items[3].problem


def test_bad_inputs_fail_alone_and_the_good_one_is_written(offline_hub, tmp_path):
    bad = [write(tmp_path / "in" / name, data) for name, (data, _) in sorted(BAD_INPUTS.items())]
    (tmp_path / "in" / "empty-dir").mkdir()
    good = write(tmp_path / "in" / "good.txt", GOOD)
    missing = tmp_path / "in" / "missing.txt"
    inputs = [str(p) for p in bad[:2]] + [str(good)] + [str(p) for p in bad[2:]] + [str(missing), str(tmp_path / "in" / "empty-dir")]
    out = tmp_path / "out"
    code, report, stderr = tk_json(*inputs, "--out", str(out))
    assert code == 1 and report["ok"] is False
    assert_clean(stderr)
    lines = error_lines(stderr)
    # one line per problem, nothing else: the two empty files share theirs, which names both
    assert len(lines) == len(inputs) - 2, lines
    for path in bad + [missing, tmp_path / "in" / "empty-dir"]:
        assert sum(f"{path}: " in line or f"{path}," in line or f"{path})" in line for line in lines) == 1, (path, lines)
    (shared,) = [line for line in lines if line.startswith("tk: 2 documents (")]
    assert "empty.txt" in shared and "bom-only.txt" in shared
    docs = {d["source"]: d for d in report["documents"]}
    assert docs[str(good)]["error"] is None and docs[str(good)]["translated"] == 3
    assert [p.name for p in sorted(out.iterdir())] == ["good.fr-en.jsonl", "good.fr-en.md", "good.fr-en.txt"]


def _without_root_powers():
    """For a child process run by root: drop the capabilities that let root read any file
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set, so chmod 000 applies to it too."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unreadable_file(tmp_path):
    """chmod 000 stops everyone but root; under root the real `tk` runs without root's file powers."""
    secret = write(tmp_path / "secret.txt", GOOD)
    secret.chmod(0)
    root = os.geteuid() == 0
    if root:
        probe = subprocess.run(["cat", str(secret)], capture_output=True, preexec_fn=_without_root_powers_or_none)
        if probe.returncode == 0:
            pytest.skip("running as root and the capabilities that let root read chmod 000 files cannot be dropped here")
    env = {**os.environ, "TK_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([*tk_command(), "translate", str(secret), "--out", str(tmp_path / "out"), "-q"],
                          capture_output=True, text=True, env=env, timeout=120,
                          preexec_fn=_without_root_powers if root else None)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == f"tk: {secret}: permission denied (cannot read)"


def _without_root_powers_or_none():
    try:
        _without_root_powers()
    except OSError:
        pass


# --- encodings -------------------------------------------------------------------------------

FRENCH = "Élève à l'école, « déjà » vu : ça coûte 10 000 €.\nLe président a parlé hier soir.\n"
ENCODED = {
    "utf-8": (FRENCH.encode("utf-8"), "utf-8"),
    "utf-8 BOM": (FRENCH.encode("utf-8-sig"), "utf-8-sig"),
    "utf-16 BOM": (FRENCH.encode("utf-16"), "utf-16"),
    "utf-16-le, no BOM": (FRENCH.encode("utf-16-le"), "utf-16-le"),
    "utf-16-be, no BOM": (FRENCH.encode("utf-16-be"), "utf-16-be"),
    "windows-1252": (FRENCH.encode("cp1252"), "cp1252"),
    "latin-1 (short)": ("Élève à l'école.".encode("latin-1"), "cp1252"),
    "latin-1, one accent": (b"Le cafe est pr\xeat.", "cp1252"),
}


@pytest.mark.parametrize("case", sorted(ENCODED))
def test_encodings_decode_to_the_same_text(case):
    data, encoding = ENCODED[case]
    text, found, warnings = decode(data, case)
    expected = data.decode(encoding)
    assert (text, found, warnings) == (expected.removeprefix("\ufeff"), encoding, [])


def test_damaged_utf8_stays_utf8_and_says_so():
    """A few invalid bytes in a UTF-8 file: replaced (U+FFFD) and reported, not a whole-file mojibake
    from a guessed legacy code page."""
    data = FRENCH.encode() * 3 + b"caf\xe9 cr\xe8me\n" + "Fin de l'été".encode()[:-1]  # a cut-off "é"
    text, encoding, warnings = decode(data, "x")
    assert encoding == "utf-8" and text.count("\ufffd") == 3 and "président" in text and "Ã" not in text
    assert warnings == ["3 invalid UTF-8 byte sequence(s) replaced with U+FFFD (\ufffd)"]


def test_nul_bytes_in_text_are_dropped_and_said():
    text, _, warnings = decode(FRENCH.encode().replace(b"10 000", b"10\x00000"), "x")
    assert text == FRENCH.replace("10 000", "10000") and warnings == ["1 NUL byte(s) removed"]


# A large file is decoded as it is read (documents.StreamedDocument); here "large" is made 1 byte
# and the blocks 7 bytes, so every multi-byte character and CRLF is split between two blocks.
STREAMED = {**ENCODED,
            "damaged utf-8": (FRENCH.encode() * 3 + b"caf\xe9 cr\xe8me\n", "utf-8"),
            "NUL bytes": (FRENCH.encode().replace(b"10 000", b"10\x00000"), "utf-8"),
            "CRLF": (FRENCH.replace("\n", "\r\n").encode(), "utf-8")}


@pytest.fixture
def stream_everything(monkeypatch):
    from translate_kit import documents

    monkeypatch.setattr(documents, "STREAM_BYTES", 1)
    monkeypatch.setattr(documents, "BLOCK_BYTES", 7)
    return documents


@pytest.mark.parametrize("case", sorted(STREAMED))
def test_large_files_are_read_in_blocks_to_the_same_text(case, tmp_path, stream_everything):
    data, _ = STREAMED[case]
    path = write(tmp_path / "big.txt", data)
    in_memory = stream_everything.make_document(data, str(path), "big", path)
    streamed = stream_everything.read_document(path)
    assert isinstance(streamed, stream_everything.StreamedDocument)
    assert "".join(streamed.pieces()) == in_memory.text and len(list(streamed.pieces())) > 1
    assert (streamed.encoding, streamed.warnings, streamed.title) == (in_memory.encoding, in_memory.warnings, in_memory.title)
    assert reassemble(segment_document(streamed, "fr")) == in_memory.text


@pytest.mark.parametrize("data, problem", [
    (b"\x00\x01\x02\x03binary\xff\xfe\x00" * 50, "not a text file"),
    (b" \n\t\r\n" * 40, "contains only whitespace"),
])
def test_large_files_are_refused_as_small_ones_are(data, problem, tmp_path, stream_everything):
    path = write(tmp_path / "big.txt", data)
    with pytest.raises(DocumentError, match=problem):
        stream_everything.read_document(path)


def test_large_file_whose_beginning_is_ascii_is_not_read_as_ascii(tmp_path, stream_everything, monkeypatch):
    """The encoding of a large file is detected from its beginning; when the rest does not decode
    with it (plain ASCII first, accents later), the Western default is checked over the whole file."""
    monkeypatch.setattr(stream_everything, "DETECT_BYTES", 64)
    data = b"The first lines are plain ASCII, as English quotes can be. " * 3 + FRENCH.encode("cp1252")
    doc = stream_everything.read_document(write(tmp_path / "big.txt", data))
    assert (doc.encoding, doc.warnings) == ("cp1252", []) and "".join(doc.pieces()).endswith(FRENCH)


def test_large_file_read_as_it_is_translated_gives_the_same_outputs(offline_hub, tmp_path, monkeypatch):
    """tk translate on a file read block by block writes what it writes for the file read at once."""
    import importlib

    from translate_kit import documents

    translate_module = importlib.import_module("translate_kit.translate")
    monkeypatch.setattr(translate_module, "PART_SEGMENTS", 3)
    monkeypatch.setattr(translate_module, "WINDOW_SEGMENTS", 3)
    text = (" date 2024-06 " + FRENCH.replace("\n", "\r\n") + "\r\n") * 4 + "Dernier paragraphe. Fin."
    path = write(tmp_path / "big.txt", text.encode("cp1252"))
    args = ("--format", "all", "--from", "fr", "--no-cache")
    assert tk(str(path), "--out", str(tmp_path / "whole"), *args).exit_code == 0
    monkeypatch.setattr(documents, "STREAM_BYTES", 1)
    monkeypatch.setattr(documents, "BLOCK_BYTES", 5)
    monkeypatch.setattr(documents, "DETECT_BYTES", len(text))
    result = tk(str(path), "--out", str(tmp_path / "streamed"), *args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert len(names) == 7 and names == sorted(p.name for p in (tmp_path / "streamed").iterdir())  # every format
    for name in names:
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert "Encoding:** cp1252" in (tmp_path / "streamed" / "big.fr-en.md").read_text(encoding="utf-8")


def test_encoding_and_repairs_reported_in_json_and_header(offline_hub, tmp_path):
    latin = write(tmp_path / "latin.txt", FRENCH.encode("cp1252"))
    damaged = write(tmp_path / "damaged.txt", FRENCH.encode() + b"caf\xe9.\n")
    bom16 = write(tmp_path / "bom16.txt", FRENCH.encode("utf-16"))
    result = tk(str(latin), str(damaged), str(bom16), "--out", str(tmp_path / "out"), "--json", "--format", "md,jsonl",
                quiet=False)
    assert result.exit_code == 0, result.output
    docs = {d["id"]: d for d in json.loads(result.stdout)["documents"]}
    assert (docs["latin"]["encoding"], docs["damaged"]["encoding"], docs["bom16"]["encoding"]) == ("cp1252", "utf-8", "utf-16")
    assert docs["damaged"]["warnings"] == ["1 invalid UTF-8 byte sequence(s) replaced with U+FFFD (\ufffd)"]
    assert docs["latin"]["warnings"] == []
    md = (tmp_path / "out" / "latin.fr-en.md").read_text(encoding="utf-8")
    assert "- **Encoding:** cp1252" in md and "Élève" in md
    assert "replaced with U+FFFD" in (tmp_path / "out" / "damaged.fr-en.md").read_text(encoding="utf-8")
    assert "1 invalid UTF-8 byte sequence(s) replaced" in result.stderr  # and said on the terminal


LINE_ENDINGS = re.compile(r"\r\n|\r|\n")


@pytest.mark.parametrize("text", [
    "Un. Deux.\r\nTrois.\r\n\r\nQuatre.\r\n",
    "Un.\r\nDeux.\nTrois.\rQuatre.\n\r\nCinq.\r\r\nSix.",  # mixed
    "\r\n\r\n  Titre\r\n\r\n\r\nTexte. Suite.\r\n",
])
def test_line_endings_survive_segmentation_and_output(offline_hub, tmp_path, text):
    from translate_kit.documents import Document

    assert reassemble(segment_document(Document(id="x", text=text), "fr")) == text
    path = write(tmp_path / "crlf.txt", text)
    result = tk(str(path), "--from", "fr", "--out", str(tmp_path / "out"), "--format", "txt,jsonl")
    assert result.exit_code == 0, result.output
    rows = jsonl(tmp_path / "out" / "crlf.fr-en.jsonl")
    assert "".join(r["source"] + r["space_after"] for r in rows) == text
    written = (tmp_path / "out" / "crlf.fr-en.txt").read_bytes().decode()
    # the translation keeps the source's line endings, one for one (txt adds a final one if missing)
    expected = LINE_ENDINGS.findall(text) + ([] if LINE_ENDINGS.search(text[-1:]) else ["\n"])
    assert LINE_ENDINGS.findall(written) == expected


# --- very large input --------------------------------------------------------------------------


def test_one_50000_character_sentence_is_split_under_the_budget(offline_hub, tmp_path, spy):
    words = ["marché", "gouvernement", "pendant", "longtemps", "ukrainiens", "soutien", "militaire", "et", "la"]
    sentence = " ".join(words[(i * 7 + i // 3) % len(words)] for i in range(8000))[:50000].strip()
    assert len(sentence) >= 49990 and not re.search(r"[.;:,!?]", sentence)
    path = write(tmp_path / "long.txt", sentence + "\n")
    model = str(offline_hub.tiny_marian_64)
    result = tk(str(path), "--from", "fr", "--model", model, "--out", str(tmp_path / "out"), "--format", "jsonl",
                "--batch-tokens", "4096")
    assert result.exit_code == 0, result.output
    sent = [n for _, counts, _ in spy for n in counts]
    assert sent and max(sent) <= 64  # every generate() input within the model's 64 positions
    rows = jsonl(tmp_path / "out" / "long.fr-en.jsonl")
    assert len(rows) > 1 and "".join(r["source"] + r["space_after"] for r in rows) == sentence + "\n"


# --- file names --------------------------------------------------------------------------------


def test_names_with_spaces_accents_and_same_stems(offline_hub, tmp_path):
    inputs = [
        write(tmp_path / "dossier à part" / "l'été en Provence.txt", "Il fait chaud en été.\n"),
        write(tmp_path / "中文" / "文章 一.md", "Le soleil brille.\n"),
        write(tmp_path / "a" / "notes.txt", "Première note du dossier a.\n"),
        write(tmp_path / "b" / "notes.txt", "Deuxième note, dossier b.\n"),
    ]
    out = tmp_path / "out"
    code, report, stderr = tk_json(*map(str, inputs), "--from", "fr", "--out", str(out), "--format", "jsonl,md")
    assert code == 0, stderr
    ids = [d["id"] for d in report["documents"]]
    assert ids == ["l'été en Provence", "文章 一", "notes@a", "notes@b"]
    for doc, path in zip(report["documents"], inputs):
        rows = jsonl(Path(doc["outputs"][0]))
        text = read_document(path).text  # the file itself for .txt, its extracted words for .md
        assert "".join(r["source"] + r["space_after"] for r in rows) == text
        assert path.suffix == ".md" or text == path.read_text(encoding="utf-8")
    assert len({p.name for p in out.iterdir()}) == 8  # nothing overwritten


def test_file_name_that_is_not_utf8_prints(tmp_path):
    """A Latin-1 file name from an old archive: ids and messages get U+FFFD instead of failing to print."""
    name = os.fsdecode(b"caf\xe9.txt")
    (tmp_path / name).write_text(GOOD, encoding="utf-8")
    [doc] = load_documents([str(tmp_path / name)])
    assert doc.id == "caf\ufffd" and doc.source_name.endswith("caf\ufffd.txt")
    json.dumps([doc.id, doc.source_name], ensure_ascii=False).encode("utf-8")  # printable, writable
    [error] = load_documents([str(tmp_path / os.fsdecode(b"missing-\xe9.txt"))])
    str(error).encode("utf-8")


def test_stdin_and_a_file_named_stdin_do_not_collide(tmp_path):
    path = write(tmp_path / "stdin.txt", GOOD)
    from translate_kit.documents import assign_ids

    ids = assign_ids(["-", path])
    assert len(set(ids.values())) == 2


# --- unwritable output -------------------------------------------------------------------------


def test_unwritable_out_fails_before_any_model_work(offline_hub, tmp_path, monkeypatch):
    from translate_kit.runtime import torch as models

    loads = []
    monkeypatch.setattr(models, "load", lambda *a, **k: loads.append(a) or pytest.fail("model loaded"))
    blocker = write(tmp_path / "a-file", "not a folder")
    result = tk(str(SEEDS / "004_895ec00cc8f7060a.txt"), "--out", str(blocker / "out"))
    assert result.exit_code == 1 and not loads
    assert result.stderr.strip().startswith(f"tk: {blocker / 'out'}: cannot write output here")
    assert len(result.stderr.strip().splitlines()) == 1


def test_interrupted_write_leaves_neither_target_nor_temp(tmp_path):
    """A document interrupted after its first part was written: the temporary files go, no output appears."""
    doc = Document(id="doc", text="Une phrase. Une autre.")
    first = DocResult("doc", "doc.txt", "fr", "en", document=doc, segments=segment_document(doc, "fr"), final=False)
    with pytest.raises(KeyboardInterrupt), DocumentOutputs(get_writers("all"), first, tmp_path) as outputs:
        outputs.add(first)
        written = sorted(p.name for p in tmp_path.iterdir())
        raise KeyboardInterrupt
    assert len(written) == 7 and all(name.startswith(".doc.fr-en.") and name.endswith(".part") for name in written)
    assert list(tmp_path.iterdir()) == []


# --- signals -----------------------------------------------------------------------------------


def cached_rows(cache_dir: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{cache_dir / DB_NAME}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM entries").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_exits_130_and_keeps_finished_batches(offline_hub, tmp_path, signum):
    cache_dir, out = tmp_path / "cache", tmp_path / "out"
    env = {**os.environ, "TK_CACHE_DIR": str(cache_dir), "TK_BACKEND": "torch"}
    args = [*tk_command(), "translate", str(SEEDS / "000_ae0e0f836b3a6ef8.txt"), str(SEEDS / "004_895ec00cc8f7060a.txt"),
            "--out", str(out), "--batch-tokens", "64", "--beams", "1", "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 300
    while cached_rows(cache_dir) < 1 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the signal; make batches smaller"
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [stderr.strip()] and stderr.startswith("tk: interrupted")
    kept = cached_rows(cache_dir)
    assert kept >= 1
    leftovers = [p.name for p in out.rglob("*")] if out.exists() else []
    assert not [n for n in leftovers if n.endswith(".part")]
    for name in leftovers:  # anything written is complete
        if name.endswith(".jsonl"):
            rows = jsonl(out / name)
            source = next(p for p in SEEDS.iterdir() if name.startswith(p.stem))
            assert "".join(r["source"] + r["space_after"] for r in rows) == source.read_text(encoding="utf-8")

    rerun = subprocess.run([*args, "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert sum(d["cached"] for d in report["documents"]) == kept  # every finished batch served from cache


# --- out of memory -----------------------------------------------------------------------------


def _oom(monkeypatch, fails) -> list[int]:
    """Engine.generate raises CUDA's out-of-memory error when `fails(texts)`; the real model otherwise."""
    import torch

    sizes = []
    original = Engine.generate

    def generate(self, texts, **overrides):
        sizes.append(len(texts))
        if fails(texts):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, texts, **overrides)

    monkeypatch.setattr(Engine, "generate", generate)
    return sizes


def _translate(paths, **run) -> list:
    docs = load_documents([str(p) for p in paths])
    return list(translate(docs, "en", src="fr", decode=DecodeOptions(beams=1, backend="torch"),
                          run=RunOptions.from_env(use_cache=False, **run)))


SHORT_ARTICLE = ("Le gouvernement a présenté un plan. Les syndicats le rejettent. Le ministre répond demain. "
                 "La presse en parle beaucoup.\n\nLes députés voteront mardi. Le texte peut encore changer.\n")
CULPRIT = "L'envoi de troupes au sol ne doit pas être exclu, a dit le président."


def test_out_of_memory_halves_batches_and_keeps_order(offline_hub, tmp_path, monkeypatch, caplog):
    doc = write(tmp_path / "article.txt", SHORT_ARTICLE)
    expected = [[s.target for s in r.segments] for r in _translate([doc])]
    sizes = _oom(monkeypatch, lambda texts: len(texts) > 2)
    monkeypatch.setattr(logging.getLogger("translate_kit"), "handlers", [caplog.handler])  # whatever the CLI set up
    caplog.set_level(logging.WARNING, logger="translate_kit")
    results = _translate([doc])
    assert [[s.target for s in r.segments] for r in results] == expected
    assert max(sizes) > 2 and sizes.count(1) + sizes.count(2) > 0  # backed off to batches that fit
    assert "out of memory on a batch" in caplog.text


def test_out_of_memory_on_one_segment_fails_only_its_document(offline_hub, tmp_path, monkeypatch):
    culprit_doc = write(tmp_path / "culprit.txt", f"Une phrase avant. {CULPRIT} Une phrase après.\n")
    other_doc = write(tmp_path / "other.txt", SHORT_ARTICLE)
    sizes = _oom(monkeypatch, lambda texts: CULPRIT in texts)
    failed, other = _translate([culprit_doc, other_doc])
    message = str(failed.error)  # typed until a caller formats it
    assert message.startswith(f"{culprit_doc}: out of memory on a single segment (") and "\n" not in message
    assert CULPRIT[:40] in message
    assert other.error is None and all(s.target for s in other.segments if s.kind == "text")
    assert sizes.count(1) > 1  # backed off to the single segment before giving up on it


# --- model files ---------------------------------------------------------------------------------


def _private_hub(hub, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the session's test hub that this test may damage, with every lookup pointed at it."""
    from huggingface_hub import constants

    home = tmp_path / "hf"
    shutil.copytree(hub.hf_home, home, symlinks=True)
    cache = str(home / "hub")
    for name, value in {"HF_HOME": str(home), "HF_HUB_CACHE": cache}.items():
        monkeypatch.setenv(name, value)
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(constants, "HUGGINGFACE_HUB_CACHE", cache)
    return home / "hub"


@pytest.mark.parametrize("damage, backend", [
    ("truncated", "torch"), ("missing", "torch"), ("truncated", "ct2"), ("missing", "ct2"),
])
def test_damaged_model_files_name_the_repo_and_the_fix(offline_hub, tmp_path, monkeypatch, damage, backend):
    monkeypatch.setenv("TK_BACKEND", backend)
    repo = _private_hub(offline_hub, tmp_path, monkeypatch) / "models--Helsinki-NLP--opus-mt-fr-en"
    # no other tier to fall back on (issue 26: a pair whose model is not here uses another tier that is)
    shutil.rmtree(repo.parent / "models--Helsinki-NLP--opus-mt-tc-big-fr-en")
    weights = next((repo / "snapshots").iterdir()) / "model.safetensors"
    if damage == "truncated":
        blob = weights.resolve()
        data = blob.read_bytes()
        blob.write_bytes(data[: len(data) // 3])
    else:
        weights.unlink()
    doc = write(tmp_path / "doc.txt", GOOD)
    result = tk(str(doc), "--from", "fr", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert_clean(result.stderr)
    [line] = error_lines(result.stderr)
    assert line.startswith(f"tk: {doc}: ") and "Helsinki-NLP/opus-mt-fr-en" in line and "tk models pull" in line
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# --- degenerate output ---------------------------------------------------------------------------

LOOPING = "Le chat dort sur le canapé."


def _degenerate(monkeypatch, bad_output: str) -> list:
    """The model loops on LOOPING with its normal decoding; the anti-repetition retry runs for real."""
    calls = []
    original = Engine.generate

    def generate(self, texts, **overrides):
        calls.append((list(texts), overrides))
        outputs, scores = original(self, texts, **overrides)
        if not overrides:
            outputs = [bad_output if t == LOOPING else o for t, o in zip(texts, outputs)]
        return outputs, scores

    monkeypatch.setattr(Engine, "generate", generate)
    return calls


@pytest.mark.parametrize("bad_output, flag", [
    ("the the the the the the the the the the the the", "repetition"),
    ("", "empty"),
    ("The cat sleeps on the sofa, and then the dog and the cat and the bird go to the market every day.", "length"),
])
def test_degenerate_output_is_retried_flagged_and_cached(offline_hub, tmp_path, monkeypatch, torch_engine, bad_output, flag):
    calls = _degenerate(monkeypatch, bad_output)
    doc = write(tmp_path / "doc.txt", f"{LOOPING} Il fait beau aujourd'hui.\n\nLe chien joue dans le jardin.\n")
    out = tmp_path / "out"
    code, report, stderr = tk_json(str(doc), "--from", "fr", "--out", str(out), "--format", "jsonl,md")
    assert code == 0, stderr
    retries = [(texts, o) for texts, o in calls if o]
    assert retries == [([LOOPING], {"no_repeat_ngram_size": 3, "repetition_penalty": 1.3})]
    assert report["documents"][0]["flagged"] == 1
    rows = jsonl(out / "doc.fr-en.jsonl")
    [flagged] = [r for r in rows if r.get("flag")]
    assert flagged["source"] == LOOPING and flagged["flag"] == flag and flagged["target"] != bad_output
    md = (out / "doc.fr-en.md").read_text(encoding="utf-8")
    (row,) = [line for line in md.splitlines() if line.startswith(f"| {LOOPING} |")]
    # the flag column carries the verdict and its reasons (issue 24), the flag among them
    from translate_kit.checks.verdict import DEGENERATE

    assert row.split(" | ")[-1].startswith(("⚠ check: ", "⚠ doubt: ")) and DEGENERATE[flag].detail in row.split(" | ")[-1]
    assert f"- **Flags:** ⚠ marks a sentence to check. {flag}: " in md

    calls.clear()
    code, report, _ = tk_json(str(doc), "--from", "fr", "--out", str(out), "--format", "jsonl")
    assert code == 0 and not calls  # from the cache, flag included
    assert report["documents"][0]["flagged"] == 1 and report["documents"][0]["cached"] == 3


def test_no_letters_are_copied_not_translated(offline_hub, tmp_path, spy):
    lines = ["https://example.org/a-b", "ℹ️", "12 000", "😀 🎉", "contact@example.org", "Le chat dort."]
    doc = write(tmp_path / "doc.txt", "\n\n".join(lines) + "\n")
    code, report, stderr = tk_json(str(doc), "--from", "fr", "--out", str(tmp_path / "out"), "--format", "jsonl")
    assert code == 0, stderr
    assert [t for texts, _, _ in spy for t in texts] == ["Le chat dort."]
    rows = jsonl(tmp_path / "out" / "doc.fr-en.jsonl")
    assert [(r["target"], r["origin"]) for r in rows[:5]] == [(line, "copy") for line in lines[:5]]
    assert report["documents"][0]["copied"] == 5


@pytest.mark.parametrize("source, target, expected", [
    ("Le chat dort.", "The cat is sleeping.", None),
    ("Non, non, non !", "No, no, no!", None),  # the source repeats itself: not a loop
    ("Le chat dort.", "the the the the the the", "repetition"),
    ("Il a dit que la guerre est finie.", "He said that the war is over over over over.", "repetition"),
    ("Une phrase.", "of the of the of the of the", "repetition"),
    ("Bonjour.", "", "empty"),
    ("Bonjour.", " … ", "empty"),
    ("Oui.", "Yes, yes, I am going to go to the market tomorrow with all my friends.", "length"),
    ("Le président a annoncé hier une série de mesures importantes.", "The.", "length"),
    ("Merci.", "Thank you.", None),
    ("中国政府今天宣布了新的经济政策。", "The Chinese government announced a new economic policy today.", None),
    ("— … —", "", None),  # nothing to judge without letters or digits (copied anyway)
    ("12 000", "", "empty"),
])
def test_quality_checks(source, target, expected):
    from translate_kit import quality

    assert quality.problem(source, target) == expected


def test_quality_keeps_the_better_output_and_the_flag():
    from translate_kit import quality

    assert quality.choose("Le chat dort.", "the the the the the", "The cat sleeps.") == ("The cat sleeps.", "repetition")
    assert quality.choose("Le chat dort.", "the the the the the", "the the the the the the the") == (
        "the the the the the", "repetition")
