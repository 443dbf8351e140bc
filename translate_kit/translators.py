"""The model service: every model a run uses (translation pairs, pivots, the summarizer), one way.

`Translators(decode, run, cache, model_override, progress)` holds the run's Plan (runtime.plan_run,
completed per model from its files) and gives out `get(src, tgt)` (a Translator, or a
PivotTranslator through English) and `summarizer(name)`, each with its signature settled from the
local files and its model loaded on first use (`Once`); the cache-then-model loop lives here once
(ModelTask). Results are types: a `Translation`, a TkError in `error` when the model could not
take the text, `score` the model's mean token log-probability (cached beside it). docs/design.md#the-model-side-models-and-runtime
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Literal, Sequence

from . import models, quality, runtime
from .cache import Cache, NoCache
from .errors import ModelUnavailable, TkError
from .options import DecodeOptions, RunOptions, Signature
from .runtime.engine import Engine, GenerationFailed, Generated
from .segment import Segment, fit_segments, split_to_budget

log = logging.getLogger("translate_kit")

TRANSLATE, SUMMARIZE = "translate", "summarize"
PIVOT = "en"  # OPUS-MT has X->en and en->X models for far more languages than direct X->Y pairs

Origin = Literal["model", "cache", "review", "duplicate", "copy", "passthrough", "failed"]


@dataclass(frozen=True)
class Translation:
    """One text's translation: where it came from, its quality flag, (origin "failed") why not, and
    the model's score: its mean token log-probability, None for reviews, copies and entries cached
    before scores were kept; through a pivot, the weaker leg's."""

    target: str
    origin: Origin
    flag: str | None = None
    error: TkError | None = None
    score: float | None = None  # the model's mean token log-probability (kept in the cache beside it)
    terms: tuple[dict, ...] = ()  # glossary terms its text matched, each with `missing` (glossing.py)


@dataclass
class Progress:
    """Callbacks the caller may set; the library never prints.

    add_total/advance count work (segments, summary windows); stage names the step under way
    ("translating", "summarizing"); note tells what a long wait is ("loading org/name",
    "converting org/name for CTranslate2 (once)")."""

    add_total: Callable[[int], None] = lambda n: None
    advance: Callable[[int], None] = lambda n: None
    stage: Callable[[str], None] = lambda label: None
    note: Callable[[str], None] = lambda message: None


def fill(segment: Segment, found: Translation, duplicate: bool = False) -> None:
    """A text segment from its text's Translation (the one place for it: `tk translate`, `tk serve`):
    a failure's error becomes its flag; a later occurrence of the same text is a "duplicate"."""
    failed = found.origin == "failed"
    segment.target = found.target
    segment.flag = str(found.error) if failed else found.flag
    segment.origin = "duplicate" if duplicate and not failed else found.origin
    segment.score = found.score
    segment.terms = list(found.terms)


def fill_copy(segment: Segment) -> None:
    """A segment copied as it is (numbers, URLs, code: segment.py's "copy" kind)."""
    segment.target, segment.origin = segment.source.strip(), "copy"


class Once:
    """Values loaded on first use, by key; a load that fails is remembered, and the next caller
    gets the same error at once, with no retry (the next document of a run, the next request)."""

    def __init__(self):
        self._values: dict = {}

    def get(self, key, load: Callable[[], object]):
        if key not in self._values:
            try:
                self._values[key] = load()
            except TkError as err:
                self._values[key] = err
        value = self._values[key]
        if isinstance(value, TkError):
            raise value
        return value


