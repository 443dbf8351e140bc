"""The summarize pipeline: documents in, short bilingual summaries out. No printing here.

Abstractive (the default): the document into English (translate.translate: same models, cache and
signature), packed into Pieces that fit the summarizer's input window (from the model, never a
constant), each summarized, then the joined summaries again until one Piece holds all (map-reduce;
each round must at least halve the text, MAX_ROUNDS a last guard), the summary translated back.
Extractive: the most central source sentences (extractive.py), no summarizer loaded. The model
service, the cache of summaries: docs/design.md#how-a-run-works
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cache import Cache, NoCache
from .documents import Document
from .errors import CacheError, DocumentError, DocumentFailed, RunAborted, TkError, UsageError
from .incidents import internal
from .language import language_warnings, source_language
from .options import DecodeOptions, RunOptions
from .segment import LETTER, Segment, segment_document, split_sentences, split_to_budget
from .translate import DocResult, glossing_hook, translate
from .translators import Progress, Summarizer, Translator, Translators, open_cache

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
    """'en, fr' -> ('en', 'fr'); None or '' -> () (the default languages). UsageError for a bad code."""
    from .language import check_language

    return tuple(dict.fromkeys(check_language(p, "--lang") for p in (spec or "").split(",") if p.strip()))


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
    error: TkError | None = None  # typed until the CLI turns it into words

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
            "seconds": self.seconds, "notes": self.notes, "outputs": self.outputs,
            "error": str(self.error) if self.error else None,
        }


# --- the models -------------------------------------------------------------------------------


class SummaryModels:
    """The models one run loads at most once each, all from one model service (translators.py):
    the summarizer and the translators (the document into English, the summary into the others)."""

    def __init__(self, options: SummaryOptions, decode: DecodeOptions, run: RunOptions, cache: Cache | NoCache,
                 progress: Progress | None = None, glossary=None):
        self.options, self.decode, self.run, self.cache = options, decode, run, cache
        self.progress = progress or Progress()
        self.translators = Translators(decode, run, cache, progress=self.progress, glossary=glossing_hook(glossary))

    def summarizer(self) -> Summarizer:
        """Settled from local files (signature, window); its model loads only for a summary not cached."""
        return self.translators.summarizer(self.options.summarizer or SUMMARIZER)


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


def map_reduce(paragraphs: Sequence[str], summarizer: Summarizer, bounds: tuple[int, int],
               progress: Progress | None = None) -> tuple[str, list[int]]:
    """Summarize Pieces, then their joined summaries, until one Piece holds all the text.

    Returns the summary and the number of Pieces of each round. A round that does not at least
    halve the text halves the next round's lengths, so even a random model ends. `progress`
    counts Pieces: the first round is the map step, the later ones the reduce steps.
    """
    progress = progress or Progress()
    rounds: list[int] = []
    while True:
        pieces = pack(paragraphs, summarizer.count, summarizer.window)
        progress.stage("summarizing" if not rounds else f"summarizing (reduce {len(rounds)})")
        progress.add_total(len(pieces))
        summaries = summarizer.summarize(pieces, bounds, advance=progress.advance)
        rounds.append(len(pieces))
        if len(pieces) <= 1:
            return (summaries[0] if summaries else ""), rounds
        if len(rounds) >= MAX_ROUNDS:
            raise SummaryFailed(f"{summarizer.label}: the summary did not fit one window after {MAX_ROUNDS} rounds")
        before = sum(summarizer.count(p) for p in pieces)
        paragraphs = [s for s in summaries if s.strip()]
        if summarizer.count("\n".join(paragraphs)) > before // 2:
            bounds = shrink(bounds)


def summarize_document(paragraphs: Sequence[str], summarizer: Summarizer, bounds: tuple[int, int],
                       progress: Progress | None = None) -> tuple[str, list[int]]:
    """map_reduce, remembered whole: the document's English text -> (summary, Pieces per round) in
    the cache under the summarizer's signature with `scope:document`. A hit needs no tokenizer
    (packing Pieces counts tokens), so a re-run loads no model at all."""
    key = summarizer.signature_for(bounds, scope="document").key
    text = "\n\n".join(paragraphs)
    found = summarizer.cache.get_many(key, [text]).get(text)
    if found is not None:
        try:
            remembered = json.loads(found[0])
            return str(remembered["summary"]), [int(n) for n in remembered["rounds"]]
        except (ValueError, KeyError, TypeError):
            pass  # not ours (an older layout): summarize again, and store it anew
    summary, rounds = map_reduce(paragraphs, summarizer, bounds, progress)
    blob = json.dumps({"summary": summary, "rounds": rounds}, ensure_ascii=False)
    summarizer.cache.put_many(key, TASK, summarizer.label, [(text, blob, "model", None)])
    return summary, rounds


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
    progress: Progress | None = None,
    glossary=None,
) -> Iterator[SummaryResult]:
    """Summarize documents; yields one SummaryResult per input, in input order.

    `decode` are the translation settings: keep them as for `tk translate` to reuse its cache.
    `progress` counts the translation's segments, then each round's Pieces (map, reduce).
    """
    options = (options or SummaryOptions()).check()
    decode, run, progress = decode or DecodeOptions(), run or RunOptions.from_env(), progress or Progress()
    cache = open_cache(run)
    loaded = SummaryModels(options, decode, run, cache, progress, glossary)
    try:
        if options.method == "extractive":
            yield from (_summarize_one(_extractive, doc, loaded) for doc in documents)
        elif (missing := _summarizer_error(loaded)) is not None:  # say so now, not after translating it all
            yield from (_failed(doc, missing) for doc in documents)
        else:
            for translated in translate(documents, "en", src=options.src, progress=progress,
                                        translators=loaded.translators):
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
        return SummaryResult(doc.path, doc.path, error=doc)
    return SummaryResult(doc.id, doc.source_name, doc, error=DocumentFailed.of(doc.source_name, err))


def _summarize_one(step, item, loaded: SummaryModels) -> SummaryResult:
    """One document's steps; a TkError becomes its result's error, and the other documents go on."""
    started = time.perf_counter()
    try:
        result = step(item, loaded)
        if not result.error:
            try:
                _add_translations(result, loaded)
            except TkError as err:
                result.error = _message(result, err)
    except (CacheError, RunAborted):
        raise
    except Exception as err:  # unforeseen: this document alone fails (incidents.py)
        result = _unforeseen(item, err)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _unforeseen(item, err: Exception) -> SummaryResult:
    if isinstance(item, DocResult):
        doc_id, name, doc = item.doc_id, item.source_name, item.document
    elif isinstance(item, DocumentError):
        doc_id, name, doc = item.path, item.path, None
    else:
        doc_id, name, doc = item.id, item.source_name, item
    return SummaryResult(doc_id, name, doc, error=internal(err, "summarizing", name))


def _message(result: SummaryResult, err: TkError) -> TkError:
    """The error for this document, as `tk translate` reports it: `<document>: <problem>`.
    A cache error is no document's: it stops the run, said once."""
    if isinstance(err, CacheError):
        raise err
    return DocumentFailed.of(result.source_name, err)


