"""The one place the server touches the library: models, cache, segmentation, detection, reading.

The server runs the `tk translate` pipeline through this adapter (same segmentation, cache and
signature), so a move in the library is one place to re-point (docs/design.md#tk-serve).
Threads: a Service is created and used by one thread only (the batcher's worker): the cache's
SQLite connection belongs to the thread that opened it. `detect`, `languages` and `read_upload`
are plain functions any thread may call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import models
from ..documents import Document, make_document
from ..errors import TkError
from ..options import DecodeOptions, RunOptions
from ..segment import Segment, iter_segments
from ..translate import glossing_hook
from ..translators import PIVOT, Translation, Translators, fill, fill_copy, open_cache

PLAIN_SUFFIXES = (".txt", ".md")  # read as text, markup and all, and answered in the same format
HUB_REPO = re.compile(r"models--Helsinki-NLP--opus-mt-([a-z]{2,3})-([a-z]{2,3})")

# English names for the /languages list (LibreTranslate gives names); a code not here is its own name.
NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}



@dataclass
class Piece:
    """One request text, segmented: what the batcher translates and assembles."""

    segments: list[Segment]
    others: dict[str, list[str]] = field(default_factory=dict)  # alternatives per sentence, when asked

    def texts(self) -> list[str]:
        return [s.text for s in self.segments if s.kind == "text"]

    def fill(self, done: dict[str, Translation]) -> None:
        for s in self.segments:
            if s.kind == "text":
                fill(s, done[s.text])
            elif s.kind == "copy":
                fill_copy(s)
            else:
                s.target = s.source

    def text(self, others: dict[str, list[str]] | None = None, rank: int = 0) -> str:
        """The translation, with the source's whitespace between sentences (as the txt writer);
        with `others`, each sentence's `rank`-th alternative where it has one."""
        out = []
        for s in self.segments:
            lead = s.source[: len(s.source) - len(s.source.lstrip())]
            mine = others.get(s.text, []) if others and s.kind == "text" else []
            out.append(lead + (mine[rank] if rank < len(mine) else s.target) + s.space_after)
        return "".join(out)

    def verdict(self, src: str, tgt: str) -> dict:
        """`checks=true`: the text's verdict (its worst sentence's), every finding with the number
        of its sentence, its lowest model score, and each sentence's own (checks.assess_segments)."""
        from ..checks import assess_segments
        from ..checks.base import worst

        assess_segments(self.segments, src, tgt)
        sentences = [{"source": s.text, "target": s.target.strip(), "verdict": s.verdict, "checks": s.checks,
                      "score": s.score} for s in self.segments if s.kind != "meta"]
        scores = [s["score"] for s in sentences if s["score"] is not None]
        return {"verdict": worst("ok", *(s["verdict"] for s in sentences)),
                "checks": [{**c, "sentence": i} for i, s in enumerate(sentences) for c in s["checks"]],
                "score": min(scores, default=None), "sentences": sentences}

    def alternatives(self, others: dict[str, list[str]], n: int) -> list[str]:
        """Up to `n` other translations of the whole text, as LibreTranslate gives them: the k-th
        joins each sentence's k-th alternative (its best where it has fewer)."""
        best, found = self.text(), []
        for rank in range(n):
            if not any(rank < len(others.get(s.text, [])) for s in self.segments if s.kind == "text"):
                break
            text = self.text(others, rank)
            if text != best and text not in found:
                found.append(text)
        return found


