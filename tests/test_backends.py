"""Both backends (torch and CTranslate2) on the tiny models: same contract, separate cache keys.

The fr-en model of the test hub is a tiny Marian trained to copy its input, so alignment can be
checked (every target resembles its own source); tiny-marian-64 has 64 positions, so budgets
are exercised. The CTranslate2 tests convert these real checkpoints with the real converter.
"""

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import runtime
from translate_kit.runtime import ct2
from translate_kit.cache import NoCache
from translate_kit.cli import app
from translate_kit.runtime.ct2 import Ct2Engine
from translate_kit.runtime.torch import TorchEngine as Engine
from translate_kit.errors import ModelUnavailable, UsageError
from translate_kit.options import DecodeOptions, RunOptions
from translate_kit.translate import Translators

SEEDS = Path(__file__).parents[1] / "seeds"
BACKENDS = ["torch", "ct2"]
runner = CliRunner()

SENTENCES = [
    "Le président français a affirmé que plusieurs alliés avaient déjà accepté.",
    "Bonjour à tous.",
    "La coalition réunira des entraîneurs militaires venus de plusieurs pays européens, selon l’Élysée.",
    "Il a parlé.",
    "« Nous souhaitons avoir une coalition pour des raisons d’efficacité », a-t-il déclaré.",
]


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


@pytest.fixture
def batches(monkeypatch):
    """Every batch at either engine's model boundary: (backend, input token counts, output bound)."""
    calls = []
    torch_generate, ct2_options = Engine.generate, Ct2Engine.options

    def torch_spy(self, texts, **overrides):
        lengths = self.count_tokens(texts)
        calls.append(("torch", lengths, self.max_new_tokens(max(lengths))))
        return torch_generate(self, texts, **overrides)

    def ct2_spy(self, batch, **overrides):
        opts = ct2_options(self, batch, **overrides)
        calls.append(("ct2", [len(p) for p in batch], opts["max_decoding_length"]))
        return opts

    monkeypatch.setattr(Engine, "generate", torch_spy)
    monkeypatch.setattr(Ct2Engine, "options", ct2_spy)
    return calls


def engine_for(backend: str, model: str | None = None, beams: int | None = 1) -> Engine:
    translators = Translators(DecodeOptions(beams=beams, backend=backend), RunOptions.from_env(), NoCache(), model)
    return translators.get("fr", "en").engine


def run_all(engine: Engine, texts: list[str], **overrides) -> dict[int, str]:
    out = {}
    for positions, outputs, _ in engine.run(texts, **overrides):
        assert not set(positions) & set(out)  # every position once
        out.update(zip(positions, outputs))
    return out


def tk(*args, **env):
    return runner.invoke(app, ["translate", *args], env=env or None)


# --- choosing the backend ------------------------------------------------------------------


@pytest.mark.parametrize("requested, device, expected", [
    ("auto", "cpu", "ct2"), ("auto", "cuda", "torch"), ("auto", "cuda:1", "torch"), ("auto", "mps", "torch"),
    ("torch", "cpu", "torch"), ("ct2", "cpu", "ct2"), ("ct2", "cuda", "ct2"),
])
def test_choose_backend(requested, device, expected):
    assert runtime.choose_backend(requested, device) == expected


def test_bad_backends_are_usage_errors():
    with pytest.raises(UsageError, match="unknown backend 'onnx'; known: auto, torch, ct2"):
        DecodeOptions(backend="onnx")
    with pytest.raises(UsageError, match="ct2 runs on cpu or cuda"):
        runtime.choose_backend("ct2", "mps")


def test_backend_precedence_defaults_env_flag(monkeypatch):
    monkeypatch.delenv("TK_BACKEND", raising=False)
    assert DecodeOptions().backend == "auto"
    monkeypatch.setenv("TK_BACKEND", "torch")
    assert DecodeOptions().backend == "torch"  # read when the options are made, not at import
    assert DecodeOptions(backend="ct2").backend == "ct2"


@pytest.mark.parametrize("precision, expected", [("auto", "int8"), ("int8", "int8"), ("fp32", "float32")])
def test_compute_type_on_cpu(precision, expected):
    assert ct2.compute_type("cpu", precision) == expected


def test_unsupported_precision_names_the_choices():
    with pytest.raises(UsageError, match=r"--precision fp16 is not available with backend ct2 on cpu; choose one of: .*int8"):
        ct2.compute_type("cpu", "fp16")