def _abstractive(translated: DocResult, loaded: SummaryModels) -> SummaryResult:
    options = loaded.options
    result = SummaryResult(translated.doc_id, translated.source_name, translated.document, "abstractive",
                           options.length, translated.src_lang, "en", error=translated.error)
    if result.error:
        return result
    result.notes += language_warnings(translated.document)  # --from contradicted by the text
    if translated.model:
        result.models.append(_model_row(f"translate {translated.src_lang}-en", translated.model, translated.revision,
                                        translated.signature, translated.tier))
    paragraphs = english_paragraphs(translated)
    try:
        if not any(s.kind == "text" for s in translated.segments):
            raise DocumentError(translated.source_name, "no sentences to summarize")
        summarizer = loaded.summarizer()
        result.bounds = length_bounds(options.length, summarizer.window)
        summary, result.pieces_per_round = summarize_document(paragraphs, summarizer, result.bounds, loaded.progress)
    except TkError as err:
        result.error = _message(result, err)
        return result
    result.models.append(_model_row(SUMMARIZER, summarizer.label, summarizer.revision,
                                    summarizer.signature_for(result.bounds).text))
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
        return SummaryResult(doc.path, doc.path, error=doc)
    options = loaded.options
    result = SummaryResult(doc.id, doc.source_name, doc, "extractive", options.length)
    result.src_lang = result.base_lang = source_language(doc, options.src, loaded.cache)
    result.notes += language_warnings(doc)  # --from contradicted by the text
    segments = [s for s in segment_document(doc, result.src_lang) if s.kind == "text"]
    if not segments:
        result.error = DocumentError(doc.source_name, "no sentences to summarize")
        return result
    picked = central_sentences([s.text for s in segments], SENTENCES[options.length])
    result.sentences = [SummarySentence({result.src_lang: segments[i].text}, segments[i].para, segments[i].seg)
                        for i in picked]
    result.langs = list(options.langs) or list(dict.fromkeys([result.src_lang, "en"]))
    return result


