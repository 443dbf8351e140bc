"""The model service (translators.py, runtime/): one resolution, readable signatures, the summarizer
on CTranslate2, fully cached runs that load nothing, damaged conversions reconverted, progress.

Models: the test hub's tiny copy Marian (fr-en, en-fr) and tiny random BART summarizer (128
positions). Assertions are on structure: which backend ran, what the cache key says, which
modules a process imported, what a damaged folder became.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import runtime as backends
from translate_kit.runtime import ct2
from translate_kit.cache import NoCache
from translate_kit.cli import app
from translate_kit.errors import DocumentFailed, ModelUnavailable, UsageError
from translate_kit.options import DecodeOptions, RunOptions
from translate_kit.translators import Progress, Translation, Translators

SEEDS = Path(__file__).parents[1] / "seeds"
SEED = str(SEEDS / "003_9c30f3eff2624f5c.txt")
runner = CliRunner()


def service(backend="auto", precision="auto", progress=None, **decode) -> Translators:
    return Translators(DecodeOptions(backend=backend, precision=precision, **decode), RunOptions.from_env(), NoCache(),
                       progress=progress)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """003 cut to three paragraphs: several summarizer Windows with the 128-position BART."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    lines = Path(SEED).read_text(encoding="utf-8").splitlines()
    (folder / "003_otan.txt").write_text(" date 2024-06 \n" + "\n\n".join(lines[:3]) + "\n", encoding="utf-8")
    return folder


# --- one resolution, read by everyone --------------------------------------------------------


def test_registry_entries_share_one_shape():
    for name in backends.REGISTRY:
        module = backends.get(name)
        assert module.NAME == name and module.available() in (True, False)
        assert all(callable(getattr(module, f)) for f in ("available", "preferred", "precision", "engine"))
    with pytest.raises(UsageError, match="unknown backend 'onnx'; known: auto, torch, ct2"):
        backends.get("onnx")


@pytest.mark.parametrize("backend, precision, expected", [
    ("auto", "auto", ("ct2", "cpu", "int8")), ("ct2", "fp32", ("ct2", "cpu", "float32")),
    ("torch", "auto", ("torch", "cpu", "fp32")), ("torch", "int8", ("torch", "cpu", "int8")),
])
def test_resolved_once_into_a_frozen_object(backend, precision, expected):
    resolved = backends.resolve(backend, "cpu", precision)
    assert (resolved.backend, resolved.device, resolved.precision) == expected
    with pytest.raises(AttributeError):
        resolved.backend = "torch"  # frozen


def test_engine_signature_and_report_read_the_same_resolution(offline_hub):
    translators = service(beams=1)
    translator = translators.get("fr", "en")
    resolved = translators.resolved
    engine = translator.engine
    assert (engine.decode.backend, engine.decode.precision) == (resolved.backend, resolved.precision)
    assert f"backend:{resolved.backend}|precision:{resolved.precision}|beams:1" in translator.signature_text
    assert translator.signature == translator.sig.key and len(translator.signature) == 32


def test_doctor_reports_what_auto_resolves_to(offline_hub):
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    auto = json.loads(result.stdout)["auto"]
    resolved = backends.resolve("auto", "auto", "auto")
    assert (auto["backend"], auto["device"], auto["precision"]) == (resolved.backend, resolved.device, resolved.precision)
    assert auto["backend"] == "ct2" and auto["precision"] == "int8"  # this CPU machine, ctranslate2 installed


# --- readable signatures -----------------------------------------------------------------------


def test_signature_readable_in_json_and_headers(offline_hub, tmp_path):
    result = runner.invoke(app, ["translate", SEED, "--out", str(tmp_path), "--json", "-q", "--beams", "2"])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["signature"].startswith("task:translate|backend:ct2|precision:int8|beams:2|")
    header = (tmp_path / "003_9c30f3eff2624f5c.fr-en.md").read_text(encoding="utf-8").split("\n\n|")[0]
    assert f"- **Signature:** {doc['signature'].replace('|', chr(92) + '|')}" in header  # a table-safe cell
    default = service().get("fr", "en")
    assert "beams:4|" in default.signature_text  # the model's own generation config, not "None"


def test_summary_bounds_are_inside_the_signature(offline_hub):
    summarizer = service().summarizer("summarizer")
    short, medium = summarizer.signature_for((10, 30)), summarizer.signature_for((20, 48))
    assert "min:10|max:30" in short.text and short.key != medium.key


