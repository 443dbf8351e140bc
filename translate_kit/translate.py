"""The translate pipeline: documents in, aligned bilingual documents out. No printing here.

    read documents -> segment -> fit to the model's budget -> cache lookup -> batch -> model
    -> cache store -> assemble

Documents go in windows of a few thousand segments (memory follows the window; segments of all
documents share batches, identical sentences are translated once); a longer document comes in
parts (`translate_parts`), each handed on once translated; `translate()` joins them. The models
come from translators.py (their names stay importable here). docs/design.md#how-a-run-works
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator

from .checks import assess_segments
from .documents import Document
from .errors import CacheError, DocumentError, DocumentFailed, InternalError, RunAborted, TkError
from .incidents import internal
from .runtime.engine import GenerationFailed
from .language import check_language, check_source, remembering, source_language
from .options import DecodeOptions, RunOptions
from .segment import Segment, iter_segments, renumber
from .translators import (  # noqa: F401  (re-exported: the service's names, as before)
    PIVOT,
    TRANSLATE as TASK,
    PivotTranslator,
    Progress,
    Translation,
    Translator,
    Translators,
    fill,
    fill_copy,
    open_cache,
)

log = logging.getLogger("translate_kit")

NO_LANGUAGE = "zxx"  # ISO 639: no linguistic content

WINDOW_SEGMENTS = 2048  # segments translated together; bounds memory on large corpora
PART_SEGMENTS = WINDOW_SEGMENTS  # a longer document comes in parts of about this many segments


@dataclass
class DocResult:
    """One document's outcome: aligned segments (or an error) and what it took."""

    doc_id: str
    source_name: str
    src_lang: str = ""
    tgt_lang: str = ""
    document: Document | None = None
    segments: list[Segment] = field(default_factory=list)
    model: str = ""  # e.g. "org/name@rev", "... (not locked)", "A + B (pivot via en)"
    revision: str = ""
    tier: str | None = None  # the model's quality tier (base, big; "base + big" through a pivot); None: --model
    signature: str = ""  # the readable cache signature: backend:ct2|precision:int8|beams:4|...
    locked: bool = False  # True: models.lock records the model's commit and file hashes (models.LockEntry.locked)
    pivot: str | None = None  # the language translated through, when there was no direct model
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    error: TkError | None = None  # typed until the CLI (or a caller) turns it into words
    note: str | None = None  # e.g. "already in the target language"
    part: int = 0  # a long document comes in parts (translate_parts): which one this is
    final: bool = True  # the document's last part (a part with an error is its last)
    totals: dict | None = None  # counts over this document's parts so far; None: count `segments`

    @property
    def counts(self) -> dict:
        """Segments by origin: for a part, over the whole document up to and including it."""
        return dict(self.totals) if self.totals is not None else count_origins(self.segments)

    def to_dict(self) -> dict:
        """The document's record in `tk translate --json` (the error in words)."""
        doc = self.document
        return {
            "id": self.doc_id,
            "source": self.source_name,
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
            "model": self.model,
            "revision": self.revision,
            "tier": self.tier,
            "locked": self.locked,
            "pivot": self.pivot,
            "signature": self.signature,
            "format": doc.format if doc else None,
            "encoding": doc.encoding if doc else None,
            "warnings": getattr(doc, "warnings", []),  # what reading repaired (documents.decode)
            **self.counts,
            "seconds": self.seconds,
            "outputs": self.outputs,
            "note": self.note,
            "error": str(self.error) if self.error else None,
        }


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
        "to_check": sum(1 for s in segments if getattr(s, "verdict", None) in ("check", "doubt")),  # checks/
        "doubt": sum(1 for s in segments if getattr(s, "verdict", None) == "doubt"),
        "terms": sum(len(getattr(s, "terms", None) or ()) for s in segments),  # glossary terms matched (--glossary)
        "terms_missing": sum(1 for s in segments for t in getattr(s, "terms", None) or () if t["missing"]),
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
    translators: Translators | None = None,
    glossary=None,
) -> Iterator[DocResult]:
    """Translate documents into `tgt`, yielding each document as one or more parts, in input order.

    A document of up to PART_SEGMENTS segments is one part. A longer one is cut into parts at
    paragraph boundaries (inside a paragraph only when the paragraph alone is twice that long);
    every part carries the document's fields, its own segments, `part` (0, 1, ...) and `final`,
    and `counts`/`seconds` over the document so far. A part with an error is the document's last:
    its remaining parts are not translated (what was translated is cached). `translators`: a
    model service to share (its settings then stand for decode, run, model and glossary);
    `glossary`: a glossary.Enforcer whose terms every translation follows (glossing.py)."""
    tgt, src = check_language(tgt, "--to"), check_source(src)  # they go into repo ids and file names
    decode, run, progress = decode or DecodeOptions(), run or RunOptions.from_env(), progress or Progress()
    owned = translators is None  # a caller's model service (tk summarize's) keeps its cache open
    if owned:
        translators = Translators(decode, run, open_cache(run), model, progress, glossary=glossing_hook(glossary))
    try:
        for window in _windows(documents, lambda doc: source_language(doc, src, translators.cache)):
            yield from _translate_window(window, src, tgt, translators, progress)
    finally:
        if owned:
            translators.cache.close()