def _model_row(role: str, label: str, revision: str, signature: str = "", tier: str | None = None) -> dict:
    """A model the summary used; `tier`: a translation model's quality tier (--quality)."""
    return {"role": role, "model": label, "revision": revision, "signature": signature, "tier": tier}


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
            if loaded.options.langs or isinstance(err, CacheError):
                raise
            result.langs.remove(lang)
            result.notes.append(f"no {lang} summary: {err}")
            continue
        for sentence, target in zip(result.sentences, targets):
            sentence.texts[lang] = target
        if texts:
            result.models.append(_model_row(f"translate {result.base_lang}-{lang}", translator.label, translator.revision,
                                            translator.signature_text, translator.tier))


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
    lost = next((t.error for t in done.values() if t.error), None)
    if lost is not None:  # a sentence the model could not take even alone
        raise lost
    for s in fitted:
        target = done[s.text].target if s.kind == "text" else s.text
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
    """The summary as Markdown; every text from the document or the run is escaped (writers.md.text)."""
    from .writers.md import text

    doc = result.document
    lines = [f"# Summary: {text(doc.title if doc else result.doc_id)}", "",
             f"- **Document:** {text(result.doc_id)} ({text(result.source_name)})"]
    if doc is not None and doc.meta.get("date"):
        lines.append(f"- **Date:** {text(doc.meta['date'])}")
    lines.append(f"- **Languages:** {text(result.src_lang)} → {text(', '.join(result.langs))}")
    lines.append(f"- **Method:** {text(how(result))}")
    lines += [f"- **Model ({text(m['role'])}):** {text(m['model'])} (revision {text(m['revision'])}"
              + (f", {text(m['tier'])} tier)" if m.get("tier") else ")")
              + (f", `{m['signature']}`" if m.get("signature") else "") for m in result.models]
    lines += [f"- **Note:** {text(note)}" for note in result.notes]
    lines += ["", "## Summary", ""]
    for n, s in enumerate(result.sentences, 1):
        where = f" *(¶{s.para + 1}, sentence {s.seg + 1})*" if s.para is not None else ""
        texts = [f"**{text(lang)}** {text(s.texts.get(lang, ''))}" for lang in result.langs]
        lines.append(f"{n}. " + "  \n   ".join(texts) + where)
    return "\n".join(lines) + "\n"


def write_summary(result: SummaryResult, out_dir: Path) -> list[Path]:
    """`<id>.summary.md` and `<id>.summary.json`, each written atomically."""
    from .writers import atomic_write, output_path

    md, js = output_path(out_dir, f"{result.doc_id}.summary.md"), output_path(out_dir, f"{result.doc_id}.summary.json")
    result.outputs = [str(md), str(js)]
    atomic_write(md, render_markdown(result))
    atomic_write(js, json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return [md, js]
