"""The translate pipeline: documents in, aligned bilingual documents out. No printing here.

    read documents -> segment -> fit to the model's budget -> cache lookup -> batch -> model
    -> cache store -> assemble

Documents are processed in windows of a few thousand segments, so memory follows the window,
not the corpus; inside a window, segments of all documents share batches, and identical
sentences are translated once. A document longer than a window comes in parts
(`translate_parts`): it is segmented lazily, cut at paragraph boundaries where it can be, and
each part is handed on as soon as it is translated, so one 20 MB file never has all its segments
(or their translations) in memory at once. `translate()` joins the parts for callers that want
whole documents.

A pair with no direct model (neither in models.lock nor in the local cache) is translated
through English by a PivotTranslator: two Translators chained, src -> en -> tgt.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator

from . import ct2, engines, models, quality
from .cache import Cache, NoCache
from .documents import Document
from .engine import Engine, GenerationFailed
from .errors import DocumentError, ModelUnavailable, RunAborted, TkError
from .options import DecodeOptions, RunOptions
from .segment import Segment, fit_segments, iter_segments, renumber, split_to_budget

log = logging.getLogger("translate_kit")

TASK = "translate"
WINDOW_SEGMENTS = 2048  # segments translated together; bounds memory on large corpora
PART_SEGMENTS = WINDOW_SEGMENTS  # a longer document comes in parts of about this many segments
PIVOT = "en"  # OPUS-MT has X->en and en->X models for far more languages than direct X->Y pairs


@dataclass
class DocResult:
    """One document's outcome: aligned segments (or an error) and what it took."""

    doc_id: str
    source_name: str
    src_lang: str = ""
    tgt_lang: str = ""
    document: Document | None = None
    segments: list[Segment] = field(default_factory=list)
    model: str = ""  # e.g. "org/name@rev", "... (unpinned)", "A + B (pivot via en)"
    revision: str = ""
    pinned: bool = True  # False: a model not in models.lock (the conventional repo id was guessed)
    pivot: str | None = None  # the language translated through, when there was no direct model
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    note: str | None = None  # e.g. "already in the target language"
    part: int = 0  # a long document comes in parts (translate_parts): which one this is
    final: bool = True  # the document's last part (a part with an error is its last)
    totals: dict | None = None  # counts over this document's parts so far; None: count `segments`

    @property
    def counts(self) -> dict:
        """Segments by origin: for a part, over the whole document up to and including it."""
        return dict(self.totals) if self.totals is not None else count_origins(self.segments)


def count_origins(segments: list[Segment]) -> dict:
    origins = [s.origin for s in segments if s.kind != "meta"]
    return {
        "segments": len(origins),
        "translated": origins.count("model"),
        "cached": origins.count("cache"),
        "duplicates": origins.count("duplicate"),
        "copied": origins.count("copy") + origins.count("passthrough"),
        "reviewed": origins.count("review"),
        "flagged": sum(1 for s in segments if s.flag),
    }


@dataclass
class _InFlight:
    """A document being translated: what its parts share."""

    head: DocResult  # every field but the segments
    translator: Translator | PivotTranslator | None = None
    counters: dict[int, int] = field(default_factory=dict)  # next segment number per paragraph, across parts
    totals: dict = field(default_factory=dict)
    seconds: float = 0.0
    parts: int = 0  # handed on so far
    closed: bool = False  # failed: its remaining parts are not translated


@dataclass
class Progress:
    """Callbacks the caller may set; the library never prints."""

    add_total: Callable[[int], None] = lambda n: None
    advance: Callable[[int], None] = lambda n: None