class ModelTask:
    """One model for one task: its signature, the cache, and the engine, loaded on first use (Once)."""

    def __init__(self, engine: Engine | Callable[[], Engine], signature: Signature | str, cache: Cache | NoCache,
                 ref: models.ModelRef | None = None, revision: str | None = None):
        self._engine = engine  # an Engine, or a function that loads one
        self.sig = signature if isinstance(signature, Signature) else None
        self.signature = signature.key if isinstance(signature, Signature) else signature  # the cache key
        self.cache = cache
        self.ref = ref or engine.loaded.ref
        self.revision = revision or engine.loaded.revision
        self._load = Once()

    @property
    def engine(self) -> Engine:
        if not isinstance(self._engine, Engine):
            self._engine = self._load.get("engine", self._engine)
        return self._engine

    @property
    def signature_text(self) -> str:
        """The readable signature (`task:...|backend:ct2|precision:int8|beams:4|...`)."""
        return self.sig.text if self.sig else self.signature

    @property
    def label(self) -> str:
        return self.ref.label

    @property
    def locked(self) -> bool:
        return self.ref.locked

    @property
    def tier(self) -> str | None:
        """The pair's quality tier (base, big) this model is; None for --model or a summarizer."""
        return self.ref.tier

    @property
    def display(self) -> str:
        """The model as output headers and reports show it."""
        return self.label if self.locked else f"{self.label} (not locked)"

    def generated(self, texts: Sequence[str], failed: dict[str, TkError], **overrides) -> Iterator[Generated]:
        """engine.run(), except that a text the model cannot take even alone (out of memory after
        every halving) goes into `failed` and the others still go on: after such a failure the rest
        run one at a time, to tell which of them fail too (rare; slow only then)."""
        if not texts:  # everything was cached: do not load the model for nothing
            return
        finished: set[int] = set()
        try:
            for positions, outputs, scores in self.engine.run(texts, **overrides):
                finished.update(positions)
                yield positions, outputs, scores
        except GenerationFailed:
            for i in (i for i in range(len(texts)) if i not in finished):
                try:
                    for _, outputs, scores in self.engine.run([texts[i]], **overrides):
                        yield [i], outputs, scores
                except GenerationFailed as err:
                    failed[texts[i]] = err


class Translator(ModelTask):
    """One language pair: a model, its cache signature, and the cache."""

    pivot: str | None = None  # a direct model (PivotTranslator sets it)
    glossary = None  # a run's glossary hook (glossing.Glossing), set by Translators; None: no glossary

    def __init__(self, engine, signature, cache, pair: tuple[str, str] = ("", ""), ref=None, revision=None):
        super().__init__(engine, signature, cache, ref, revision)
        self.pair = pair  # (source, target) language: the key of reviewed translations

    def fit(self, segments: list[Segment]) -> list[Segment]:
        """Segments split to the model's input budget. Texts already cached whole need no
        tokenizer: when every text is, the model is not loaded at all."""
        texts = [s.text for s in segments if s.kind == "text"]
        known = set(self.cache.get_many(self.signature, texts)) if self.glossary is None else self.glossary.known(self, texts)
        if all(t in known for t in texts):
            return segments
        return fit_segments(segments, self.engine.count, self.engine.max_input_tokens, known)

    def translate_texts(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, Translation]:
        """Unique texts -> Translation. Reviewed translations first (any model), then the cache;
        misses go to the model batch by batch, and each finished batch is stored in one
        transaction before the next starts. With a glossary, its hook does all of it (glossing.py)."""
        if self.glossary is not None:
            return self.glossary.translate(self, texts, advance)
        reviewed = self.cache.get_overrides(*self.pair, texts) if all(self.pair) else {}
        rest = [t for t in texts if t not in reviewed]
        found = self.cache.get_many(self.signature, rest)
        advance(len(reviewed) + len(found))
        results = {text: Translation(t, "review" if o == "review" else "cache", f, None, score)
                   for text, (t, o, f, score) in found.items()}
        results.update({text: Translation(target, "review") for text, target in reviewed.items()})
        misses = [t for t in rest if t not in found]
        failed: dict[str, TkError] = {}
        for positions, outputs, scores in self.generated(misses, failed):
            rows = self.checked([misses[i] for i in positions], outputs, scores)  # before the cache: flag and score too
            self.cache.put_many(self.signature, TRANSLATE, self.label, rows)
            results.update({src: Translation(tgt, "model", flag, None, score) for src, tgt, _, flag, score in rows})
            advance(len(rows))
        results.update({text: Translation("", "failed", None, err) for text, err in failed.items()})
        return results

    def checked(self, sources: list[str], outputs: list[str], scores: Sequence[float | None]
                ) -> list[tuple[str, str, str, str | None, float | None]]:
        """Cache rows (source, target, origin, flag, score) for one batch, degenerate outputs
        (quality.py) retried once with anti-repetition decoding, the better output kept and flagged,
        with the score of the output kept."""
        outputs, scores = list(outputs), list(scores)
        flags = [quality.problem(src, out) for src, out in zip(sources, outputs)]
        bad = [i for i, flag in enumerate(flags) if flag]
        if bad and self.engine.decode.repetition_retry:
            for positions, retries, retry_scores in self.engine.run([sources[i] for i in bad], **quality.RETRY_DECODING):
                for j, retry, retry_score in zip(positions, retries, retry_scores):
                    i = bad[j]
                    kept, flags[i] = quality.choose(sources[i], outputs[i], retry)
                    if kept is not outputs[i]:
                        outputs[i], scores[i] = kept, retry_score
        return [(src, out, "model", flag, score) for src, out, flag, score in zip(sources, outputs, flags, scores)]


