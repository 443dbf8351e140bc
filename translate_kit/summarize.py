"""The summarize pipeline: documents in, short bilingual summaries out. No printing here.

Abstractive (the default):

    document -> English (translate.translate: same models, cache and signature as `tk translate`,
    so a translated corpus is not translated again) -> Pieces that fit the summarizer's window
    -> a summary of each Piece -> the joined summaries packed and summarized again, until one
    Piece holds everything (map-reduce) -> summary sentences -> each translated into the other
    requested languages (en -> fr for a French article)

Extractive (`method="extractive"`): the most central sentences of the source (extractive.py), in
document order and in the source language, each translated into the other requested languages.
No summarizer model is loaded.

A Piece is a run of whole Paragraphs (or, for a Paragraph longer than the window, of its
Segments) that fits the summarizer's input window, special tokens included; the window comes
from the model (Engine.max_input_tokens), never from a constant, and nothing is truncated.

Termination with any model, even a random one: each round must at least halve the text, else
the next round's lengths are halved; with a 2-token limit every summary is empty and the loop
ends. MAX_ROUNDS is a last guard that raises, rather than cutting text.

Summaries are cached like translations, keyed by content: the summarizer's signature (task
"summarize", model, revision, decoding options) plus the min/max lengths, and the Piece text.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import models
from .cache import Cache, NoCache
from .documents import Document
from .engine import Engine
from .errors import DocumentError, TkError, UsageError
from .language import language_warnings, source_language
from .options import DecodeOptions, RunOptions
from .segment import LETTER, Segment, segment_document, split_sentences, split_to_budget
from .translate import DocResult, Translator, Translators, open_cache, translate

TASK = "summarize"
SUMMARIZER = "summarizer"  # the models.lock role
METHODS = ("abstractive", "extractive")
# (min_length, max_length) in summarizer tokens for a 1024-token window. `medium` is
# distilbart-cnn-12-6's own generation config; smaller windows scale all three down.
LENGTHS = {"short": (30, 70), "medium": (56, 142), "long": (100, 256)}
REFERENCE_WINDOW = 1024
MAX_ROUNDS = 16
LANG_CODE = re.compile(r"^[a-z]{2,3}$")


class SummaryFailed(TkError):
    """Map-reduce did not converge (a model that never writes shorter text)."""


# --- options and results -------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryOptions:
    """What to summarize and how. Translation settings stay in DecodeOptions, shared with `tk translate`."""

    method: str = "abstractive"  # abstractive | extractive
    length: str = "medium"  # short | medium | long
    langs: tuple[str, ...] = ()  # summary languages; empty: English and the document's own language
    src: str = "auto"  # source language, or auto to detect per document
    summarizer: str | None = None  # a models.lock name, repo id or folder; None: the lock's "summarizer"

    def check(self) -> SummaryOptions:
        """Raise UsageError naming the choices for a bad value."""
        if self.method not in METHODS:
            raise UsageError(f"unknown method '{self.method}'; known: {', '.join(METHODS)}")
        if self.length not in LENGTHS:
            raise UsageError(f"unknown length '{self.length}'; known: {', '.join(LENGTHS)}")
        bad = [lang for lang in self.langs if not LANG_CODE.match(lang)]
        if bad:
            raise UsageError(f"bad language code '{bad[0]}'; give ISO 639-1 codes such as en,fr")
        return self


def parse_langs(spec: str | None) -> tuple[str, ...]:
    """'en, fr' -> ('en', 'fr'); None or '' -> () (the default languages)."""
    return tuple(dict.fromkeys(p.strip().lower() for p in (spec or "").split(",") if p.strip()))


def length_bounds(length: str, window: int) -> tuple[int, int]:
    """(min_length, max_length) for generate(), scaled to the window and well inside it."""
    low, high = LENGTHS[length]
    scale = min(1.0, window / REFERENCE_WINDOW)
    high = max(2, min(round(high * scale), window // 2))
    return min(max(1, round(low * scale)), high - 1), high


@dataclass
class SummarySentence:
    """One summary sentence in each language; for an extract, where it stands in the source."""

    texts: dict[str, str]
    para: int | None = None
    seg: int | None = None


@dataclass
class SummaryResult:
    doc_id: str
    source_name: str
    document: Document | None = None
    method: str = ""
    length: str = ""
    src_lang: str = ""
    base_lang: str = ""  # the language the summary is made in: en, or the source for an extract
    langs: list[str] = field(default_factory=list)  # the languages shown, base first by default
    sentences: list[SummarySentence] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)  # {"role", "model", "revision"}
    pieces_per_round: list[int] = field(default_factory=list)
    bounds: tuple[int, int] | None = None  # min/max summary tokens asked for in the first round
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def pieces(self) -> int:
        return self.pieces_per_round[0] if self.pieces_per_round else 0

    @property
    def rounds(self) -> int:
        return len(self.pieces_per_round)

    def to_dict(self) -> dict:
        doc = self.document
        sentences = []
        for s in self.sentences:
            row = {lang: s.texts.get(lang, "") for lang in self.langs}
            if s.para is not None:
                row.update(para=s.para, seg=s.seg)
            sentences.append(row)
        return {
            "id": self.doc_id, "source": self.source_name, "title": doc.title if doc else None,
            "date": doc.meta.get("date") if doc else None, "src_lang": self.src_lang, "method": self.method,
            "length": self.length, "langs": self.langs, "sentences": sentences, "models": self.models,
            "pieces": self.pieces, "rounds": self.rounds, "pieces_per_round": self.pieces_per_round,
            "min_length": self.bounds[0] if self.bounds else None, "max_length": self.bounds[1] if self.bounds else None,
            "seconds": self.seconds, "notes": self.notes, "outputs": self.outputs, "error": self.error,
        }


# --- the summarizer ---------------------------------------------------------------------------


class Summarizer:
    """The summarizer model, its cache signature and the cache: Pieces in, summaries out."""

    def __init__(self, engine: Engine, cache: Cache | NoCache):
        self.engine, self.cache = engine, cache

    @property
    def window(self) -> int:
        return self.engine.max_input_tokens

    @property
    def label(self) -> str:
        return self.engine.loaded.ref.label

    @property
    def revision(self) -> str:
        return self.engine.loaded.revision

    def count(self, text: str) -> int:
        return self.engine.count(text)

    def signature(self, bounds: tuple[int, int]) -> str:
        """The translate signature scheme (task, model, revision, decoding) plus the length bounds."""
        ref = self.engine.loaded.ref
        return f"{self.engine.decode.signature(TASK, ref.repo, self.revision)}:{bounds[0]}-{bounds[1]}"

    def summarize(self, pieces: Sequence[str], bounds: tuple[int, int]) -> list[str]:
        """One summary per Piece: cache first, misses through the model batch by batch."""
        signature = self.signature(bounds)
        unique = list(dict.fromkeys(pieces))
        done = {src: target for src, (target, _, _) in self.cache.get_many(signature, unique).items()}
        misses = [p for p in unique if p not in done]
        for positions, outputs in self.engine.run(misses, min_length=bounds[0], max_length=bounds[1]):
            rows = [(misses[i], out, "model", None) for i, out in zip(positions, outputs)]
            self.cache.put_many(signature, TASK, self.label, rows)
            done.update({src: out for src, out, _, _ in rows})
        return [done[p] for p in pieces]


class SummaryModels:
    """The models one run loads at most once each: the summarizer and the sentence translators."""

    def __init__(self, options: SummaryOptions, decode: DecodeOptions, run: RunOptions, cache: Cache | NoCache):
        self.options, self.decode, self.run, self.cache = options, decode, run, cache
        self.translators = Translators(decode, run, cache)
        self._summarizer: Summarizer | TkError | None = None

    def summarizer(self) -> Summarizer:
        if self._summarizer is None:
            try:
                self._summarizer = self._load_summarizer()
            except TkError as err:  # remembered: the next document fails the same way, fast
                self._summarizer = err
        if isinstance(self._summarizer, TkError):
            raise self._summarizer
        return self._summarizer

    def _load_summarizer(self) -> Summarizer:
        ref = models.model_from_name(self.options.summarizer or SUMMARIZER)
        device = models.choose_device(self.run.device)
        if device == "cpu":
            models.set_threads(self.run.threads)
        precision = self.decode.precision
        if precision == "auto":
            precision = models.default_precision(device)
        loaded = models.load(ref, device, precision)
        # always the torch backend (the CTranslate2 one serves translation); the key says so
        decode = replace(self.decode, precision=precision, backend="torch")
        return Summarizer(Engine(loaded, decode, self.run.batch_tokens), self.cache)


# --- map-reduce -------------------------------------------------------------------------------


def pack(paragraphs: Sequence[str], count, window: int) -> list[str]:
    """Paragraphs grouped into Pieces of at most `window` tokens: whole Paragraphs where they fit,
    else their sentences, else split_to_budget's clauses or words. Nothing is dropped."""
    pieces: list[str] = []
    current = ""
    for unit, joiner in _units(paragraphs, count, window):
        candidate = f"{current}{joiner}{unit}" if current else unit
        if current and count(candidate) > window:
            pieces.append(current)
            candidate = unit
        current = candidate
    if current:
        pieces.append(current)
    return pieces