class Translator:
    """One language pair: a model, its cache signature, and the cache.

    The model (tokenizer included) is loaded on first use: a re-run whose segments are all in
    the cache never loads it, never imports transformers, and is over in about a second.
    """

    pivot: str | None = None  # a direct model (PivotTranslator sets it)

    def __init__(self, engine: Engine | Callable[[], Engine], signature: str, cache: Cache | NoCache,
                 pair: tuple[str, str] = ("", ""), ref: models.ModelRef | None = None, revision: str | None = None):
        self._engine = engine  # an Engine, or a function that loads one
        self.signature = signature
        self.cache = cache
        self.pair = pair  # (source, target) language: the key of reviewed translations
        self.ref = ref or engine.loaded.ref
        self.revision = revision or engine.loaded.revision

    @property
    def engine(self) -> Engine:
        if isinstance(self._engine, TkError):  # it failed to load before: same answer, no retry
            raise self._engine
        if not isinstance(self._engine, Engine):
            try:
                self._engine = self._engine()
            except TkError as err:
                self._engine = err
                raise
        return self._engine

    @property
    def label(self) -> str:
        return self.ref.label

    @property
    def pinned(self) -> bool:
        return self.ref.pinned

    @property
    def display(self) -> str:
        """The model as output headers and reports show it."""
        return self.label if self.pinned else f"{self.label} (unpinned)"

    def fit(self, segments: list[Segment]) -> list[Segment]:
        """Segments split to the model's input budget. Texts already cached whole need no
        tokenizer: when every text is, the model is not loaded at all."""
        texts = [s.text for s in segments if s.kind == "text"]
        known = set(self.cache.get_many(self.signature, texts))
        if all(t in known for t in texts):
            return segments
        return fit_segments(segments, self.engine.count, self.engine.max_input_tokens, known)

    def translate_texts(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, tuple[str, str, str | None]]:
        """Unique texts -> (target, origin, flag). Reviewed translations first (any model), then the
        cache; misses go to the model batch by batch, and each finished batch is stored in one
        transaction before the next starts."""
        reviewed = self.cache.get_overrides(*self.pair, texts) if all(self.pair) else {}
        rest = [t for t in texts if t not in reviewed]
        found = self.cache.get_many(self.signature, rest)
        advance(len(reviewed) + len(found))
        results = {text: (t, "review" if o == "review" else "cache", f) for text, (t, o, f) in found.items()}
        results.update({text: (target, "review", None) for text, target in reviewed.items()})
        misses = [t for t in rest if t not in found]
        failed: dict[str, str] = {}
        for positions, outputs in self._generated(misses, failed):
            rows = self.checked([misses[i] for i in positions], outputs)  # before the cache: store the flag too
            self.cache.put_many(self.signature, TASK, self.label, rows)
            results.update({src: (tgt, "model", flag) for src, tgt, _, flag in rows})
            advance(len(rows))
        results.update({text: ("", "failed", reason) for text, reason in failed.items()})  # reason in the flag slot
        return results

    def _generated(self, texts: list[str], failed: dict[str, str]) -> Iterator[tuple[list[int], list[str]]]:
        """engine.run(), except that a segment the model cannot take even alone (out of memory after
        every halving) goes into `failed` and the others still go on: after such a failure the rest
        run one at a time, to tell which of them fail too (rare; slow only then)."""
        if not texts:  # everything was cached: do not load the model for nothing
            return
        finished: set[int] = set()
        try:
            for positions, outputs in self.engine.run(texts):
                finished.update(positions)
                yield positions, outputs
        except GenerationFailed:
            for i in (i for i in range(len(texts)) if i not in finished):
                try:
                    for _, outputs in self.engine.run([texts[i]]):
                        yield [i], outputs
                except GenerationFailed as err:
                    failed[texts[i]] = str(err)

    def checked(self, sources: list[str], outputs: list[str]) -> list[tuple[str, str, str, str | None]]:
        """Cache rows for one batch, degenerate outputs (quality.py) retried once with anti-repetition
        decoding, the better output kept and flagged."""
        outputs = list(outputs)
        flags = [quality.problem(src, out) for src, out in zip(sources, outputs)]
        bad = [i for i, flag in enumerate(flags) if flag]
        if bad and self.engine.decode.repetition_retry:
            for positions, retries in self.engine.run([sources[i] for i in bad], **quality.RETRY_DECODING):
                for j, retry in zip(positions, retries):
                    i = bad[j]
                    outputs[i], flags[i] = quality.choose(sources[i], outputs[i], retry)
        return [(src, out, "model", flag) for src, out, flag in zip(sources, outputs, flags)]


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

    def __init__(self, first: Translator, second: Translator):
        self.first, self.second = first, second

    @property
    def label(self) -> str:
        return f"{self.first.label} + {self.second.label}"

    @property
    def display(self) -> str:
        return f"{self.first.display} + {self.second.display} (pivot via {self.pivot})"

    @property
    def revision(self) -> str:
        return f"{self.first.revision} + {self.second.revision}"

    @property
    def pinned(self) -> bool:
        return self.first.pinned and self.second.pinned

    def fit(self, segments: list[Segment]) -> list[Segment]:
        return self.first.fit(segments)

    @property
    def pair(self) -> tuple[str, str]:
        return self.first.pair[0], self.second.pair[1]

    def translate_texts(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, tuple[str, str, str | None]]:
        """Reviewed translations of the whole pair first (tk import-review), the rest through both legs."""
        reviewed = self.first.cache.get_overrides(*self.pair, texts) if all(self.pair) else {}
        advance(len(reviewed))
        results = self._chain([t for t in texts if t not in reviewed], advance)
        results.update({text: (target, "review", None) for text, target in reviewed.items()})
        return results

    def _chain(self, texts: list[str], advance: Callable[[int], None]) -> dict[str, tuple[str, str, str | None]]:
        """Source -> English (first half of the progress), English pieces -> target (second half)."""
        half = len(texts) // 2
        english = self.first.translate_texts(texts, _ProgressShare(advance, half, len(texts)))
        pieces = {text: self._pieces(english[text][0]) for text in texts}
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
    def _join(first: tuple[str, str, str | None], seconds: list[tuple[str, str, str | None]]) -> tuple[str, str, str | None]:
        """One (target, origin, flag): "cache" only when both legs came from the cache."""
        lost = next((leg for leg in (first, *seconds) if leg[1] == "failed"), None)
        if lost:  # a leg could not translate it (Translator._generated): the document reports it
            return lost
        target = " ".join(t for t, _, _ in seconds if t)
        from_model = first[1] == "model" or any(o == "model" for _, o, _ in seconds)
        flag = first[2] or next((f for _, _, f in seconds if f), None)
        return target, "model" if from_model else "cache", flag


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


