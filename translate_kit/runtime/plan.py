"""The Plan: how a model runs, decided once (runtime.resolve) and read by everyone after.

Backend, device and precision are settled for the run; beams and the input limit for each model,
from its files (before, and often without, loading it); the batch budget from the flag or the
per-device default below. The cache Signature (options.DecodeOptions.signature), every engine
(torch, ct2, ray) and the reports (`tk doctor`, --json, output headers) read this one frozen
object, so they cannot disagree: nothing downstream decides any of it again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..models import input_limit, model_beams

# Token budget per batch = padded source tokens x beams, per (backend, device kind). Measured on 2 CPU cores with
# 64 seed sentences of ~35 tokens, interleaved (benchmarks/bench_translate.py, docs/benchmarks.md#translation-speed-on-a-cpu):
# - torch cpu 6144: greedy and beam 4 as fast or faster than at 512-2048 (fewer, larger matrix products; length
#   sorting keeps the padding low).
# - ct2 cpu 2048: as fast as 1024 and than 512 at greedy; at beam 4 6144 was ~15% slower and peaked at 1.35 GB
#   against 0.8 GB at 2048 (a wide beam batch's decoder states). Ct2Engine also splits work too small for
#   this budget across its workers.
# - mps and cuda: not measured here (no GPU was lent); GPUs want large batches, and out-of-memory halves them.
DEFAULT_BATCH_TOKENS = {
    ("torch", "cpu"): 6144,
    ("torch", "mps"): 8192,
    ("torch", "cuda"): 65536,
    ("ct2", "cpu"): 2048,
    ("ct2", "cuda"): 65536,
}


@dataclass(frozen=True)
class Plan:
    """How one model runs; never "auto". `beams` and `input_limit` are None until `for_model`."""

    backend: str  # a runtime.REGISTRY name
    device: str  # cpu, cuda, cuda:N, mps
    precision: str  # as the backend names it: torch fp32/fp16/bf16/int8; ct2 int8/float32/float16/...
    batch_tokens: int = 0  # token budget per batch (source tokens x beams)
    beams: int | None = None  # the beam size that runs: --beams, else the model's own generation config
    input_limit: int | None = None  # the model's input limit in tokens (position table, tokenizer limit)

    def __post_init__(self):
        if not self.batch_tokens:
            default = DEFAULT_BATCH_TOKENS.get((self.backend, self.device.split(":")[0]), 4096)
            object.__setattr__(self, "batch_tokens", default)

    def for_model(self, path: Path, beams: int | None = None) -> Plan:
        """This plan for the model in `path`: `beams` (--beams) or its own, and its input limit."""
        return replace(self, beams=beams or model_beams(path), input_limit=input_limit(path))

    def describe(self) -> dict:
        return {"backend": self.backend, "device": self.device, "precision": self.precision}
