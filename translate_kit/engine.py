"""Seq2Seq generation over token-budgeted batches: the one place that calls generate().

Segments are sorted by token length (longest first, so an out-of-memory shows at once), packed
so that batch size x longest source x beams stays under a token budget, and results are handed
back with their original positions, so output order never depends on batching. Sorting keeps
padding low: forcing 32 mixed-length sentences to their longest member costs ~70% extra work
(NOTES-performance.md).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Iterator, Sequence

from .errors import TkError
from .models import LoadedModel
from .options import DecodeOptions

log = logging.getLogger("translate_kit")

# Token budget per batch = padded source tokens x beams, per (backend, device kind). Measured on 2 CPU cores with
# 64 seed sentences of ~35 tokens, interleaved (benchmarks/bench_translate.py, README "Speed"):
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


class GenerationFailed(TkError):
    """One segment could not be generated even alone (e.g. out of memory at batch size 1)."""


def plan_batches(lengths: Sequence[int], budget: int, beams: int = 1) -> list[list[int]]:
    """Indices grouped into batches, longest first, each costing <= budget (at least one item)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if_added = max(longest, lengths[i])
        if current and (len(current) + 1) * longest_if_added * beams > budget:
            batches.append(current)
            current, longest_if_added = [], lengths[i]
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    return batches


def spread_budget(lengths: Sequence[int], budget: int, beams: int, workers: int) -> int:
    """The batch budget for work that several workers decode at once: `budget` when there is
    enough work to give each worker full batches; else the smallest budget that still plans at
    most `workers` batches, so a small request is one batch per worker (each about the same cost),
    not, say, three batches on two workers, where one worker decodes two while the other waits."""
    if not lengths:
        return budget
    longest = max(lengths) * beams
    if workers <= 1 or sum(lengths) * beams >= budget * workers:
        return max(budget, longest)
    low, high = longest, max(longest, min(budget, len(lengths) * longest))
    if len(plan_batches(lengths, high, beams)) > workers:  # even the full budget needs more: it stays
        return high
    while low < high:  # batch counts only fall as the budget grows
        middle = (low + high) // 2
        if len(plan_batches(lengths, middle, beams)) <= workers:
            high = middle
        else:
            low = middle + 1
    return high


@dataclass
class Engine:
    backend = "torch"  # which DEFAULT_BATCH_TOKENS row applies (subclasses: ct2.Ct2Engine)

    loaded: LoadedModel
    decode: DecodeOptions
    batch_tokens: int | None = None
    calls: int = 0  # generate() calls made, for reports and tests

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    @property
    def model(self):
        return self.loaded.model

    @property
    def max_input_tokens(self) -> int:
        """The model's own input limit: its position table, and the tokenizer's limit if smaller."""
        limit = getattr(self.model.config, "max_position_embeddings", None) or 512
        tok_limit = getattr(self.tokenizer, "model_max_length", None)
        if tok_limit and tok_limit < 1_000_000:
            limit = min(limit, tok_limit)
        return int(limit)

    @property
    def beams(self) -> int:
        return self.decode.beams or getattr(self.model.generation_config, "num_beams", 1) or 1

    @property
    def budget(self) -> int:
        kind = self.loaded.device.split(":")[0]
        return self.batch_tokens or DEFAULT_BATCH_TOKENS.get((self.backend, kind), 4096)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Source length in tokens, special tokens included (what the encoder sees)."""
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]]

    def count(self, text: str) -> int:
        return self.count_tokens([text])[0]

    def max_new_tokens(self, source_tokens: int) -> int:
        wanted = math.ceil(self.decode.max_length_ratio * source_tokens) + self.decode.max_length_extra
        return min(wanted, self.max_input_tokens - 1)

    def generate(self, texts: Sequence[str], **overrides) -> list[str]:
        """One batch through the model. Every input must already fit the input budget."""
        import torch

        batch = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=False)
        longest = batch["input_ids"].shape[1]
        if longest > self.max_input_tokens:  # a bug upstream, never a silent truncation
            raise GenerationFailed(f"internal error: input of {longest} tokens exceeds the model's {self.max_input_tokens}")
        batch = {k: v.to(self.model.device) for k, v in batch.items()}
        kwargs = {"num_beams": self.beams, "max_length": self.max_new_tokens(longest) + 1}
        kwargs.update(overrides)
        with torch.inference_mode():
            out = self.model.generate(**batch, **kwargs)
        self.calls += 1
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def hypotheses(self, texts: Sequence[str], k: int) -> list[list[str]]:
        """The `k` best translations of each text, best first: the beam's hypotheses, the beam
        widened to `k` when it is narrower (`tk serve`'s alternatives). One batch; inputs fit."""
        outputs = self.generate(texts, num_beams=max(self.beams, k), num_return_sequences=k)
        return [outputs[i * k:(i + 1) * k] for i in range(len(texts))]

    def run(self, texts: Sequence[str], **overrides) -> Iterator[tuple[list[int], list[str]]]:
        """Generate for `texts` batch by batch; yields (positions in `texts`, outputs) per batch.
        `overrides` go to every generate() call (e.g. min_length / max_length for summaries)."""
        lengths = self.count_tokens(texts)
        for batch in plan_batches(lengths, self.budget, self.beams):
            yield from self._generate_backing_off(batch, texts, **overrides)

    def _generate_backing_off(self, batch: list[int], texts: Sequence[str], **overrides) -> Iterator[tuple[list[int], list[str]]]:
        """Out of memory: halve the batch and retry, down to one segment, then report that segment."""
        try:
            outputs = self.generate([texts[i] for i in batch], **overrides)
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            _free_memory()
            if len(batch) == 1:
                raise GenerationFailed(f"out of memory on a single segment ({texts[batch[0]][:60]!r}...)") from err
            log.warning("out of memory on a batch of %d; retrying in halves", len(batch))
            half = len(batch) // 2
            yield from self._generate_backing_off(batch[:half], texts, **overrides)
            yield from self._generate_backing_off(batch[half:], texts, **overrides)
            return
        yield batch, outputs


def is_out_of_memory(err: BaseException) -> bool:
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError) or "out of memory" in str(err).lower()


def _free_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