class Translators:
    """Loads each language pair's model once per run, and remembers failures too."""

    def __init__(self, decode: DecodeOptions, run: RunOptions, cache, model_override: str | None = None):
        self.decode, self.run, self.cache, self.override = decode, run, cache, model_override
        self._loaded: dict[tuple[str, str], Translator | TkError] = {}
        self.device: str | None = None

    def get(self, src: str, tgt: str) -> Translator | PivotTranslator:
        key = (src, tgt)
        if key not in self._loaded:
            try:
                self._loaded[key] = self._load(src, tgt)
            except TkError as err:
                self._loaded[key] = err
        value = self._loaded[key]
        if isinstance(value, TkError):
            raise value
        return value

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
            return PivotTranslator(self.get(src, PIVOT), self.get(PIVOT, tgt))
        except TkError as pivot_error:
            raise ModelUnavailable(f"no {src}-{tgt} model ({models.conventional_repo(src, tgt)} is neither in "
                                   f"models.lock nor in the local cache), and no pivot through {PIVOT}: "
                                   f"{pivot_error}") from None

    def _load_direct(self, src: str, tgt: str) -> Translator:
        """The model's exact version and the decoding that will really run (hence the cache key)
        are settled now, from the local files; the model itself loads when first needed."""
        ref = models.pick_model(src, tgt, self.override)
        self.device = self.device or engines.choose_device(self.run, self.decode.backend)
        revision = models.resolved_revision(ref, models.ensure_local(ref))
        decode = self._resolved(self.decode)
        signature = decode.signature(TASK, ref.repo, revision)
        return Translator(lambda: self._engine(ref, decode), signature, self.cache, (src, tgt), ref, revision)

    def _resolved(self, decode: DecodeOptions) -> DecodeOptions:
        """Backend and precision as they will run (ct2.choose_backend), never "auto": the cache
        key must tell a CTranslate2 int8 result from a torch fp32 one."""
        if ct2.choose_backend(decode.backend, self.device) == "ct2":
            return replace(decode, backend="ct2", precision=ct2.compute_type(self.device, decode.precision))
        precision = models.default_precision(self.device) if decode.precision == "auto" else decode.precision
        return replace(decode, backend="torch", precision=precision)

    def _engine(self, ref: models.ModelRef, decode: DecodeOptions) -> Engine:
        """A torch or CTranslate2 engine for `decode` (already resolved)."""
        if self.run.engine != "local":  # engines/: the same contract, the model work elsewhere (a Ray cluster)
            return engines.make_engine(ref, decode, self.decode, self.device, self.run)
        if decode.backend == "ct2":  # it resolves the precision itself, to the same compute type
            return ct2.make_engine(ref, self.device, self.decode, self.run)
        if self.device == "cpu":
            models.set_threads(self.run.threads)
        return Engine(models.load(ref, self.device, decode.precision), decode, self.run.batch_tokens)