def glossing_hook(enforcer):
    """The model service's glossary hook for an Enforcer (None: none); tk translate, summarize,
    serve and the sharded workers all make theirs here."""
    if enforcer is None:
        return None
    from .glossing import Glossing  # the glossary matcher's libraries: only for a run with --glossary

    return Glossing(enforcer)


def _windows(documents: Iterable[Document | DocumentError], language: Callable[[Document], str]
             ) -> Iterator[list[tuple[_InFlight, list[Segment], bool]]]:
    """(document, part's segments, last part?) in windows of about WINDOW_SEGMENTS segments;
    `language` gives each document's language, which its segmentation follows."""
    window, size = [], 0
    for doc in documents:
        for doc_state, segments, last in _parts(doc, language):
            if doc_state.closed:  # an earlier part failed: stop segmenting it
                break
            window.append((doc_state, segments, last))
            size += len(segments)
            if size >= WINDOW_SEGMENTS:
                yield window
                window, size = [], 0
    if window:
        yield window


def _parts(doc: Document | DocumentError, language: Callable[[Document], str]) -> Iterator[tuple[_InFlight, list[Segment], bool]]:
    """One document's segments, lazily, in parts (see translate_parts)."""
    if isinstance(doc, DocumentError):
        yield _InFlight(DocResult(doc.path, doc.path, error=doc)), [], True
        return
    doc_state = _InFlight(DocResult(doc.id, doc.source_name, document=doc))
    part: list[Segment] = []
    try:
        doc_state.head.src_lang = language(doc)
        for s in iter_segments(doc, doc_state.head.src_lang):
            if len(part) >= 2 * PART_SEGMENTS or (len(part) >= PART_SEGMENTS and s.para != part[-1].para):
                yield doc_state, part, False
                part = []
            part.append(s)
    except DocumentError as err:  # a file that changed while read (documents.StreamedDocument): it alone fails
        doc_state.head.error = err
        yield doc_state, [], True
        return
    except (CacheError, RunAborted):
        raise
    except Exception as err:  # unforeseen, in language detection or segmentation: this document alone fails
        doc_state.head.error = internal(err, "segmenting", doc.source_name)
        yield doc_state, [], True
        return
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
            _translate_group(group, translators.get(*pair), progress, translators.cache)
        except (CacheError, RunAborted):  # the cache or the cluster, not these documents: the run stops with one line
            raise
        except TkError as err:  # finished batches are cached already; the other pairs go on
            for r in group:
                r.error = DocumentFailed.of(r.source_name, err)
        except Exception as err:  # unforeseen: these documents (they shared batches) fail, the other pairs go on
            first = internal(err, "translating", group[0].source_name)  # one traceback in the log for all
            for r in group:
                r.error = InternalError(r.source_name, first.problem, first.log)
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
        _prepare(doc_state, src, tgt, translators, segments if last else None)
    part = replace(doc_state.head, segments=segments, part=doc_state.parts, final=last)
    doc_state.parts += 1
    if part.error:
        return part
    if part.note:
        _pass_through(part)
    else:
        try:
            part.segments = doc_state.translator.fit(segments)
        except (CacheError, RunAborted):
            raise
        except TkError as err:
            part.error = DocumentFailed.of(part.source_name, err)
        except Exception as err:
            part.error = internal(err, "translating", part.source_name)
    renumber(part.segments, doc_state.counters)
    return part


