"""The CTranslate2 backend (Marian, BART): Engine's contract, about 4x faster than torch on a CPU.

The tokenizer, model config and generation config stay Hugging Face's; the weights are converted
once per repo, resolved revision and compute type into <cache_dir>/ct2/ (checksummed), and batches
are submitted asynchronously to several CTranslate2 workers. ctranslate2 and transformers are
imported inside functions. Why CTranslate2, and the pitfalls the guards here rely on:
docs/design.md#backends-and-ctranslate2
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import ModelUnavailable, UsageError, first_line
from ..models import ModelRef, describe_files, ensure_local, file_problems, resolved_revision
from ..options import RunOptions
from .devices import choose_device, cpu_layout, device_index
from .engine import Engine, Generated, LoadedModel, is_out_of_memory, mean_logprob, load_without_weights, plan_batches, quiet_transformers, spread_budget
from .plan import Plan

log = logging.getLogger("translate_kit")

# --precision -> CTranslate2 compute type, per device kind. "auto" is int8 on a CPU (4x less
# memory traffic than fp32, which is what bounds decoding there) and float16 on CUDA.
COMPUTE_TYPES = {
    "cpu": {"auto": "int8", "int8": "int8", "fp32": "float32", "fp16": "float16", "bf16": "bfloat16"},
    "cuda": {"auto": "float16", "int8": "int8_float16", "fp32": "float32", "fp16": "float16", "bf16": "bfloat16"},
}

# CTranslate2 runs these on every CPU it supports (x86-64 and ARM64), with or without fast int8 paths.
ALWAYS_ON_CPU = ("int8", "float32")

# Batches queued per worker: enough to keep every worker busy, few enough that an interrupted
# run loses little and memory stays flat.
QUEUED_PER_WORKER = 2


NAME = "ct2"
DEVICES = ("cpu", "cuda")


def available() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def preferred(device: str) -> bool:
    # CUDA stays torch fp16 until a GPU benchmark shows CTranslate2 faster there (none run yet).
    return device == "cpu"


def precision(device: str, requested: str) -> str:
    """--precision as CTranslate2 runs it on `device` (its compute type)."""
    return compute_type(device, requested)


def check(plan: Plan) -> None:
    """Can this machine run `plan`? (A Ray worker asks before it loads, instead of deciding again.)"""
    if not available():
        raise ModelUnavailable("the ct2 backend needs ctranslate2, which is not installed here")
    if choose_device(plan.device, NAME) != plan.device:
        raise ModelUnavailable(f"no {plan.device} device here")
    if plan.precision not in ALWAYS_ON_CPU or not plan.device.startswith("cpu"):
        import ctranslate2  # heavy: only for a compute type that may not run here

        kind = plan.device.split(":")[0]
        if plan.precision not in ctranslate2.get_supported_compute_types(kind, device_index(plan.device)):
            raise ModelUnavailable(f"CTranslate2 cannot run {plan.precision} on {plan.device} here")


def compute_type(device: str, precision: str) -> str:
    """The CTranslate2 compute type for a --precision on a device; UsageError when it cannot run there."""
    kind = device.split(":")[0]
    wanted = COMPUTE_TYPES[kind].get(precision)
    if kind == "cpu" and wanted in ALWAYS_ON_CPU:  # no import needed (a cached re-run stays light)
        return wanted
    import ctranslate2  # heavy (0.1-0.3 s): only for a compute type that may not run here

    supported = ctranslate2.get_supported_compute_types(kind, device_index(device))
    if wanted is None or wanted not in supported:
        choices = sorted(p for p, c in COMPUTE_TYPES[kind].items() if c in supported)
        raise UsageError(f"--precision {precision} is not available with backend ct2 on {device}; "
                         f"choose one of: {', '.join(choices)}")
    return wanted


# --- conversion ----------------------------------------------------------------------------


def converted_dir(root: Path, ref: ModelRef, revision: str, quantization: str) -> Path:
    """Where a converted model lives: one folder per repo, resolved revision and quantization."""
    name = Path(ref.repo).name if ref.local else ref.repo.replace("/", "--")
    return Path(root) / "ct2" / f"{name}--{revision}--{quantization}"


CHECKSUMS = "tk-checksums.json"  # written by tk at conversion: {file: {size, sha256}}


def ensure_converted(source: Path, target: Path, quantization: str, label: str, note=None) -> Path:
    """Convert the Hugging Face model in `source` into `target` once.

    The conversion writes into a temporary folder beside `target`, records every file's size and
    sha256 (CHECKSUMS), and renames it into place, so an interrupted conversion never looks
    complete, and two processes converting at once both end with the same finished folder.
    A converted folder that no longer matches its checksums (a disk error, a partial copy) is
    derived data: it is moved aside with a warning and converted again (verified_or_aside).
    """
    if (target / "model.bin").is_file() and verified_or_aside(target, label):
        return target
    (note or (lambda message: None))(f"converting {label} for CTranslate2 (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _convert(source, scratch, quantization, label)
        write_checksums(scratch)
        try:
            os.rename(scratch, target)
        except OSError:  # another process finished first: keep its folder
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def write_checksums(folder: Path) -> None:
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != CHECKSUMS)
    (folder / CHECKSUMS).write_text(json.dumps(describe_files(folder, files), indent=1), encoding="utf-8")


def verified_or_aside(folder: Path, label: str, reason: str | None = None) -> bool:
    """True when `folder` matches the checksums recorded at its conversion. Otherwise (or when a
    `reason` says its load failed) it is moved aside as `<name>.damaged-<time>` with a warning and
    False says: convert again. A folder converted before checksums were recorded gets them now."""
    if reason is None:
        try:
            expected = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
        except FileNotFoundError:
            write_checksums(folder)
            return True
        except (OSError, ValueError):
            expected = None
        problems = file_problems(folder, expected) if isinstance(expected, dict) else {CHECKSUMS: "unreadable"}
        if not problems:
            return True
        reason = "; ".join(f"{name}: {problem}" for name, problem in list(problems.items())[:2])
    aside = folder.with_name(f"{folder.name}.damaged-{int(time.time())}")
    try:
        os.rename(folder, aside)
    except OSError:  # another process moved it first
        pass
    log.warning("the CTranslate2 conversion of %s in %s is damaged (%s); moved it to %s and converting it again",
                label, folder.parent, reason, aside.name)
    return False


def _convert(source: Path, out: Path, quantization: str, label: str) -> None:
    missing = [n for n in ("source.spm", "target.spm", "vocab.json") if _is_marian(source) and not (source / n).is_file()]
    if missing:  # the converter would fail with an unhelpful TypeError (docs/design.md#pitfalls-met)
        raise ModelUnavailable(f"{label}: cannot convert to CTranslate2, missing {', '.join(missing)} in {source}; "
                               f"use --backend torch")
    from ctranslate2.converters import TransformersConverter  # heavy: only when converting

    quiet_transformers()
    _bart_defaults()
    try:
        TransformersConverter(str(source)).convert(str(out), quantization=quantization, force=True)
    except Exception as err:  # unsupported architecture, damaged weights
        raise ModelUnavailable(f"{label}: cannot convert to CTranslate2 ({type(err).__name__}: "
                               f"{first_line(err, kind=False)}); "
                               f"if its files are damaged, run `tk models pull {label}` again; "
                               f"if the architecture is not supported, use --backend torch") from err


def _bart_defaults() -> None:
    """CTranslate2's BART loader reads `config.normalize_before`, which transformers 5's
    BartConfig no longer defines (older checkpoints' config.json still carry it): BART is
    post-norm, so a config without it means False (and normalize_embedding True)."""
    from ctranslate2.converters import transformers as converters  # heavy: only when converting

    loader = getattr(converters, "_MODEL_LOADERS", {}).get("BartConfig")
    if loader is None or getattr(loader, "_tk_defaults", False):
        return
    original = loader.get_model_spec

    def get_model_spec(model):
        for name, value in (("normalize_before", False), ("normalize_embedding", True)):
            if not hasattr(model.config, name):
                setattr(model.config, name, value)
        return original(model)

    loader.get_model_spec, loader._tk_defaults = get_model_spec, True


def _is_marian(folder: Path) -> bool:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type") == "marian"
    except (OSError, ValueError):
        return False


# --- loading -------------------------------------------------------------------------------


@dataclass
class Ct2Model:
    """A converted model, loaded on first use (a run whose every segment is cached never loads it).

    `config` and `generation_config` are the Hugging Face ones, so Engine's input limit and beam
    count read exactly as for the torch backend.
    """

    folder: Path
    device: str
    compute_type: str
    workers: int
    threads: int
    config: object
    generation_config: object
    source: Path | None = None  # the Hugging Face folder it was converted from (to convert it again)
    label: str = ""
    _translator: object = field(default=None, repr=False)

    @property
    def translator(self):
        """Loaded on first use. A conversion CTranslate2 cannot load (a damaged file, another
        CTranslate2 version) is moved aside and converted again, once; then it is a model error."""
        if self._translator is None:
            try:
                self._translator = self._load()
            except Exception as err:
                if self.source is None:
                    raise ModelUnavailable(f"{self.label or self.folder}: CTranslate2 cannot load {self.folder} "
                                           f"({first_line(err)})") from err
                verified_or_aside(self.folder, self.label, reason=first_line(err))
                ensure_converted(self.source, self.folder, self.compute_type, self.label)
                try:
                    self._translator = self._load()
                except Exception as again:
                    raise ModelUnavailable(f"{self.label}: CTranslate2 cannot load its conversion in {self.folder} "
                                           f"even after converting it again ({first_line(again)}); "
                                           f"use --backend torch") from again
        return self._translator

    def _load(self):
        import ctranslate2  # heavy: only when a model is used

        return ctranslate2.Translator(
            str(self.folder), device=self.device.split(":")[0], device_index=device_index(self.device),
            compute_type=self.compute_type, inter_threads=self.workers, intra_threads=self.threads)


def load(ref: ModelRef, device: str, compute: str, run: RunOptions, note=None) -> LoadedModel:
    """repo id -> local Hugging Face cache -> converted model (once) -> a LoadedModel for Ct2Engine.

    torch is not imported on this path (after the one conversion): a re-run whose segments are
    all cached then takes ~1 s instead of ~4 s (benchmarks/bench_cache.py); see
    engine.load_without_weights for the tokenizer and configs.
    """
    path = ensure_local(ref)
    revision = resolved_revision(ref, path)
    folder = ensure_converted(path, converted_dir(run.cache_dir, ref, revision, compute), compute, ref.repo, note)
    (note or (lambda message: None))(f"loading {ref.repo}")
    light = load_without_weights(ref, path, device)
    workers, threads = cpu_layout(run.threads) if device == "cpu" else (1, 1)
    model = Ct2Model(folder, device, compute, workers, threads, light.model.config, light.model.generation_config,
                     path, ref.repo)
    return replace(light, model=model)


# --- generation ----------------------------------------------------------------------------

# Hugging Face generate() keyword -> CTranslate2 translate_batch keyword, so callers pass the
# same overrides to either engine (quality.RETRY_DECODING, summaries' lengths). HF lengths count
# the decoder start token; CTranslate2's do not. Other names go to translate_batch as they are.
_OVERRIDES = {"num_beams": "beam_size", "length_penalty": "length_penalty", "repetition_penalty": "repetition_penalty",
              "no_repeat_ngram_size": "no_repeat_ngram_size", "max_new_tokens": "max_decoding_length"}
_LENGTHS = {"max_length": "max_decoding_length", "min_length": "min_decoding_length"}


@dataclass
class Ct2Engine(Engine):
    """Engine's contract (budgets, batches, positions, calls) over a CTranslate2 Translator."""

    @property
    def translator(self):
        return self.model.translator

    @property
    def workers(self) -> int:
        return self.model.workers

    def pieces(self, texts: Sequence[str]) -> list[list[str]]:
        """Texts -> token strings as CTranslate2 takes them, `</s>` included (the tokenizer adds it)."""
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(x) for x in ids]

    def options(self, batch: list[list[str]], **overrides) -> dict:
        """translate_batch keywords for one batch; the output bound follows its longest source."""
        longest = max(map(len, batch))
        self.check_fits(longest)
        opts = {"beam_size": self.beams, "max_decoding_length": self.max_new_tokens(longest),
                "max_input_length": 0, "max_batch_size": 0, "return_scores": self.scoring, **self.model_settings()}
        # transformers forces the end token into the last place when a model sets forced_eos_token_id
        # (BART); CTranslate2 does not count an end token it never writes there: one less.
        forced_end = 1 if getattr(self.model.generation_config, "forced_eos_token_id", None) is not None else 0
        for key, value in overrides.items():
            if key in _LENGTHS:
                opts[_LENGTHS[key]] = max(1, value - 1 - (forced_end if key == "max_length" else 0))
            else:
                opts[_OVERRIDES.get(key, key)] = value
        if opts.get("min_decoding_length", 0) > opts["max_decoding_length"]:  # min = max asked (forced lengths)
            opts["min_decoding_length"] = opts["max_decoding_length"]
        return opts

    def model_settings(self) -> dict:
        """The model's own generation settings that transformers' generate() applies by itself
        (BART summarizers: length penalty 2, no repeated 3-grams, `<s>` forced first)."""
        config = self.model.generation_config
        opts = {}
        if getattr(config, "length_penalty", None) not in (None, 1.0):
            opts["length_penalty"] = config.length_penalty
        if getattr(config, "no_repeat_ngram_size", None):
            opts["no_repeat_ngram_size"] = config.no_repeat_ngram_size
        if getattr(config, "repetition_penalty", None) not in (None, 1.0):
            opts["repetition_penalty"] = config.repetition_penalty
        return opts

    def prefix(self, size: int) -> list[list[str]] | None:
        """The forced first token (generation config forced_bos_token_id, `<s>` for BART) as
        CTranslate2's target prefix, one per example; None when the model forces none."""
        forced = getattr(self.model.generation_config, "forced_bos_token_id", None)
        if forced is None:
            return None
        return [[self.tokenizer.convert_ids_to_tokens(forced)]] * size

    def detokenize(self, hypothesis: list[str]) -> str:
        ids = self.tokenizer.convert_tokens_to_ids(hypothesis)
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def generate(self, texts: Sequence[str], **overrides) -> tuple[list[str], list[float]]:
        """One batch through the model: (outputs, scores). Every input must already fit the input budget."""
        batch = self.pieces(texts)
        opts = self.options(batch, **overrides)
        results = self.translator.translate_batch(batch, target_prefix=self.prefix(len(batch)), **opts)
        self.calls += 1
        return self._outputs(results, opts)

    def _outputs(self, results, opts: dict) -> tuple[list[str], list[float]]:
        """Best hypotheses as text, and their scores as mean token log-probabilities: CTranslate2's
        score is the sum of the token log-probabilities, the end token included, divided by
        (hypothesis tokens + 1) ** length_penalty (checked against score_batch, tests/test_backends.py)."""
        penalty = opts.get("length_penalty", 1.0)
        outputs = [self.detokenize(r.hypotheses[0]) for r in results]
        scores = [mean_logprob(r.scores[0], len(r.hypotheses[0]) + 1, penalty) if r.scores else None for r in results]
        return outputs, scores

    def forced(self, sources: Sequence[str], targets: Sequence[str]) -> list[float]:
        """Engine.forced with CTranslate2's score_batch (per-token log-probabilities, `</s>` included)."""
        self.check_fits(max(map(len, self.pieces(sources))))
        wanted = [self.tokenizer.convert_ids_to_tokens(ids) for ids in self.tokenizer(text_target=list(targets))["input_ids"]]
        wanted = [pieces[:-1] if pieces and pieces[-1] == self.tokenizer.eos_token else pieces for pieces in wanted]
        results = self.translator.score_batch(self.pieces(sources), wanted, max_input_length=0)
        return [sum(r.log_probs) / max(len(r.log_probs), 1) for r in results]

    def hypotheses(self, texts: Sequence[str], k: int) -> list[list[str]]:
        """Engine.hypotheses: the `k` best of each text's beam, best first (num_hypotheses)."""
        batch = self.pieces(texts)
        opts = self.options(batch)
        opts.update(beam_size=max(opts["beam_size"], k), num_hypotheses=k)
        results = self.translator.translate_batch(batch, target_prefix=self.prefix(len(batch)), **opts)
        self.calls += 1
        return [[self.detokenize(h) for h in r.hypotheses] for r in results]

    def run(self, texts: Sequence[str], **overrides) -> Iterator[Generated]:
        """Generate for `texts`; yields (positions in `texts`, outputs, scores) per batch, in plan order.

        Batches are submitted asynchronously, a few per worker ahead, so all workers decode at
        once; results still come back in plan order, each batch as soon as it and those before
        it are done (the caller caches each one before the next).
        """
        pieces = self.pieces(texts)
        plan = plan_batches([len(p) for p in pieces], self._spread_budget(pieces), self.beams)
        pending: deque = deque()
        for batch in plan:
            pending.append((batch, self._submit([pieces[i] for i in batch], overrides)))
            if len(pending) >= self.workers * QUEUED_PER_WORKER:
                yield from self._collect(*pending.popleft(), texts, overrides)
        while pending:
            yield from self._collect(*pending.popleft(), texts, overrides)

    def _spread_budget(self, pieces: list[list[str]]) -> int:
        """The batch budget, lowered when the work is too small to give every worker a batch."""
        return spread_budget([len(p) for p in pieces], self.budget, self.beams, self.workers)

    def _submit(self, batch: list[list[str]], overrides: dict):
        self.calls += 1
        opts = self.options(batch, **overrides)
        return self.translator.translate_batch(batch, asynchronous=True, target_prefix=self.prefix(len(batch)), **opts), opts

    def _collect(self, batch: list[int], submitted, texts: Sequence[str], overrides: dict):
        """Wait for one submitted batch; out of memory falls back to the halving of Engine."""
        futures, opts = submitted
        try:
            outputs, scores = self._outputs([f.result() for f in futures], opts)
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            yield from self._generate_backing_off(batch, texts, **overrides)
            return
        yield batch, outputs, scores


def engine(ref: ModelRef, plan: Plan, decode, run: RunOptions, note=None) -> Ct2Engine:
    """A Ct2Engine for `plan` (plan.precision is a CTranslate2 compute type)."""
    loaded = load(ref, plan.device, plan.precision, run, note)
    return Ct2Engine(loaded, replace(decode, backend=NAME, precision=plan.precision), plan)