# --- conversion ----------------------------------------------------------------------------


def test_converted_once_into_the_cache_dir(offline_hub, monkeypatch):
    cache_dir = RunOptions.from_env().cache_dir
    first = engine_for("ct2")
    sha = offline_hub.shas["Helsinki-NLP/opus-mt-fr-en"]
    folder = cache_dir / "ct2" / f"Helsinki-NLP--opus-mt-fr-en--{sha}--int8"
    assert first.model.folder == folder and (folder / "model.bin").is_file()
    assert "<pad>" not in json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))

    def no_second_conversion(*args):
        raise AssertionError("converted twice")

    monkeypatch.setattr(ct2, "_convert", no_second_conversion)
    assert engine_for("ct2").model.folder == folder


def test_interrupted_conversion_leaves_nothing_that_looks_complete(offline_hub, monkeypatch):
    from ctranslate2.converters import TransformersConverter

    def interrupted(self, output_dir, **kwargs):
        (Path(output_dir) / "model.bin").write_bytes(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(TransformersConverter, "convert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine_for("ct2")
    ct2_dir = RunOptions.from_env().cache_dir / "ct2"
    assert list(ct2_dir.iterdir()) == []  # neither a target folder nor a leftover temporary one
    monkeypatch.undo()


def test_conversion_failure_is_a_model_error(offline_hub, tmp_path):
    broken = tmp_path / "broken-marian"
    broken.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer_config.json", "vocab.json"):
        (broken / name).write_bytes((offline_hub.copy_model / name).read_bytes())  # no source.spm / target.spm
    with pytest.raises(ModelUnavailable, match="missing source.spm, target.spm.*--backend torch"):
        engine_for("ct2", model=str(broken))


# --- the same contract ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_kind_and_resolved_options(offline_hub, backend):
    engine = engine_for(backend)
    assert type(engine) is (Ct2Engine if backend == "ct2" else Engine)
    assert engine.decode.backend == backend
    assert engine.decode.precision == ("int8" if backend == "ct2" else "fp32")
    assert engine.max_input_tokens == 512 and engine.beams == 1
    assert engine.loaded.revision == offline_hub.shas["Helsinki-NLP/opus-mt-fr-en"]
    assert engine_for(backend, beams=None).beams == 4  # the model's own generation config


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_aligned_with_their_sources(offline_hub, backend):
    engine = engine_for(backend)
    out = run_all(engine, SENTENCES)
    assert sorted(out) == list(range(len(SENTENCES)))
    for i, source in enumerate(SENTENCES):
        best = max(range(len(SENTENCES)), key=lambda j: similarity(out[i], SENTENCES[j]))
        assert best == i, (source, out[i])
    assert engine.calls >= 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_greedy_batched_equals_one_at_a_time(offline_hub, backend):
    engine = engine_for(backend)
    texts = SENTENCES * 2 + [s.upper() for s in SENTENCES]
    batched = run_all(engine, texts, max_length=48)
    calls = engine.calls
    single = [engine.generate([t], max_length=48)[0][0] for t in texts]
    assert engine.calls - calls == len(texts) and calls < len(texts)
    assert [batched[i] for i in range(len(texts))] == single


def scored(engine: Engine, texts: list[str], **overrides) -> dict[int, tuple[str, float]]:
    out = {}
    for positions, outputs, scores in engine.run(texts, **overrides):
        out.update((i, (o, s)) for i, o, s in zip(positions, outputs, scores))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("beams", [1, 3])
def test_every_output_has_a_score_and_batching_keeps_it(offline_hub, backend, beams):
    """Each output's score is a mean log-probability (a float <= 0), the same (within 1e-4) whether
    its sentence was decoded in a batch or alone: greedy and beam search, both backends (fp32)."""
    engine = Translators(DecodeOptions(beams=beams, backend=backend, precision="fp32"), RunOptions.from_env(),
                         NoCache()).get("fr", "en").engine
    texts = SENTENCES + [s.upper() for s in SENTENCES]
    batched = scored(engine, texts, max_length=48)
    assert engine.calls < len(texts)  # some sentences did share a batch
    for i, text in enumerate(texts):
        (output,), (score,) = engine.generate([text], max_length=48)
        assert isinstance(batched[i][1], float) and -50 < batched[i][1] <= 0
        assert batched[i][0] == output and abs(batched[i][1] - score) < 1e-4, (text, batched[i], score)


@pytest.mark.parametrize("backend", BACKENDS)
def test_greedy_score_is_the_mean_log_probability_of_the_output(offline_hub, backend):
    """The generation score equals forced decoding of the same output (Engine.score_pairs: ct2
    score_batch, torch a forward pass with labels): both are the mean token log-probability, end
    token included, whatever each backend reports natively (ct2 divides by length ** penalty)."""
    engine = Translators(DecodeOptions(beams=1, backend=backend, precision="fp32"), RunOptions.from_env(),
                         NoCache()).get("fr", "en").engine
    outputs, scores = engine.generate(SENTENCES[:4])
    forced = engine.score_pairs(SENTENCES[:4], outputs)
    assert all(s < 0 for s in scores)
    assert forced == pytest.approx(scores, abs=2e-3)
    other = engine.score_pairs(SENTENCES[:4], list(reversed(outputs)))  # someone else's, wrong translations
    assert sum(other) < sum(forced)


@pytest.mark.parametrize("backend", BACKENDS)
def test_budgets_on_a_64_position_model(offline_hub, backend, batches, monkeypatch):
    monkeypatch.setenv("TK_BATCH_TOKENS", "160")
    engine = engine_for(backend, model=str(offline_hub.tiny_marian_64))
    assert engine.max_input_tokens == 64 and engine.budget == 160
    texts = [" ".join(SENTENCES)[:n] for n in (10, 40, 80, 120, 160)] * 3
    assert max(engine.count_tokens(texts)) <= 64
    out = run_all(engine, texts)
    assert len(out) == len(texts) and len(batches) > 1
    assert {b for b, _, _ in batches} == {backend}
    for _, lengths, bound in batches:
        assert max(lengths) <= 64 and bound == min(2 * max(lengths) + 16, 63)  # output bound per batch
        assert len(lengths) == 1 or len(lengths) * max(lengths) <= 160  # the token budget


def test_ct2_output_length_bound(offline_hub):
    """tiny-marian-64 is random and never stops by itself: outputs end at the per-batch bound."""
    engine = engine_for("ct2", model=str(offline_hub.tiny_marian_64))
    text = "Bonjour à tous."
    bound = engine.max_new_tokens(engine.count(text))
    result = engine.translator.translate_batch(engine.pieces([text]), **engine.options(engine.pieces([text])))
    assert len(result[0].hypotheses[0]) <= bound


@pytest.mark.parametrize("backend", BACKENDS)
def test_tk_translate_aligned_and_cached(offline_hub, tmp_path, backend, batches):
    out = tmp_path / "out"
    first = tk(str(SEEDS / "000_ae0e0f836b3a6ef8.txt"), "--out", str(out), "--json", "-q", "--beams", "1",
               "--backend", backend)
    assert first.exit_code == 0, first.output
    (doc,) = json.loads(first.stdout)["documents"]
    assert doc["translated"] > 0 and doc["cached"] == 0
    rows = [json.loads(line) for line in (out / "000_ae0e0f836b3a6ef8.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
    text_rows = [r for r in rows if r["kind"] == "text"]
    sources = [r["source"].strip() for r in text_rows]
    hits = sum(max(range(len(sources)), key=lambda j: similarity(r["target"], sources[j])) == i
               for i, r in enumerate(text_rows))
    assert hits >= 0.9 * len(text_rows)
    assert [(r["para"], r["seg"]) for r in rows] == sorted((r["para"], r["seg"]) for r in rows)
    assert {b for b, _, _ in batches} == {backend}

    calls = len(batches)
    again = tk(str(SEEDS / "000_ae0e0f836b3a6ef8.txt"), "--out", str(out), "--json", "-q", "--beams", "1",
               "--backend", backend)
    (doc,) = json.loads(again.stdout)["documents"]
    assert doc["translated"] == 0 and doc["cached"] == len(text_rows) - doc["duplicates"]
    assert len(batches) == calls  # nothing reached a model


def test_cache_keys_differ_between_backends(offline_hub, tmp_path, batches):
    seed = str(SEEDS / "001_61284d4cebeaa770.txt")
    reports = {}
    for backend in ["torch", "ct2", "auto"]:
        result = tk(seed, "--out", str(tmp_path / backend), "--json", "-q", "--beams", "1", "--backend", backend)
        assert result.exit_code == 0, result.output
        (reports[backend],) = json.loads(result.stdout)["documents"]
    assert reports["torch"]["translated"] > 0
    assert reports["ct2"]["translated"] == reports["torch"]["translated"]  # torch's entries are not ct2's
    assert reports["auto"]["translated"] == 0  # auto resolved to ct2 on a CPU: ct2's entries are found
    signatures = {b: Translators(DecodeOptions(beams=1, backend=b), RunOptions.from_env(), NoCache()).get("fr", "en").signature
                  for b in ["torch", "ct2", "auto"]}
    assert signatures["torch"] != signatures["ct2"] == signatures["auto"]


def test_env_and_flag_select_torch(offline_hub, tmp_path, batches):
    seed = str(SEEDS / "002_dbf491fe7e5991d8.txt")
    assert tk(seed, "--out", str(tmp_path / "a"), "-q", "--beams", "1", TK_BACKEND="torch").exit_code == 0
    assert batches and {b for b, _, _ in batches} == {"torch"}
    assert not (RunOptions.from_env().cache_dir / "ct2").exists()  # nothing converted
    batches.clear()
    result = tk(seed, "--out", str(tmp_path / "b"), "-q", "--beams", "1", "--no-cache", "--backend", "torch",
                TK_BACKEND="ct2")
    assert result.exit_code == 0 and {b for b, _, _ in batches} == {"torch"}  # the flag wins


def test_unknown_backend_is_a_usage_error(offline_hub, tmp_path):
    result = tk(str(SEEDS / "000_ae0e0f836b3a6ef8.txt"), "--out", str(tmp_path), "--backend", "onnx")
    assert result.exit_code == 2
    assert "tk: unknown backend 'onnx'; known: auto, torch, ct2" in result.output


@pytest.mark.parametrize("requested, backend", [("cpu", "ct2"), ("auto", "auto"), ("cpu", "auto")])
def test_cpu_device_for_ct2_found_without_torch(requested, backend):
    code = (f"import sys; from translate_kit.runtime import devices; d = devices.choose_device({requested!r}, {backend!r}); "
            "print(d, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["cpu", "False"]  # this machine has no CUDA device


def test_cached_rerun_never_imports_torch(offline_hub, tmp_path):
    """A re-run whose segments are all cached must stay fast: no torch import (2-3 s) on the ct2 path."""
    seed = str(SEEDS / "003_9c30f3eff2624f5c.txt")
    assert tk(seed, "--out", str(tmp_path / "a"), "-q", "--beams", "1", "--backend", "ct2").exit_code == 0
    code = ("import runpy, sys\n"
            f"sys.argv = ['tk', 'translate', {seed!r}, '--out', {str(tmp_path / 'b')!r}, '-q', '--json', '--beams', '1']\n"
            "try:\n    runpy.run_module('translate_kit', run_name='__main__')\n"
            "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "print('torch imported:', 'torch' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert done.returncode == 0, done.stderr
    (doc,) = json.loads(done.stdout)["documents"]
    assert doc["translated"] == 0 and doc["cached"] > 0
    assert "torch imported: False" in done.stderr


def test_ct2_out_of_memory_backs_off(offline_hub, monkeypatch):
    """A CUDA out-of-memory from CTranslate2 halves the batch down to what fits, never crashes."""
    engine = engine_for("ct2")
    texts = SENTENCES * 3
    expected = run_all(engine, texts)
    submit, generate = Ct2Engine._submit, Ct2Engine.generate
    oom = RuntimeError("CUDA failed with error out of memory")

    class Failing:
        def result(self):
            raise oom

    failed = []

    def submit_failing_big(self, batch, overrides):
        if len(batch) > 2:
            failed.append(len(batch))
            return [Failing() for _ in batch], {}
        return submit(self, batch, overrides)

    def generate_failing_big(self, batch_texts, **overrides):
        if len(batch_texts) > 2:
            raise oom
        return generate(self, batch_texts, **overrides)

    monkeypatch.setattr(Ct2Engine, "_submit", submit_failing_big)
    monkeypatch.setattr(Ct2Engine, "generate", generate_failing_big)
    assert run_all(engine, texts) == expected
    assert failed  # the planned batches did fail, and were halved