class Service:
    """Models (one per language pair, loaded once), the cache, and the pipeline steps."""

    def __init__(self, decode: DecodeOptions, run: RunOptions, glossary=None):
        self.cache = open_cache(run)
        self.translators = Translators(decode, run, self.cache, glossary=glossing_hook(glossary))

    def translator(self, src: str, tgt: str):
        """The model service for a pair (a pivot through English when there is no direct model)."""
        return self.translators.get(src, tgt)

    def segment(self, translator, text: str, src: str) -> Piece:
        """Sentences of one request text, fitted to the model's input budget. No ` date ` marker:
        a request is text, not a document with metadata."""
        segments = list(iter_segments(Document("request", text), src))
        return Piece(translator.fit(segments) if any(s.kind == "text" for s in segments) else segments)

    def translate(self, translator, texts: list[str], advance=lambda n: None) -> dict[str, Translation]:
        """Unique texts -> Translation: reviewed, cached, else the model (and stored); `advance`
        is told each batch's count as it is stored (and may raise to stop the work)."""
        return translator.translate_texts(texts, advance)

    def alternatives(self, translator, done: dict[str, Translation], n: int) -> dict[str, list[str]]:
        """Up to `n` other translations of each text of `done` (its served translation left out):
        the next hypotheses of the beam, from the model (they are not cached; the best one is).
        Through a pivot, the second model's alternatives for the first one's English."""
        from ..runtime.engine import plan_batches

        first, last = (translator.first, translator.second) if hasattr(translator, "second") else (None, translator)
        texts = [t for t, found in done.items() if found.origin != "copy"]
        sources = texts
        if first is not None:  # the English each text went through, from the cache the translation filled
            english = first.translate_texts(texts, lambda n: None)
            sources = [english[t].target for t in texts]
        engine, k = last.engine, n + 1
        counted = engine.count_tokens(sources)
        fits = [i for i, length in enumerate(counted) if length <= engine.max_input_tokens]
        others: dict[str, list[str]] = {}
        for batch in plan_batches([counted[i] for i in fits], engine.budget, max(engine.beams, k)):
            picked = [fits[j] for j in batch]
            for i, found in zip(picked, engine.hypotheses([sources[i] for i in picked], k)):
                served = done[texts[i]].target
                others[texts[i]] = [h for h in dict.fromkeys(found) if h != served][:n]
        return others

    @staticmethod
    def count_tokens(translator, texts: list[str]) -> int:
        """Input tokens of `texts` when the model is loaded, else an estimate (4 characters a token)."""
        first = getattr(translator, "first", translator)
        engine = first._engine
        if hasattr(engine, "count_tokens") and texts:
            return sum(engine.count_tokens(texts))
        return sum(len(t) // 4 + 1 for t in texts)

    def close(self) -> None:
        self.cache.close()


# --- any thread -------------------------------------------------------------------------------


def served_pairs() -> set[tuple[str, str]]:
    """Direct pairs this machine can serve with no download: lock entries present in the local
    cache, and conventional OPUS-MT repos found there."""
    lock = models.load_lock()
    pairs = set()
    for name in dict.fromkeys(entry.pair for entry in lock.values() if entry.pair):  # fr-en and fr-en.big: fr-en
        match = models.PAIR.fullmatch(name)
        if match and models.direct_available(*match.groups(), lock=lock):
            pairs.add(match.groups())
    hub = models.hub_cache_dir()
    for folder in hub.glob("models--Helsinki-NLP--opus-mt-*") if hub.is_dir() else []:
        match = HUB_REPO.fullmatch(folder.name)
        if match and match.groups() not in pairs and models.direct_available(*match.groups(), lock=lock):
            pairs.add(match.groups())
    return pairs


def languages() -> list[dict]:
    """[{code, name, targets}] with pivots through English: src -> en -> tgt counts."""
    direct = served_pairs()
    targets: dict[str, set[str]] = {}
    for src, tgt in direct:
        targets.setdefault(src, set()).add(tgt)
    for src, tgt in direct:
        if tgt == PIVOT:
            targets[src].update(t for s, t in direct if s == PIVOT and t != src)
    codes = sorted(set(targets) | {t for ts in targets.values() for t in ts})
    return [{"code": c, "name": NAMES.get(c, c), "targets": sorted(targets.get(c, ()))} for c in codes]


def detect(text: str, among: set[str] | None = None, top: int = 3) -> list[dict]:
    """[{language, confidence}] best first, restricted to `among` when it names any (a server only
    detects what it can translate). Confidence as LibreTranslate gives it: 0-100, the probability
    among the languages served (its detector knows only those), not among py3langid's 97, where a
    clear short "Hello" would score 2 and a client's threshold would drop it."""
    from ..language import rank_languages

    ranked = rank_languages(text)
    if among:
        ranked = [r for r in ranked if r[0] in among] or ranked
    total = sum(float(p) for _, p in ranked) or 1.0  # LibreTranslate's meaning: among the languages it serves
    return [{"language": lang, "confidence": round(float(p) / total * 100, 1)} for lang, p in ranked[:top]]


def file_suffixes() -> tuple[str, ...]:
    """What /translate_file takes: every format `tk translate` reads (readers/)."""
    from ..readers import suffixes

    return tuple(dict.fromkeys((*PLAIN_SUFFIXES, *suffixes())))


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may expand to once read: a 500 KB DOCX can hold 200 MB of text."""

    expanded: int = 50_000_000  # bytes out of a zip container (DOCX, EPUB), counted while inflating
    parts: int = 2_000  # members of a zip container
    chars: int = 500_000  # characters of text read from it


class UploadTooLarge(TkError):
    """An upload that expands past UploadLimits: the server answers 413."""


def read_upload(path: Path, name: str, limits: UploadLimits = UploadLimits()) -> Document:
    """An uploaded file (stored under a private name; `name` is the client's, used only for its
    extension), read as `tk translate` reads files: plain text decoded, any other format (HTML,
    PDF, DOCX, Markdown, ...) through its reader, under `limits`. Raises TkError; UploadTooLarge
    past a limit."""
    from ..readers import choose

    raw = path.read_bytes()
    reader, _ = choose(name, raw[:8192])
    if raw[:4] == b"PK\x03\x04":
        check_container(raw, name, limits)
    if reader.name == "txt":
        if len(raw) > 4 * limits.chars:  # UTF-8 takes at most 4 bytes a character: over the limit unread
            raise UploadTooLarge(f"more than {limits.chars} characters of text (the limit)")
        doc = make_document(raw, name, "upload", None)
    else:
        doc = make_document(path if reader.name == "pdf" else raw, name, "upload", None, reader)
    if len(doc.text) > limits.chars:
        raise UploadTooLarge(f"{len(doc.text)} characters of text (the limit is {limits.chars})")
    return doc


def check_container(raw: bytes, name: str, limits: UploadLimits) -> None:
    """A zip container refused while it inflates past `limits` (readers/_zip.py, the check every
    zip-based reader makes, here with the server's own, smaller limits)."""
    from ..readers._zip import ArchiveTooLarge, Limits, check_archive  # zipfile: only for a zip upload

    try:
        check_archive(raw, name, "upload", Limits(total=limits.expanded, members=limits.parts))
    except ArchiveTooLarge as err:  # too much, not damaged: 413
        raise UploadTooLarge(err.problem) from None


@dataclass
class Answer:
    """A translated file: its content, download name and media type."""

    data: str | bytes
    name: str
    media_type: str


MEDIA_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8", "srt": "text/plain; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def media_type(name: str, encoding: str | None = None) -> str:
    """The media type of a file by its name's extension (a same-language upload answered as is),
    a text type with the `encoding` its bytes were read in."""
    import mimetypes

    ext = Path(name).suffix.lower().lstrip(".")
    found = MEDIA_TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0] or "application/octet-stream"
    if found.startswith("text/"):
        return f"{found.split(';')[0]}; charset={encoding or 'utf-8'}"
    return found


def translated_file(doc: Document, piece: Piece, name: str, lang: str) -> Answer:
    """The upload translated into its own format where `tk translate --format native` writes one
    (HTML, DOCX, Markdown, subtitles: the reader rebuilds it, markup and styles kept, as LibreTranslate
    answers a file in its own format); else the translation as text, `<stem>.txt` (a PDF, whose text
    layer cannot be written back; plain text keeps its name)."""
    from ..readers import available

    reader = available().get(doc.format) if doc.blocks is not None else None
    if reader is not None and reader.native_ext:
        translations: dict[int, list[tuple[str, str, str]]] = {}
        for s in piece.segments:
            if s.kind != "meta":
                translations.setdefault(s.para, []).append((s.source, s.space_after, s.target))
        data = reader.rebuild(doc, translations, lang)
        return Answer(data, f"{Path(name).stem or 'document'}.{reader.native_ext}", MEDIA_TYPES.get(reader.native_ext, "application/octet-stream"))
    text = piece.text()
    plain = Path(name).suffix.lower() in PLAIN_SUFFIXES
    return Answer(text if text.endswith("\n") else text + "\n", name if plain else f"{Path(name).stem or 'document'}.txt",
                  "text/plain; charset=utf-8")


class HtmlRequest:
    """`format=html`: a fragment or a page, its text translated block by block (readers/html.py
    text_blocks: a block is a sentence's whole context, its inline links and emphasis restored on
    the translation as in the translated copy of a page), all markup, scripts, styles and code kept."""

    def __init__(self, text: str):
        import lxml.html
        from lxml import etree

        from ..readers.html import DOCTYPE, PAGE_START, text_blocks

        self.source = text
        self.page = bool(PAGE_START.match(text.encode("utf-8", "surrogatepass")[:4096]))
        self.root, self.blocks = None, []
        if not text.strip():
            return
        try:
            self.root = (lxml.html.document_fromstring(text) if self.page
                         else lxml.html.fragment_fromstring(text, create_parent="div"))
        except (etree.ParserError, ValueError) as err:
            raise TkError(f"not readable HTML ({err})") from None
        doctype = DOCTYPE.search(text[:4096])
        self.doctype = doctype.group() if doctype and self.page else ""
        self.blocks = text_blocks(self.root)

    def texts(self) -> list[str]:
        return [block.text for _, block in self.blocks]

    def answer(self, pieces: list) -> str:
        """The HTML with each block's translation (`pieces`, one per text of texts())."""
        import lxml.html

        from ..readers.html import unwrap_runs, write_block

        if not self.blocks:
            return self.source
        for (el, block), piece in zip(self.blocks, pieces):
            write_block(el, block, [(s.source, s.space_after, s.target) for s in piece.segments])
        unwrap_runs(self.root)
        if not self.page:  # the wrapper's serialisation, less its own tags: top-level text escaped as any text
            whole = lxml.html.tostring(self.root, encoding="unicode")
            return whole[len("<div>"):-len("</div>")]
        page = lxml.html.tostring(self.root, encoding="unicode")
        return f"{self.doctype}\n{page}" if self.doctype else page


__all__ = ["PLAIN_SUFFIXES", "Answer", "HtmlRequest", "Piece", "translated_file", "file_suffixes", "Service", "TkError", "detect", "languages", "read_upload", "served_pairs", "UploadLimits", "UploadTooLarge"]