# --- typed results -------------------------------------------------------------------------------


def test_results_are_typed(offline_hub):
    done = service(beams=1).get("fr", "en").translate_texts(["Bonjour à tous."], lambda n: None)
    (result,) = done.values()
    assert isinstance(result, Translation) and result.origin == "model" and result.error is None
    with pytest.raises(AttributeError):
        result.target = "x"


def test_document_errors_stay_typed_until_the_cli(offline_hub, monkeypatch):
    from translate_kit.documents import read_document
    from translate_kit.translate import translate

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (result,) = translate([read_document(Path(SEED))], "en", src="fr", model="org/not-in-the-cache")
    assert isinstance(result.error, DocumentFailed) and isinstance(result.error.cause, ModelUnavailable)
    assert str(result.error).startswith(f"{result.source_name}: ")


# --- the summarizer on CTranslate2 -----------------------------------------------------------------


def test_summarizer_runs_on_ct2_by_default_on_cpu(offline_hub, corpus):
    result = runner.invoke(app, ["summarize", "003", "--corpus", str(corpus), "--json", "-q"])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    row = next(m for m in doc["models"] if m["role"] == "summarizer")
    assert row["signature"].startswith("task:summarize|backend:ct2|precision:int8|beams:4|")
    sha = offline_hub.shas["sshleifer/distilbart-cnn-12-6"]
    assert (RunOptions.from_env().cache_dir / "ct2" / f"sshleifer--distilbart-cnn-12-6--{sha}--int8" / "model.bin").is_file()


def test_summarizer_ct2_honours_the_generation_settings(offline_hub):
    """Greedy, fp32 on both backends: CTranslate2 gives transformers' output token for token,
    with the model's forced `<s>`, its no-repeat 3-grams and summaries' min/max lengths."""
    texts = ["The president said that several allies had already agreed to send trainers to the country."]
    outputs = {}
    for backend in ("torch", "ct2"):
        engine = service(backend, "fp32").summarizer("summarizer").engine
        outputs[backend] = [o for _, batch, _ in engine.run(texts, num_beams=1, min_length=10, max_length=30) for o in batch]
    assert outputs["torch"] == outputs["ct2"]
    engine = service("ct2").summarizer("summarizer").engine
    opts = engine.options(engine.pieces(texts), min_length=10, max_length=30)
    assert (opts["beam_size"], opts["length_penalty"], opts["no_repeat_ngram_size"]) == (4, 2.0, 3)
    assert engine.prefix(1) == [["<s>"]]
    forced = engine.options(engine.pieces(texts), min_length=20, max_length=20)  # min = max: a forced length
    assert forced["min_decoding_length"] == forced["max_decoding_length"] == 18  # start and forced end not counted
    assert [o for _, batch, _ in engine.run(texts, min_length=20, max_length=20) for o in batch]


def test_hypotheses_are_the_beam_best_first_on_both_backends(offline_hub):
    """Engine.hypotheses (tk serve's alternatives): k translations per text, the first the one
    generate() gives at the same beam; a beam narrower than k is widened to k."""
    texts = ["Les syndicats appellent à la grève.", "La ministre défend la réforme devant l'Assemblée."]
    for backend in ("torch", "ct2"):
        engine = service(backend, "fp32").get("fr", "en").engine
        assert engine.beams == 4
        found = engine.hypotheses(texts, 3)
        assert [len(h) for h in found] == [3, 3] and [h[0] for h in found] == engine.generate(texts)[0]
        assert [len(h) for h in service(backend, "fp32", beams=1).get("fr", "en").engine.hypotheses(texts, 2)] == [2, 2]