class PivotTranslator:
    """Two Translators chained through English (src -> en -> tgt), with a Translator's interface.

    Input budgets: `fit` splits source segments to the first model's budget. The English in
    between is written by the first model and read by the second through another tokenizer,
    so its length in the second model's tokens cannot be bounded in advance (and capping the
    first model's output would cut translations short). Instead, an English text over the
    second model's budget is split like any long segment (split_to_budget: clauses, then
    words), its pieces translated, and the results joined with spaces. Nothing is truncated.
    Each leg keeps its own cache signature, so the src -> en leg is shared with direct runs.
    """

    pivot = PIVOT

    def __init__(self, first: Translator, second: Translator, glossary=None):
        self.first, self.second = first, second
        self.glossary = glossary  # the run's glossary hook (glossing.py), matched for the whole pair

    @property
    def label(self) -> str:
        return f"{self.first.label} + {self.second.label}"

    @property
    def display(self) -> str:
        """Both legs; "not locked" said once when it holds for both."""
        if self.first.locked != self.second.locked:
            return f"{self.first.display} + {self.second.display} (pivot via {self.pivot})"
        return f"{self.label} (pivot via {self.pivot}{'' if self.locked else ', not locked'})"

    @property
    def revision(self) -> str:
        return f"{self.first.revision} + {self.second.revision}"

    @property
    def signature_text(self) -> str:
        return f"{self.first.signature_text} + {self.second.signature_text}"

    @property
    def locked(self) -> bool:
        return self.first.locked and self.second.locked

    @property
    def tier(self) -> str | None:
        """Each leg's tier ("base + big"), picked per leg as for a direct pair."""
        return f"{self.first.tier or '-'} + {self.second.tier or '-'}"

    def fit(self, segments: list[Segment]) -> list[Segment]:
        return self.first.fit(segments)

    @property
    def pair(self) -> tuple[str, str]:
        return self.first.pair[0], self.second.pair[1]

    def translate_texts(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, Translation]:
        """Reviewed translations of the whole pair first (tk import-review), the rest through both legs."""
        if self.glossary is not None:
            return self.glossary.translate(self, texts, advance)
        reviewed = self.first.cache.get_overrides(*self.pair, texts) if all(self.pair) else {}
        advance(len(reviewed))
        results = self._chain([t for t in texts if t not in reviewed], advance)
        results.update({text: Translation(target, "review") for text, target in reviewed.items()})
        return results

    def _chain(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, Translation]:
        """Source -> English (first half of the progress), English pieces -> target (second half)."""
        half = len(texts) // 2
        english = self.first.translate_texts(texts, _ProgressShare(advance, half, len(texts)))
        pieces = {text: self._pieces(english[text].target) for text in texts}
        unique = list(dict.fromkeys(p for text in texts for p in pieces[text]))
        second_share = _ProgressShare(advance, len(texts) - half, len(unique))
        final = self.second.translate_texts(unique, second_share)
        second_share.finish()
        return {text: self._join(english[text], [final[p] for p in pieces[text]]) for text in texts}

    def _pieces(self, english: str) -> list[str]:
        """The English text in pieces that each fit the second model's input budget."""
        engine = self.second.engine
        return [p.strip() for p in split_to_budget(english, engine.count, engine.max_input_tokens) if p.strip()]

    @staticmethod
    def _join(first: Translation, seconds: list[Translation]) -> Translation:
        """One Translation: "cache" only when both legs came from the cache; the score is the weaker
        leg's (the lowest of the first leg's and of the second's pieces that have one: a reviewed
        or copied piece has none)."""
        lost = next((leg for leg in (first, *seconds) if leg.origin == "failed"), None)
        if lost:  # a leg could not translate it (ModelTask.generated): the document reports it
            return lost
        target = " ".join(t.target for t in seconds if t.target)
        from_model = first.origin == "model" or any(t.origin == "model" for t in seconds)
        flag = first.flag or next((t.flag for t in seconds if t.flag), None)
        score = min((leg.score for leg in (first, *seconds) if leg.score is not None), default=None)
        return Translation(target, "model" if from_model else "cache", flag, None, score)