def open_cache(run: RunOptions) -> Cache | NoCache:
    return Cache(run.cache_dir) if run.use_cache else NoCache()


def translate(documents: Iterable[Document | DocumentError], tgt: str, **options) -> Iterator[DocResult]:
    """Translate documents into `tgt`; yields one whole DocResult per input, in input order.
    Options as `translate_parts`, whose parts this joins (a huge document is then in memory whole)."""
    whole: DocResult | None = None
    for part in translate_parts(documents, tgt, **options):
        if whole is None:
            whole = part
        else:
            whole.segments.extend(part.segments)
            whole.error, whole.seconds, whole.totals = part.error, part.seconds, part.totals
        if part.final:
            whole.final = True
            yield whole
            whole = None


def translate_parts(
    documents: Iterable[Document | DocumentError],
    tgt: str,
    *,
    src: str = "auto",
    decode: DecodeOptions | None = None,
    run: RunOptions | None = None,
    model: str | None = None,
    progress: Progress | None = None,
) -> Iterator[DocResult]:
    """Translate documents into `tgt`, yielding each document as one or more parts, in input order.

    A document of up to PART_SEGMENTS segments is one part. A longer one is cut into parts at
    paragraph boundaries (inside a paragraph only when the paragraph alone is twice that long);
    every part carries the document's fields, its own segments, `part` (0, 1, ...) and `final`,
    and `counts`/`seconds` over the document so far. A part with an error is the document's last:
    its remaining parts are not translated (what was translated is cached)."""
    decode, run, progress = decode or DecodeOptions(), run or RunOptions.from_env(), progress or Progress()
    cache = open_cache(run)
    translators = Translators(decode, run, cache, model)
    try:
        for window in _windows(documents):
            yield from _translate_window(window, src, tgt, translators, progress)
    finally:
        cache.close()


def _windows(documents: Iterable[Document | DocumentError]) -> Iterator[list[tuple[_InFlight, list[Segment], bool]]]:
    """(document, part's segments, last part?) in windows of about WINDOW_SEGMENTS segments."""
    window, size = [], 0
    for doc in documents:
        for doc_state, segments, last in _parts(doc):
            if doc_state.closed:  # an earlier part failed: stop segmenting it
                break
            window.append((doc_state, segments, last))
            size += len(segments)
            if size >= WINDOW_SEGMENTS:
                yield window
                window, size = [], 0
    if window:
        yield window


def _parts(doc: Document | DocumentError) -> Iterator[tuple[_InFlight, list[Segment], bool]]:
    """One document's segments, lazily, in parts (see translate_parts)."""
    if isinstance(doc, DocumentError):
        yield _InFlight(DocResult(doc.path, doc.path, error=str(doc))), [], True
        return
    doc_state = _InFlight(DocResult(doc.id, doc.source_name, document=doc))
    part: list[Segment] = []
    for s in iter_segments(doc):
        if len(part) >= 2 * PART_SEGMENTS or (len(part) >= PART_SEGMENTS and s.para != part[-1].para):
            yield doc_state, part, False
            part = []
        part.append(s)
    yield doc_state, part, True


def _translate_window(window, src: str, tgt: str, translators: Translators, progress: Progress) -> Iterator[DocResult]:
    started = time.perf_counter()
    parts = [(doc_state, _start_part(doc_state, segments, last, src, tgt, translators))
             for doc_state, segments, last in window]
    results = [part for _, part in parts]
    progress.add_total(sum(len(r.segments) for r in results if not r.error))
    for pair in sorted({(r.src_lang, r.tgt_lang) for r in results if not r.error and not r.note}):
        group = [r for r in results if (r.src_lang, r.tgt_lang) == pair and not r.error and not r.note]
        try:
            _translate_group(group, translators.get(*pair), progress)
        except RunAborted:  # e.g. the cluster went away: no other pair or window can go on either
            raise
        except TkError as err:  # finished batches are cached already; the other pairs go on
            for r in group:
                r.error = f"{r.source_name}: {err}"
    elapsed = time.perf_counter() - started
    total = sum(len(r.segments) for r in results) or 1
    for doc_state, r in parts:
        if doc_state.closed:  # an earlier part in this window failed (only if parts are smaller than windows)
            continue
        doc_state.seconds += elapsed * len(r.segments) / total  # the window's time, shared by size
        _add_counts(doc_state.totals, count_origins(r.segments))
        r.seconds, r.totals = round(doc_state.seconds, 3), dict(doc_state.totals)
        if r.error:
            r.final, doc_state.closed = True, True
        yield r