def _add_counts(totals: dict, counts: dict) -> None:
    for key, value in counts.items():
        totals[key] = totals.get(key, 0) + value


def _prepare(doc_state: _InFlight, src: str, tgt: str, translators: Translators,
             whole: list[Segment] | None = None) -> None:
    """A document's language and model (on its head); errors become the document's error.
    `whole`: all its segments when it is one part; with no words in them there is nothing to
    translate, no language to detect (the detector says "zxx") and no model to look for."""
    result, doc = doc_state.head, doc_state.head.document
    result.tgt_lang = tgt
    if whole is not None and not any(s.kind == "text" for s in whole):
        result.src_lang = src if src != "auto" else NO_LANGUAGE
        result.note = "nothing to translate (no words: only symbols, emoji, numbers or links); copied through"
        return
    result.src_lang = result.src_lang or source_language(doc, src, translators.cache)  # settled before segmentation
    if result.src_lang == tgt:
        result.note = "already in the target language; passed through untranslated"
        return
    try:
        doc_state.translator = translators.get(result.src_lang, tgt)
    except (CacheError, RunAborted):
        raise
    except TkError as err:  # a model that cannot load: name the document too, as every other error does
        result.error = DocumentFailed.of(doc.source_name, err)
        return
    except Exception as err:
        result.error = internal(err, "loading its model", doc.source_name)
        return
    _describe_model(result, doc_state.translator)


def _describe_model(result: DocResult, translator: Translator | PivotTranslator) -> None:
    """Model, revision, locked and pivot as the header and --json report them."""
    result.model, result.revision, result.tier = translator.display, translator.revision, translator.tier
    result.signature = translator.signature_text
    result.locked, result.pivot = translator.locked, translator.pivot


def _pass_through(result: DocResult) -> None:
    for s in result.segments:
        if s.kind != "meta":
            s.target, s.origin = s.text, "passthrough"
    assess_segments(result.segments, result.src_lang, result.tgt_lang)  # all ok: nothing was translated


def _translate_group(results: list[DocResult], translator: Translator, progress: Progress, cache=None) -> None:
    """All documents of one language pair in this window: unique texts, one pass through cache and model."""
    todo = [s for r in results for s in r.segments if s.kind == "text"]
    for s in (s for r in results for s in r.segments if s.kind == "copy"):
        fill_copy(s)
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
        for text, done_text in done.items():
            for k, s in enumerate(by_text[text]):
                fill(s, done_text, duplicate=k > 0)
    with remembering(cache):  # the checks' detector answers kept in the run's cache: a re-run loads no detector
        for r in results:
            _fail_on_lost_segments(r)
            if not r.error:
                assess_segments(r.segments, r.src_lang, r.tgt_lang)  # the checks: microseconds a sentence


def _fail_on_lost_segments(result: DocResult) -> None:
    """A document with a segment the model could not take becomes an error (no output with a hole);
    its other segments are cached, so a re-run redoes only what failed (and, for a long document, the
    parts after it, which are not translated once a part has failed)."""
    failed = [s for s in result.segments if s.origin == "failed"]
    if failed:
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        result.error = DocumentFailed.of(result.source_name, GenerationFailed(
            f"{failed[0].flag}{more}; the segments translated so far are cached: run again, "
            f"e.g. with a smaller --batch-tokens or --device cpu"))