def _units(paragraphs: Sequence[str], count, window: int) -> Iterator[tuple[str, str]]:
    """(text, joiner) units that each fit the window; a new Paragraph joins with a line break."""
    for para in (p.strip() for p in paragraphs):
        if not para:
            continue
        if count(para) <= window:
            yield para, "\n"
            continue
        first = True
        for sentence in split_sentences(para, "en"):
            for part in split_to_budget(sentence.strip(), count, window):
                if part.strip():
                    yield part.strip(), "\n" if first else " "
                    first = False


def map_reduce(paragraphs: Sequence[str], summarizer: Summarizer, bounds: tuple[int, int]) -> tuple[str, list[int]]:
    """Summarize Pieces, then their joined summaries, until one Piece holds all the text.

    Returns the summary and the number of Pieces of each round. A round that does not at least
    halve the text halves the next round's lengths, so even a random model ends.
    """
    rounds: list[int] = []
    while True:
        pieces = pack(paragraphs, summarizer.count, summarizer.window)
        summaries = summarizer.summarize(pieces, bounds)
        rounds.append(len(pieces))
        if len(pieces) <= 1:
            return (summaries[0] if summaries else ""), rounds
        if len(rounds) >= MAX_ROUNDS:
            raise SummaryFailed(f"{summarizer.label}: the summary did not fit one window after {MAX_ROUNDS} rounds")
        before = sum(summarizer.count(p) for p in pieces)
        paragraphs = [s for s in summaries if s.strip()]
        if summarizer.count("\n".join(paragraphs)) > before // 2:
            bounds = shrink(bounds)