def _start_part(doc_state: _InFlight, segments: list[Segment], last: bool, src: str, tgt: str,
                translators: Translators) -> DocResult:
    """One part as a DocResult, its segments fitted to the model's budget and numbered; a document's
    first part settles its language and model."""
    if doc_state.parts == 0 and not doc_state.head.error:
        _prepare(doc_state, src, tgt, translators)
    part = replace(doc_state.head, segments=segments, part=doc_state.parts, final=last)
    doc_state.parts += 1
    if part.error:
        return part
    if part.note:
        _pass_through(part)
    else:
        try:
            part.segments = doc_state.translator.fit(segments)
        except RunAborted:
            raise
        except TkError as err:
            part.error = f"{part.source_name}: {err}"
    renumber(part.segments, doc_state.counters)
    return part


def _add_counts(totals: dict, counts: dict) -> None:
    for key, value in counts.items():
        totals[key] = totals.get(key, 0) + value


def _prepare(doc_state: _InFlight, src: str, tgt: str, translators: Translators) -> None:
    """A document's language and model (on its head); errors become the document's error."""
    result, doc = doc_state.head, doc_state.head.document
    result.tgt_lang = tgt
    result.src_lang = _source_language(doc, src, translators.cache)
    if result.src_lang == tgt:
        result.note = "already in the target language; passed through untranslated"
        return
    try:
        doc_state.translator = translators.get(result.src_lang, tgt)
    except RunAborted:
        raise
    except TkError as err:  # a model that cannot load: name the document too, as every other error does
        result.error = f"{doc.source_name}: {err}"
        return
    _describe_model(result, doc_state.translator)


def _describe_model(result: DocResult, translator: Translator | PivotTranslator) -> None:
    """Model, revision, pinned and pivot as the header and --json report them."""
    result.model, result.revision = translator.display, translator.revision
    result.pinned, result.pivot = translator.pinned, translator.pivot


def _source_language(doc: Document, src: str, cache: Cache | NoCache) -> str:
    """--from, else the detected language, remembered in the cache so a re-run loads no detector."""
    if src != "auto":
        return src
    from .language import detect_language, sample_key

    key = sample_key(doc.head)
    lang = cache.get_language(key)
    if lang is None:
        lang = detect_language(doc.head)
        cache.put_language(key, lang)
    return lang


def _pass_through(result: DocResult) -> None:
    for s in result.segments:
        if s.kind != "meta":
            s.target, s.origin = s.text, "passthrough"


def _translate_group(results: list[DocResult], translator: Translator, progress: Progress) -> None:
    """All documents of one language pair in this window: unique texts, one pass through cache and model."""
    todo = [s for r in results for s in r.segments if s.kind == "text"]
    for s in (s for r in results for s in r.segments if s.kind == "copy"):
        s.target, s.origin = s.source.strip(), "copy"
    progress.advance(sum(1 for r in results for s in r.segments if s.kind != "text"))
    by_text: dict[str, list[Segment]] = {}
    for s in todo:
        by_text.setdefault(s.text, []).append(s)
    progress.advance(len(todo) - len(by_text))
    unique = list(by_text)
    # One huge document is one window: its unique texts still go through the cache and the model
    # WINDOW_SEGMENTS at a time, so token lists, lookups and results stay bounded by that slice.
    for start in range(0, len(unique), WINDOW_SEGMENTS):
        done = translator.translate_texts(unique[start : start + WINDOW_SEGMENTS], progress.advance)
        for text, (target, origin, flag) in done.items():
            for k, s in enumerate(by_text[text]):
                s.target, s.flag = target, flag
                s.origin = "duplicate" if k and origin != "failed" else origin
    for r in results:
        _fail_on_lost_segments(r)


def _fail_on_lost_segments(result: DocResult) -> None:
    """A document with a segment the model could not take becomes an error (no output with a hole);
    its other segments are cached, so a re-run redoes only what failed (and, for a long document, the
    parts after it, which are not translated once a part has failed)."""
    failed = [s for s in result.segments if s.origin == "failed"]
    if failed:
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        result.error = (f"{result.source_name}: {failed[0].flag}{more}; the segments translated so far are cached: run again, "
                        f"e.g. with a smaller --batch-tokens or --device cpu")
