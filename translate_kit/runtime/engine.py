"""The Engine contract every backend keeps, batch planning, and the out-of-memory back-off.

Segments are sorted by token length (longest first, so an out-of-memory shows at once), packed
so that batch size x longest source x beams stays under the Plan's token budget, and results are
handed back with their original positions, so output order never depends on batching. Sorting
keeps padding low: forcing 32 mixed-length sentences to their longest member costs ~70% extra
work (benchmarks/bench_translate.py).

An engine reads beams, budget and input limit from its Plan, never from the loaded model: the
cache signature was made from the same Plan before the model loaded.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator, Sequence

from ..errors import ModelUnavailable, TkError, first_line
from ..models import ModelRef, resolved_revision
from ..options import DecodeOptions
from .plan import Plan

log = logging.getLogger("translate_kit")

# What Engine.run yields per batch: positions in its input, outputs, and each output's model score
# (mean token log-probability, <= 0; None where a backend gives none). The score travels with the
# output from here to the cache and the verdict (translators.Translation.score, checks/verdict.py).
Generated = tuple[list[int], list[str], list["float | None"]]


class GenerationFailed(TkError):
    """One segment could not be generated even alone (e.g. out of memory at batch size 1)."""


@dataclass
class LoadedModel:
    ref: ModelRef
    path: Path
    revision: str  # resolved: commit hash or local hash
    tokenizer: object
    model: object
    device: str


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
    """The contract: count_tokens / count / max_input_tokens / budget / beams / decode / run /
    hypotheses. A backend subclass supplies generate() and hypotheses(); run() plans the batches
    and halves one that runs out of memory."""

    loaded: LoadedModel
    decode: DecodeOptions  # backend and precision as the Plan says (the user's "auto" resolved)
    plan: Plan
    calls: int = 0  # generate() calls made, for reports and tests
    scoring = True  # each output's score computed (False: None, what benchmarks/bench_translate.py compares with)

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    @property
    def model(self):
        return self.loaded.model

    @property
    def max_input_tokens(self) -> int:
        return self.plan.input_limit

    @property
    def beams(self) -> int:
        return self.plan.beams

    @property
    def budget(self) -> int:
        return self.plan.batch_tokens

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

    def check_fits(self, longest: int) -> None:
        if longest > self.max_input_tokens:  # a bug upstream, never a silent truncation
            raise GenerationFailed(f"internal error: input of {longest} tokens exceeds the model's {self.max_input_tokens}")

    def generate(self, texts: Sequence[str], **overrides) -> tuple[list[str], list[float | None]]:
        """One batch through the model: (outputs, scores), each score the output's mean token
        log-probability (`mean_logprob`). Every input must already fit the input budget."""
        raise NotImplementedError

    def score_pairs(self, sources: Sequence[str], targets: Sequence[str]) -> list[float]:
        """Forced decoding: the mean token log-probability of each given target (its end token
        included) for its source, on the scale of generate()'s scores (`tk check --score` on
        translations tk did not make). Batched by the budget, like run()."""
        lengths = [a + b for a, b in zip(self.count_tokens(sources), self.count_tokens(targets))]
        scores: list[float] = [0.0] * len(sources)
        for batch in plan_batches(lengths, self.budget):
            for i, score in zip(batch, self.forced([sources[i] for i in batch], [targets[i] for i in batch])):
                scores[i] = score
        return scores

    def forced(self, sources: Sequence[str], targets: Sequence[str]) -> list[float]:
        """One batch of score_pairs (a backend supplies it)."""
        raise NotImplementedError

    def hypotheses(self, texts: Sequence[str], k: int) -> list[list[str]]:
        """The `k` best translations of each text, best first: the beam's hypotheses, the beam
        widened to `k` when it is narrower (`tk serve`'s alternatives). One batch; inputs fit."""
        raise NotImplementedError

    def run(self, texts: Sequence[str], **overrides) -> Iterator[Generated]:
        """Generate for `texts` batch by batch; yields (positions in `texts`, outputs, scores) per
        batch. `overrides` go to every generate() call (e.g. min_length / max_length for summaries)."""
        lengths = self.count_tokens(texts)
        for batch in plan_batches(lengths, self.budget, self.beams):
            yield from self._generate_backing_off(batch, texts, **overrides)

    def _generate_backing_off(self, batch: list[int], texts: Sequence[str], **overrides) -> Iterator[Generated]:
        """Out of memory: halve the batch and retry, down to one segment, then report that segment."""
        try:
            outputs, scores = self.generate([texts[i] for i in batch], **overrides)
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
        yield batch, outputs, scores


def mean_logprob(score: float, tokens: int, length_penalty: float = 1.0) -> float:
    """The mean log-probability per output token (the end token included) from a beam score
    `score` = sum / tokens ** length_penalty, as both CTranslate2 and transformers report it: one
    scale for every backend, whatever length penalty the search ranked with."""
    tokens = max(tokens, 1)
    return float(score) * tokens ** (length_penalty - 1) if length_penalty != 1 else float(score)


def is_out_of_memory(err: BaseException) -> bool:
    import torch  # heavy: only once a generation has failed

    return isinstance(err, torch.cuda.OutOfMemoryError) or "out of memory" in str(err).lower()


def _free_memory() -> None:
    import torch  # heavy: only once a generation has failed

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- what every backend loads from Hugging Face files ---------------------------------------


def quiet_transformers() -> None:
    """The library never prints: no weight-loading bars, no advice to install sacremoses."""
    from transformers.utils import logging as hf_logging  # heavy (transformers): only when a model loads

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")


def load_without_weights(ref: ModelRef, path: Path, device: str) -> LoadedModel:
    """Tokenizer, config and generation config, without the weights (ct2 beside its converted
    model; ray's driver, which counts and plans but never generates). torch is not imported:
    the tokenizer class named in tokenizer_config.json rather than AutoTokenizer, and config.json
    read as JSON rather than through AutoConfig (both Auto classes import torch)."""
    quiet_transformers()
    try:
        from transformers import GenerationConfig  # heavy: only when a model is used

        tokenizer = _tokenizer(path)
        config = SimpleNamespace(**json.loads((path / "config.json").read_text(encoding="utf-8")))
        generation = GenerationConfig.from_pretrained(path)
    except Exception as err:
        raise damaged(ref, path, err, kind_only=True) from err
    model = SimpleNamespace(config=config, generation_config=generation)
    return LoadedModel(ref, path, resolved_revision(ref, path), tokenizer, model, device)


def damaged(ref: ModelRef, path: Path, err: BaseException, kind_only: bool = False) -> ModelUnavailable:
    """The one "model files missing or damaged" error, with what to do about it."""
    what = type(err).__name__ if kind_only else first_line(err)
    return ModelUnavailable(f"{ref.repo}: model files in {path} are missing or damaged ({what}); run "
                            f"`tk models pull {ref.name or ref.repo}` again, or pass --model DIR")


def _tokenizer(path: Path):
    """The tokenizer class the model names (what AutoTokenizer would pick), else AutoTokenizer."""
    import transformers  # heavy: only when a model is used

    try:
        name = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8")).get("tokenizer_class")
    except (OSError, ValueError):
        name = None
    cls = getattr(transformers, name, None) if name else None
    return (cls or transformers.AutoTokenizer).from_pretrained(path)