def shrink(bounds: tuple[int, int]) -> tuple[int, int]:
    """Half the maximum length (never under 2), and a minimum below it."""
    high = max(2, bounds[1] // 2)
    return min(bounds[0], max(1, high // 2)), high


# --- one document ---------------------------------------------------------------------------


def summarize(
    documents: Iterable[Document | DocumentError],
    options: SummaryOptions | None = None,
    *,
    decode: DecodeOptions | None = None,
    run: RunOptions | None = None,
) -> Iterator[SummaryResult]:
    """Summarize documents; yields one SummaryResult per input, in input order.

    `decode` are the translation settings: keep them as for `tk translate` to reuse its cache.
    """
    options = (options or SummaryOptions()).check()
    decode, run = decode or DecodeOptions(), run or RunOptions.from_env()
    cache = open_cache(run)
    loaded = SummaryModels(options, decode, run, cache)
    try:
        if options.method == "extractive":
            yield from (_summarize_one(_extractive, doc, loaded) for doc in documents)
        elif (missing := _summarizer_error(loaded)) is not None:  # say so now, not after translating it all
            yield from (_failed(doc, missing) for doc in documents)
        else:
            for translated in translate(documents, "en", src=options.src, decode=decode, run=run):
                yield _summarize_one(_abstractive, translated, loaded)
    finally:
        cache.close()


def _summarizer_error(loaded: SummaryModels) -> TkError | None:
    try:
        loaded.summarizer()
    except TkError as err:
        return err
    return None


def _failed(doc: Document | DocumentError, err: TkError) -> SummaryResult:
    if isinstance(doc, DocumentError):
        return SummaryResult(doc.path, doc.path, error=str(doc))
    return SummaryResult(doc.id, doc.source_name, doc, error=f"{doc.source_name}: {err}")


def _summarize_one(step, item, loaded: SummaryModels) -> SummaryResult:
    """One document's steps; a TkError becomes its result's error, and the other documents go on."""
    started = time.perf_counter()
    result = step(item, loaded)
    if not result.error:
        try:
            _add_translations(result, loaded)
        except TkError as err:
            result.error = _message(result, err)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _message(result: SummaryResult, err: TkError) -> str:
    """`<document>: <problem>`, as `tk translate` reports (a DocumentError names its file already)."""
    return str(err) if isinstance(err, DocumentError) else f"{result.source_name}: {err}"


def _abstractive(translated: DocResult, loaded: SummaryModels) -> SummaryResult:
    options = loaded.options
    result = SummaryResult(translated.doc_id, translated.source_name, translated.document, "abstractive",
                           options.length, translated.src_lang, "en", error=translated.error)
    if result.error:
        return result
    result.notes += language_warnings(translated.document)  # --from contradicted by the text
    if translated.model:
        result.models.append(_model_row(f"translate {translated.src_lang}-en", translated.model, translated.revision))
    paragraphs = english_paragraphs(translated)
    try:
        if not any(s.kind == "text" for s in translated.segments):
            raise DocumentError(translated.source_name, "no sentences to summarize")
        summarizer = loaded.summarizer()
        result.bounds = length_bounds(options.length, summarizer.window)
        summary, result.pieces_per_round = map_reduce(paragraphs, summarizer, result.bounds)
    except TkError as err:
        result.error = _message(result, err)
        return result
    result.models.append(_model_row(SUMMARIZER, summarizer.label, summarizer.revision))
    result.sentences = [SummarySentence({"en": s.strip()}) for s in split_sentences(summary, "en") if s.strip()]
    if not result.sentences:
        result.notes.append("the summarizer wrote an empty summary")
    result.langs = list(options.langs) or list(dict.fromkeys(["en", result.src_lang]))
    return result


def english_paragraphs(translated: DocResult) -> list[str]:
    """The English text of a translated document, one string per Paragraph (no date marker)."""
    groups: dict[int, list[str]] = {}
    for s in translated.segments:
        if s.kind != "meta" and s.target.strip():
            groups.setdefault(s.para, []).append(s.target.strip())
    return [" ".join(groups[k]) for k in sorted(groups)]


def _extractive(doc: Document | DocumentError, loaded: SummaryModels) -> SummaryResult:
    from .extractive import SENTENCES, central_sentences

    if isinstance(doc, DocumentError):
        return SummaryResult(doc.path, doc.path, error=str(doc))
    options = loaded.options
    result = SummaryResult(doc.id, doc.source_name, doc, "extractive", options.length)
    result.src_lang = result.base_lang = _source_language(doc, options.src)
    result.notes += language_warnings(doc)  # --from contradicted by the text
    segments = [s for s in segment_document(doc, result.src_lang) if s.kind == "text"]
    if not segments:
        result.error = str(DocumentError(doc.source_name, "no sentences to summarize"))
        return result
    picked = central_sentences([s.text for s in segments], SENTENCES[options.length])
    result.sentences = [SummarySentence({result.src_lang: segments[i].text}, segments[i].para, segments[i].seg)
                        for i in picked]
    result.langs = list(options.langs) or list(dict.fromkeys([result.src_lang, "en"]))
    return result


def _source_language(doc: Document, src: str) -> str:
    return source_language(doc, src)


def _model_row(role: str, label: str, revision: str) -> dict:
    return {"role": role, "model": label, "revision": revision}


# --- translating the summary ------------------------------------------------------------------


def _add_translations(result: SummaryResult, loaded: SummaryModels) -> None:
    """Every requested language other than the summary's own, sentence by sentence.

    A language the user asked for must be there (its failure is the document's error); a default
    one that has no model becomes a note, and the summary is still given in the others.
    """
    for lang in [lang for lang in result.langs if lang != result.base_lang]:
        texts = [s.texts[result.base_lang] for s in result.sentences]
        try:
            targets, translator = translate_sentences(loaded.translators, texts, result.base_lang, lang)
        except TkError as err:
            if loaded.options.langs:
                raise
            result.langs.remove(lang)
            result.notes.append(f"no {lang} summary: {err}")
            continue
        for sentence, target in zip(result.sentences, targets):
            sentence.texts[lang] = target
        if texts:
            result.models.append(_model_row(f"translate {result.base_lang}-{lang}", translator.label, translator.revision))


def translate_sentences(translators: Translators, sentences: Sequence[str], src: str, tgt: str) -> tuple[list[str], Translator | None]:
    """Each sentence's translation through `tk translate`'s models and cache (same signature):
    a sentence over the model's input limit is split and its pieces' translations joined."""
    if not sentences:
        return [], None
    translator = translators.get(src, tgt)
    segments = [Segment(i, 0, text, "", kind="text" if LETTER.search(text) else "copy") for i, text in enumerate(sentences)]
    fitted = translator.fit(segments)
    unique = list(dict.fromkeys(s.text for s in fitted if s.kind == "text"))
    done = translator.translate_texts(unique, lambda n: None)
    joined = [""] * len(sentences)
    for s in fitted:
        target = done[s.text][0] if s.kind == "text" else s.text
        joined[s.para] += target + (" " if s.space_after else "")
    return [j.strip() for j in joined], translator


# --- output ------------------------------------------------------------------------------------


def render_text(result: SummaryResult) -> str:
    """The readable form printed on stdout: id, date and languages, title, how, then the sentences."""
    doc = result.document
    head = [result.doc_id]
    if doc is not None and doc.meta.get("date"):
        head.append(doc.meta["date"])
    head.append(f"{result.src_lang} → {', '.join(result.langs)}")
    lines = [" · ".join(head)]
    if doc is not None:
        lines.append(doc.title)
    lines += [f"({how(result)})", ""]
    for s in result.sentences:
        lines += [f"  [{lang}] {s.texts.get(lang, '')}" for lang in result.langs] + [""]
    return "\n".join(lines)


def how(result: SummaryResult) -> str:
    """One line on how the summary was made."""
    if result.method == "extractive":
        return f"extractive, {len(result.sentences)} central source sentences (TextRank)"
    model = next((m["model"] for m in result.models if m["role"] == SUMMARIZER), "?")
    return f"abstractive, {model}, {result.pieces} piece(s), {result.rounds} round(s)"


def render_markdown(result: SummaryResult) -> str:
    doc = result.document
    lines = [f"# Summary: {doc.title if doc else result.doc_id}", "", f"- **Document:** {result.doc_id} ({result.source_name})"]
    if doc is not None and doc.meta.get("date"):
        lines.append(f"- **Date:** {doc.meta['date']}")
    lines.append(f"- **Languages:** {result.src_lang} → {', '.join(result.langs)}")
    lines.append(f"- **Method:** {how(result)}")
    lines += [f"- **Model ({m['role']}):** {m['model']} (revision {m['revision']})" for m in result.models]
    lines += [f"- **Note:** {note}" for note in result.notes]
    lines += ["", "## Summary", ""]
    for n, s in enumerate(result.sentences, 1):
        where = f" *(¶{s.para + 1}, sentence {s.seg + 1})*" if s.para is not None else ""
        texts = [f"**{lang}** {s.texts.get(lang, '')}" for lang in result.langs]
        lines.append(f"{n}. " + "  \n   ".join(texts) + where)
    return "\n".join(lines) + "\n"


def write_summary(result: SummaryResult, out_dir: Path) -> list[Path]:
    """`<id>.summary.md` and `<id>.summary.json`, each written atomically."""
    from .writers import atomic_write

    md, js = out_dir / f"{result.doc_id}.summary.md", out_dir / f"{result.doc_id}.summary.json"
    result.outputs = [str(md), str(js)]
    atomic_write(md, render_markdown(result))
    atomic_write(js, json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return [md, js]