def test_fully_cached_summarize_loads_no_model(offline_hub, corpus):
    args = ["summarize", "003", "--corpus", str(corpus), "--json", "-q"]
    assert runner.invoke(app, args).exit_code == 0
    code = ("import runpy, sys\n"
            f"sys.argv = ['tk', *{args!r}]\n"
            "try:\n    runpy.run_module('translate_kit', run_name='__main__')\n"
            "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "heavy = ('torch', 'transformers', 'huggingface_hub', 'pydantic', 'tqdm')  # start-up cost of a warm run\n"
            "print('imported:', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stderr
    (doc,) = json.loads(done.stdout)["documents"]
    assert doc["sentences"] and doc["rounds"] >= 1


# --- derived data: a damaged conversion is moved aside and made again ------------------------------


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_conversion_is_reconverted(offline_hub, tmp_path, damage, caplog):
    args = ["translate", SEED, "--out", str(tmp_path / "a"), "--beams", "1", "--no-cache"]
    assert runner.invoke(app, args).exit_code == 0
    (folder,) = (RunOptions.from_env().cache_dir / "ct2").iterdir()
    model = folder / "model.bin"
    if damage == "truncate":
        model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    else:
        model.write_bytes(b"\0" * model.stat().st_size)  # same size: only the checksum tells
    result = runner.invoke(app, [*args[:3], str(tmp_path / "b"), *args[4:]])
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output and "converting it again" in result.output
    names = sorted(p.name for p in folder.parent.iterdir())
    assert names[0] == folder.name and names[1].startswith(f"{folder.name}.damaged-")
    assert ct2.verified_or_aside(folder, folder.name)  # the new conversion matches its checksums


def test_conversion_that_does_not_load_is_reconverted(offline_hub, tmp_path, monkeypatch):
    """A conversion whose checksums match but that CTranslate2 cannot load (another version wrote
    it): moved aside on the failed load, converted again, loaded."""
    engine = service("ct2").get("fr", "en").engine
    folder = engine.model.folder
    data = (folder / "model.bin").read_bytes()
    (folder / "model.bin").write_bytes(b"\x63" + data[1:])  # "Unsupported model binary version"
    ct2.write_checksums(folder)  # recorded as if CTranslate2 itself had written these files
    fresh = service("ct2").get("fr", "en").engine
    assert [o for _, batch, _ in fresh.run(["Bonjour à tous."]) for o in batch]
    assert any(p.name.startswith(f"{folder.name}.damaged-") for p in folder.parent.iterdir())


# --- progress --------------------------------------------------------------------------------------


def test_progress_says_loading_and_converting_before_the_bar(offline_hub):
    notes = []
    translator = service(progress=Progress(note=notes.append), beams=1).get("fr", "en")
    translator.translate_texts(["Bonjour à tous."], lambda n: None)
    assert notes == ["converting Helsinki-NLP/opus-mt-fr-en for CTranslate2 (once)", "loading Helsinki-NLP/opus-mt-fr-en"]
    notes.clear()
    service(progress=Progress(note=notes.append), beams=1).get("fr", "en").translate_texts(["Salut."], lambda n: None)
    assert notes == ["loading Helsinki-NLP/opus-mt-fr-en"]  # converted once


def test_summarize_progress_counts_translation_map_and_reduce(offline_hub, corpus):
    from translate_kit.documents import load_documents
    from translate_kit.summarize import summarize

    stages, totals, done = [], [], []
    progress = Progress(add_total=totals.append, advance=done.append, stage=stages.append)
    (result,) = summarize(load_documents(["003"], corpus), progress=progress)
    assert result.error is None and result.rounds >= 2
    assert stages[0] == "summarizing" and stages[1].startswith("summarizing (reduce")
    assert sum(done) == sum(totals) > 0  # every counted unit of work was reported done


def test_summarize_bar_quiet_and_non_terminal(offline_hub, corpus):
    base = [sys.executable, "-m", "translate_kit", "summarize", "003", "--corpus", str(corpus)]
    loud = subprocess.run(base, capture_output=True, text=True, env={**os.environ})
    assert loud.returncode == 0, loud.stderr
    assert "\r" not in loud.stderr  # stderr is no terminal: nothing redraws
    quiet = subprocess.run([*base, "--quiet", "--json"], capture_output=True, text=True, env={**os.environ})
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["ok"]  # stdout holds only the report


def test_terminal_shows_loading_and_converting_before_the_bar(offline_hub, tmp_path):
    """On a terminal (a pty here) the waits are named, then the bar runs; stdout keeps only --json."""
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal has a size
    command = [sys.executable, "-m", "translate_kit", "translate", SEED, "--out", str(tmp_path), "--beams", "1", "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, env={**os.environ}) as process:
        os.close(terminal)
        screen = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            screen += chunk
        stdout = process.stdout.read()
    os.close(controller)
    text = screen.decode("utf-8", "replace")
    converting = text.index("converting Helsinki-NLP/opus-mt-fr-en for CTranslate2 (once)")
    loading = text.index("loading Helsinki-NLP/opus-mt-fr-en")
    assert converting < loading < text.rindex("translating")
    assert json.loads(stdout)["ok"]