class _ProgressShare:
    """Reports `share` units of the caller's progress while one leg advances through `total` of its own."""

    def __init__(self, advance: Callable[[int], None], share: int, total: int):
        self.advance, self.share, self.total = advance, share, max(total, 1)
        self.seen = self.sent = 0

    def __call__(self, n: int) -> None:
        self.seen += n
        self._send(min(self.share, self.seen * self.share // self.total))

    def finish(self) -> None:
        self._send(self.share)

    def _send(self, upto: int) -> None:
        if upto > self.sent:
            self.advance(upto - self.sent)
            self.sent = upto


class Summarizer(ModelTask):
    """The summarizer: Windows of English text in, one summary each out, cache first.

    `window` (the model's input limit) is read from its files, so a run whose summaries are
    all cached knows its length bounds and signature without loading anything. The length
    bounds go into the signature (`min:56|max:142`)."""

    def __init__(self, engine, signature: Signature, cache, ref, revision, window: int):
        super().__init__(engine, signature, cache, ref, revision)
        self.window = window

    def count(self, text: str) -> int:
        return self.engine.count(text)

    def signature_for(self, bounds: tuple[int, int], **more) -> Signature:
        return self.sig.extend(min=bounds[0], max=bounds[1], **more)

    def summarize(self, windows: Sequence[str], bounds: tuple[int, int], advance: Callable[[int], None] = lambda n: None) -> list[str]:
        """One summary per Window: cache first, misses through the model batch by batch, each
        batch stored as it finishes. A Window the model cannot take even alone raises."""
        key = self.signature_for(bounds).key
        unique = list(dict.fromkeys(windows))
        done = {src: found[0] for src, found in self.cache.get_many(key, unique).items()}
        advance(len(done))
        misses = [w for w in unique if w not in done]
        failed: dict[str, TkError] = {}
        for positions, outputs, _ in self.generated(misses, failed, min_length=bounds[0], max_length=bounds[1]):
            rows = [(misses[i], out, "model", None) for i, out in zip(positions, outputs)]
            self.cache.put_many(key, SUMMARIZE, self.label, rows)
            done.update({src: out for src, out, _, _ in rows})
            advance(len(rows))
        if failed:
            raise next(iter(failed.values()))
        return [done[w] for w in windows]


class Translators:
    """The model service of one run: loads each model once, and remembers failures too."""

    def __init__(self, decode: DecodeOptions, run: RunOptions, cache, model_override: str | None = None,
                 progress: Progress | None = None, plan: runtime.Plan | None = None, glossary=None):
        self.decode, self.run, self.cache, self.override = decode, run, cache, model_override
        self.glossary = glossary  # a glossing.Glossing every translator of the run follows, or None
        self.progress = progress or Progress()
        self._loaded = Once()  # (src, tgt) -> Translator | PivotTranslator; summarizer name -> Summarizer
        self._plan = plan  # given: a sharded run's worker, which runs the driver's Plan

    @property
    def plan(self) -> runtime.Plan:
        """Backend, device and precision, decided once for the run (runtime.plan_run)."""
        if self._plan is None:
            self._plan = runtime.plan_run(self.decode, self.run)
        return self._plan

    resolved = plan  # the name reports and tests have used for it

    @property
    def device(self) -> str:
        return self.plan.device

    def get(self, src: str, tgt: str) -> Translator | PivotTranslator:
        return self._loaded.get((src, tgt), lambda: self._load(src, tgt))

    def summarizer(self, name: str) -> Summarizer:
        """The summarizer model `name` (a lock role, repo id or folder), settled from local files."""
        def load() -> Summarizer:
            ref = models.model_from_name(name)
            signature, factory, plan = self._task(ref, SUMMARIZE)
            return Summarizer(factory, signature, self.cache, ref, signature.revision, plan.input_limit)

        return self._loaded.get(("summarizer", name), load)

    def _load(self, src: str, tgt: str) -> Translator | PivotTranslator:
        """The direct model when there is one (or --model forces it), else two models through English.

        Locally, "there is one" when the lock names the pair or its conventional repo is in the
        local cache (models.direct_available, no network). Online, the conventional repo is then
        tried on the hub, and only a pair the hub cannot give goes through English."""
        if self.override or PIVOT in (src, tgt) or models.direct_available(src, tgt):
            return self._load_direct(src, tgt)
        if not models.offline():
            try:
                return self._load_direct(src, tgt)
            except ModelUnavailable:
                pass  # no such repo on the hub, or no network: English may still bridge the pair
        try:
            return PivotTranslator(self.get(src, PIVOT), self.get(PIVOT, tgt), self.glossary)
        except TkError as pivot_error:
            legs = f"{models.conventional_repo(src, PIVOT)} + {models.conventional_repo(PIVOT, tgt)}"
            raise ModelUnavailable(f"no {src}-{tgt} model; tried {models.conventional_repo(src, tgt)} (neither in "
                                   f"models.lock nor in the local cache), then through {PIVOT}, {legs}: "
                                   f"{pivot_error}") from None

    def _load_direct(self, src: str, tgt: str) -> Translator:
        """The pair's model for --quality on the Plan's device (models/tiers.py); a tier used
        because the wanted one is not here is said in one line (models.fallback_line)."""
        tier = models.wanted_tier(self.decode.quality, self.plan.device)
        ref = models.pick_model(src, tgt, self.override, tier=tier)
        if models.fallback_line(src, tgt, ref):
            log.warning(models.fallback_line(src, tgt, ref))
        signature, factory, _ = self._task(ref, TRANSLATE)
        translator = Translator(factory, signature, self.cache, (src, tgt), ref, signature.revision)
        translator.glossary = self.glossary
        return translator

    def _task(self, ref: models.ModelRef, task: str) -> tuple[Signature, Callable[[], Engine], runtime.Plan]:
        """The model's exact version and its Plan (beams and input limit from its files), hence the
        cache key, are settled now; the engine is a function that loads it when needed, from the
        same Plan."""
        path = models.ensure_local(ref)
        revision = models.resolved_revision(ref, path)
        plan = self.plan.for_model(path, self.decode.beams)
        signature = self.decode.signature(task, ref.repo, revision, plan)
        decode = replace(self.decode, backend=plan.backend, precision=plan.precision)
        return signature, lambda: runtime.open_engine(ref, plan, decode, self.run, self.progress.note), plan


def open_cache(run: RunOptions) -> Cache | NoCache:
    return Cache(run.cache_dir, run.cache_timeout) if run.use_cache else NoCache()
