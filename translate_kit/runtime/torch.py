"""The torch backend: Hugging Face transformers `generate()`. Runs everywhere (cpu, cuda, mps).

torch and transformers are imported inside functions: `tk --help` and a cached run stay light.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Sequence

from ..errors import UsageError
from ..models import ModelRef, ensure_local, resolved_revision
from .engine import Engine, LoadedModel, damaged, mean_logprob, quiet_transformers
from .devices import choose_device, torch_threads
from .plan import Plan

NAME = "torch"
DEVICES = ("cpu", "cuda", "mps")
PRECISIONS = ("fp32", "fp16", "bf16", "int8")


def available() -> bool:
    return True  # torch is a core dependency


def preferred(device: str) -> bool:
    return True  # the fallback of `auto` everywhere, and its choice on CUDA and MPS


def precision(device: str, requested: str) -> str:
    """auto: fp16 on CUDA (about 2x faster, same quality for MT), fp32 elsewhere; int8 is CPU only."""
    if requested == "auto":
        return "fp16" if device.startswith("cuda") else "fp32"
    if requested not in PRECISIONS:
        raise UsageError(f"unknown precision '{requested}'; known: auto, {', '.join(PRECISIONS)}")
    if requested == "int8" and device != "cpu":
        raise UsageError(f"--precision int8 with backend torch runs on cpu only, not on '{device}'")
    return requested


def check(plan: Plan) -> None:
    """Can this machine run `plan`? (A Ray worker asks before it loads, instead of deciding again.)"""
    choose_device(plan.device, NAME)  # ModelUnavailable when torch sees no such device here
    precision(plan.device, plan.precision)


def engine(ref: ModelRef, plan: Plan, decode, run, note) -> TorchEngine:
    if plan.device == "cpu":
        set_threads(run.threads)
    note(f"loading {ref.repo}")
    return TorchEngine(load(ref, plan.device, plan.precision), replace(decode, backend=NAME, precision=plan.precision), plan)


def set_threads(threads: int | None) -> None:
    import torch  # heavy: only when a torch model loads

    torch.set_num_threads(torch_threads(threads))


def load(ref: ModelRef, device: str, precision: str) -> LoadedModel:
    """repo id -> local cache -> tokenizer and model on the device, in eval mode."""
    path = ensure_local(ref)
    import torch  # heavy: only when a torch model loads
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer  # heavy: as torch

    quiet_transformers()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
    try:  # a local folder by now: local_files_only keeps transformers off the network entirely
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    except Exception as err:  # truncated weights, missing tokenizer files, bad config
        raise damaged(ref, path, err) from err
    model.to(device).eval()
    if precision == "int8" and device == "cpu":
        model = _quantize_int8(model)
    return LoadedModel(ref, path, resolved_revision(ref, path), tokenizer, model, device)


def _quantize_int8(model):
    """Dynamic int8 quantization of the Linear layers (CPU only), in place so memory does not double."""
    import torch  # heavy: only when a torch model loads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


@dataclass
class TorchEngine(Engine):
    """Engine's contract over transformers' generate()."""

    def generate(self, texts: Sequence[str], **overrides) -> tuple[list[str], list[float]]:
        """One batch through the model: (outputs, scores). Every input must already fit the input budget.

        Scores: beam search's own `sequences_scores` (sum / length ** length_penalty, turned into
        the mean); greedy search's chosen-token log-probabilities, recorded step by step by
        `_StepScores` (what compute_transition_scores would give, without keeping every step's
        logits: a CPU batch of 175 sentences would hold ~2 GB of them). Beam search has no such
        hook: transformers keeps each step's log-probabilities while it runs (output_scores)."""
        import torch  # loaded with the model already

        batch = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=False)
        longest = batch["input_ids"].shape[1]
        self.check_fits(longest)
        batch = {k: v.to(self.model.device) for k, v in batch.items()}
        kwargs = {"num_beams": self.beams, "max_length": self.max_new_tokens(longest) + 1}
        kwargs.update(overrides)
        beams = kwargs["num_beams"] > 1
        steps = None if beams or not self.scoring else _StepScores()
        extra = {"output_scores": True, "return_dict_in_generate": True} if beams else {"logits_processor": [steps]}
        with torch.inference_mode():
            out = self.model.generate(**batch, **kwargs, **(extra if self.scoring else {}))
        self.calls += 1
        sequences = out.sequences if beams and self.scoring else out
        lengths = self._generated_lengths(sequences) if self.scoring else []
        if not self.scoring:
            scores = [None] * len(sequences)
        elif beams:
            penalty = kwargs.get("length_penalty", self.model.generation_config.length_penalty)
            penalty = 1.0 if penalty is None else penalty
            scores = [mean_logprob(s, n, penalty) for s, n in zip(out.sequences_scores.tolist(), lengths)]
        else:
            scores = steps.means(lengths)
        return [t.strip() for t in self.tokenizer.batch_decode(sequences, skip_special_tokens=True)], scores

    def _generated_lengths(self, sequences) -> list[int]:
        """Tokens generated per output, its end token included (the decoder start token and the
        padding after the end are not)."""
        end = self.model.generation_config.eos_token_id
        ends = set(end) if isinstance(end, (list, tuple)) else {end}
        lengths = []
        for row in sequences[:, 1:].tolist():
            n = next((i + 1 for i, token in enumerate(row) if token in ends), len(row))
            lengths.append(n)
        return lengths

    def forced(self, sources: Sequence[str], targets: Sequence[str]) -> list[float]:
        """Engine.forced: one forward pass with the targets as labels, their tokens' log-probabilities."""
        import torch  # loaded with the model already

        batch = self.tokenizer(list(sources), text_target=list(targets), return_tensors="pt", padding=True)
        self.check_fits(batch["input_ids"].shape[1])
        labels = batch.pop("labels").to(self.model.device)
        batch = {k: v.to(self.model.device) for k, v in batch.items()}
        with torch.inference_mode():
            logits = self.model(**batch, labels=labels).logits.float()
        chosen = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        real = labels.ne(self.tokenizer.pad_token_id) & labels.ge(0)
        return ((chosen * real).sum(-1) / real.sum(-1).clamp(min=1)).tolist()

    def hypotheses(self, texts: Sequence[str], k: int) -> list[list[str]]:
        """Engine.hypotheses: the beam's `k` best, the beam widened to `k` when it is narrower."""
        outputs, _ = self.generate(texts, num_beams=max(self.beams, k), num_return_sequences=k)
        return [outputs[i * k:(i + 1) * k] for i in range(len(texts))]


class _StepScores:
    """A logits processor, last in the list, that records at each greedy step the log-probability
    of the token greedy search then picks (the best one, under every processor before it):
    one number per row and step."""

    def __init__(self):
        self.steps: list = []

    def __call__(self, input_ids, scores):
        import torch  # loaded with the model already

        self.steps.append(torch.log_softmax(scores.float(), dim=-1).max(dim=-1).values)
        return scores

    def means(self, lengths: list[int]) -> list[float]:
        """Each row's mean over its first `lengths[i]` steps (the steps after its end token are padding)."""
        import torch  # loaded with the model already

        if not self.steps:
            return [0.0] * len(lengths)
        table = torch.stack(self.steps, dim=1).cpu()
        return [float(table[i, :n].mean()) if n else 0.0 for i, n in enumerate(lengths)]
